// Faults on demand: a seeded, scriptable plan of what goes wrong in the module, so that the
// firmware can be tested against every misbehaviour the wire can show, reproducibly.
//
//   new FaultPlan([
//     { at: "AT+QIOTOTARD", nth: 3, action: { kind: "no-reply" } },          // 3rd read: silence
//     { at: "AT+QIOTOTARD=2048", action: { kind: "lie-length", by: 5 } },    // header says +5
//     { at: "AT+QIOTOTARD", probability: 0.1, count: Infinity, action: { kind: "error" } },
//     { afterMs: 1500, action: { kind: "reboot" } },                          // reboot at t=1.5 s
//   ], seed)
//
// Command rules match the command line by prefix, case-insensitively, and count matching
// commands from 1. Byte-level faults (drop, corrupt, duplicate) belong to the line, not the
// module: see sim/link/uart-line.ts.

import { Rng } from "../lib/rng"

export type FaultAction =
    /** The command is lost: not executed, nothing comes back but its echo. */
    | { kind: "no-reply" }
    /** `ERROR` instead of executing the command. */
    | { kind: "error" }
    /** Executed, but the reply comes `ms` later (beyond the MCU's timeout: a late reply). */
    | { kind: "delay"; ms: number }
    /** A payload header announces `by` bytes more (negative: fewer) than are sent. */
    | { kind: "lie-length"; by: number }
    /** A payload reply carries only its first `bytes` bytes, honestly announced (legal: fewer than asked). */
    | { kind: "short-read"; bytes: number }
    /** The module resets on receiving the command, before executing it. */
    | { kind: "reboot" }
    /** The payload of the reply stops after `afterBytes` bytes and the module resets. */
    | { kind: "reboot-mid-payload"; afterBytes: number }
    /** `count` unrelated URCs arrive just before the reply. */
    | { kind: "urc-burst"; count: number }
    /** The cloud connection drops right after the reply: an active plan fails with 10706. */
    | { kind: "cloud-loss" }
    /** The package the module delivers has a byte flipped (at `offset`, or a seeded one): its
     *  bytes no longer match the MD5/CRC/SHA-256 announced in 10701. Applies to the active
     *  plan, or to the next one if none is active. */
    | { kind: "bad-package"; offset?: number }

export interface FaultRule {
    /** Command prefix, case-insensitive ("AT+QIOTOTARD", "AT+QIOTOTARD=2048,"). */
    at?: string
    /** The first matching command affected, counted from 1. Default 1. */
    nth?: number
    /** How many matching commands from the nth are affected. Default 1; Infinity: all of them. */
    count?: number
    /** Instead of nth/count: each matching command is affected with this probability (seeded). */
    probability?: number
    /** A time trigger instead of a command: fires once, this long after the module was created. */
    afterMs?: number
    action: FaultAction
}

export interface FiredFault {
    rule: number
    command: string
    action: FaultAction
}

export class FaultPlan {
    readonly rules: FaultRule[]
    /** Every fault that fired, in order: what a test or the CLI can print. */
    readonly fired: FiredFault[] = []
    private matches: number[]
    private rng: Rng

    constructor(rules: FaultRule[] = [], seed = 1) {
        this.rules = rules.slice()
        this.matches = this.rules.map(() => 0)
        this.rng = new Rng(seed)
        for (const r of this.rules) {
            if (r.at === undefined && r.afterMs === undefined) throw new Error("fault rule needs `at` or `afterMs`")
        }
    }

    /** Add a rule while running (a test can script a fault at a moment of its choosing). */
    add(rule: FaultRule) {
        this.rules.push(rule)
        this.matches.push(0)
    }

    /** The faults that apply to this command line, in rule order. */
    forCommand(line: string): FaultAction[] {
        const out: FaultAction[] = []
        const upper = line.toUpperCase()
        for (let i = 0; i < this.rules.length; i++) {
            const r = this.rules[i]
            if (r.at === undefined || !upper.startsWith(r.at.toUpperCase())) continue
            const n = ++this.matches[i]
            let hit: boolean
            if (r.probability !== undefined) hit = this.rng.chance(r.probability)
            else {
                const first = r.nth === undefined ? 1 : r.nth
                const count = r.count === undefined ? 1 : r.count
                hit = n >= first && n < first + count
            }
            if (hit) {
                this.fired.push({ rule: i, command: line, action: r.action })
                out.push(r.action)
            }
        }
        return out
    }

    /** Rules with a time trigger: [index, rule]. */
    timed(): [number, FaultRule][] {
        const out: [number, FaultRule][] = []
        this.rules.forEach((r, i) => {
            if (r.afterMs !== undefined && r.at === undefined) out.push([i, r])
        })
        return out
    }

    noteTimed(index: number) {
        this.fired.push({ rule: index, command: "", action: this.rules[index].action })
    }

    /** A seeded integer in [0, n) for faults that need a position. */
    pick(n: number): number {
        return this.rng.int(n)
    }

    /** Seeded choice, for the URC burst. */
    choose<T>(items: readonly T[]): T {
        return this.rng.pick(items)
    }
}
