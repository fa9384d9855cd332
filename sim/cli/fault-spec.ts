// `--fault SPEC`: one fault per spec, parsed strictly into where it acts (the module, the UART,
// the flash, the application's self-test); anything the grammar does not name is a usage error.
// FaultRun applies them during a run: it keeps every power cut (the NOR model holds one armed cut
// at a time, so the next one is armed when the power comes back) and tells which specs fired.
// The grammar is FAULT_USAGE below (also in --help).

import type { FaultRule, FaultPlan } from "../module/faults"
import type { ScriptedByteFault, ByteFaultRates, UartLine } from "../link/uart-line"
import type { CutKind, NorFlash } from "../flash/nor-flash"
import type { SotaProgress } from "../../src/sota/progress"
import { UsageError } from "./usage-error"

export const FAULT_USAGE = `faults (--fault SPEC, repeatable; each is armed as written, anything else is refused):
  cut@block=N[:before|after|torn]   power cut at the flash write of download block N (from 0; default torn)
  cut@op=N[:before|after|torn]      power cut at the N-th flash program/erase of the run (from 1)
  reboot@block=N                    the module reboots in the middle of its reply to block N
  lie@block=N                       the reply header to block N claims 5 bytes more than follow
  cloud-loss@block=N                the platform connection drops at block N (the plan fails, 10706)
  drop@byte=N | corrupt@byte=N | dup@byte=N     one byte of the module → MCU stream (from 0)
  drop@rate=P | corrupt@rate=P | dup@rate=P     seeded byte faults, probability per byte (0 < P < 1)
  error@CMD[:N] | timeout@CMD[:N]   ERROR or no reply to the N-th command (from 1, default 1) that
                                    starts with CMD, e.g. error@AT+QIOTUPDATE=3 (CMD has no ':')
  bad-digest                        the delivered bytes do not match the announced MD5/SHA-256
  self-test-fail                    the new image fails its self-test (rolled back)
  A fault that never fired is a warning and listed in the summary (faultsNotFired).`

type Common = { text: string }
export type FaultSpec = Common &
    (
        | { kind: "cut-block"; block: number; cut: CutKind }
        | { kind: "cut-op"; op: number; cut: CutKind }
        | { kind: "module"; rule: (block: number) => FaultRule }
        | { kind: "byte"; fault: ScriptedByteFault }
        | { kind: "rate"; rates: ByteFaultRates }
        | { kind: "self-test-fail" }
    )

const MAX_INT = 2 ** 31 - 1

function bad(spec: string, why: string): never {
    throw new UsageError(`--fault ${spec}: ${why} (see --help)`)
}

function num(spec: string, v: string, min: number): number {
    if (!/^\d{1,10}$/.test(v ?? "") || Number(v) > MAX_INT) bad(spec, `"${v ?? ""}" is not a whole number`)
    const n = Number(v)
    if (n < min) bad(spec, `${n} is below ${min} (counted from ${min})`)
    return n
}

/** `key=value` after the @, e.g. "block=3" → ["block", "3"]. */
function target(spec: string, t: string, keys: string[]): [string, string] {
    const eq = t.indexOf("=")
    const k = eq < 0 ? "" : t.slice(0, eq)
    if (!keys.includes(k)) bad(spec, `expected ${keys.map(x => `${x}=${x === "rate" ? "P" : "N"}`).join(" or ")}`)
    return [k, t.slice(eq + 1)]
}

export function parseFault(spec: string): FaultSpec {
    const at = spec.indexOf("@")
    const kind = at < 0 ? spec : spec.slice(0, at)
    const rest = at < 0 ? null : spec.slice(at + 1)
    const parts = rest === null ? [] : rest.split(":")
    const [where, arg] = parts
    const maxParts = (n: number) => {
        if (parts.length > n) bad(spec, `unexpected ":${parts.slice(n).join(":")}"`)
    }
    const none = () => {
        if (rest !== null) bad(spec, `${kind} takes nothing after it`)
    }
    const readAt = (block: number, b: number) => `AT+QIOTOTARD=${block * b},`
    const t = { text: spec }
    switch (kind) {
        case "cut": {
            maxParts(2)
            const [k, v] = target(spec, where ?? "", ["block", "op"])
            if (arg !== undefined && arg !== "before" && arg !== "after" && arg !== "torn") bad(spec, "the cut is before, after or torn")
            const cut: CutKind = (arg as CutKind) ?? "torn"
            if (k === "block") return { ...t, kind: "cut-block", block: num(spec, v, 0), cut }
            return { ...t, kind: "cut-op", op: num(spec, v, 1), cut }
        }
        case "reboot":
        case "lie":
        case "cloud-loss": {
            maxParts(1)
            const n = num(spec, target(spec, where ?? "", ["block"])[1], 0)
            if (kind === "reboot") return { ...t, kind: "module", rule: b => ({ at: readAt(n, b), action: { kind: "reboot-mid-payload", afterBytes: Math.floor(b / 3) } }) }
            if (kind === "lie") return { ...t, kind: "module", rule: b => ({ at: readAt(n, b), action: { kind: "lie-length", by: 5 } }) }
            return { ...t, kind: "module", rule: b => ({ at: readAt(n, b), action: { kind: "cloud-loss" } }) }
        }
        case "drop":
        case "corrupt":
        case "dup": {
            maxParts(1)
            const [k, v] = target(spec, where ?? "", ["byte", "rate"])
            const action = kind === "dup" ? "duplicate" : kind
            if (k === "byte") return { ...t, kind: "byte", fault: { dir: "to-mcu", index: num(spec, v, 0), action } }
            const p = /^(\d*\.\d+|\d+)(e-?\d+)?$/i.test(v) ? Number(v) : NaN
            if (!(p > 0 && p < 1)) bad(spec, "the rate is a probability between 0 and 1, e.g. 0.001")
            return { ...t, kind: "rate", rates: { [action]: p } }
        }
        case "error":
        case "timeout": {
            maxParts(2)
            if (!where || !/^AT[\x21-\x7e]*$/i.test(where)) bad(spec, `name the command, e.g. ${kind}@AT+QIOTUPDATE=1`)
            const nth = arg === undefined ? 1 : num(spec, arg, 1)
            return { ...t, kind: "module", rule: () => ({ at: where, nth, action: { kind: kind === "error" ? "error" : "no-reply" } }) }
        }
        case "bad-digest":
            none()
            return { ...t, kind: "module", rule: () => ({ afterMs: 0, action: { kind: "bad-package" } }) }
        case "self-test-fail":
            none()
            return { ...t, kind: "self-test-fail" }
        default:
            return bad(spec, `unknown fault "${kind}"`)
    }
}

/** Faults that cannot all be armed as written (one cut per operation, one fault per byte): a usage error. */
export function checkFaults(faults: FaultSpec[]) {
    const seen = new Map<string, string>()
    const claim = (key: string, f: FaultSpec, what: string) => {
        const other = seen.get(key)
        if (other !== undefined) throw new UsageError(`--fault ${other} and --fault ${f.text}: ${what}`)
        seen.set(key, f.text)
    }
    for (const f of faults) {
        if (f.kind === "cut-op") claim(`op ${f.op}`, f, `two power cuts at flash operation ${f.op}`)
        else if (f.kind === "cut-block") claim(`block ${f.block}`, f, `two power cuts at block ${f.block}`)
        else if (f.kind === "byte") claim(`byte ${f.fault.index}`, f, `two faults on byte ${f.fault.index}`)
        else if (f.kind === "rate") claim(`rate ${Object.keys(f.rates)[0]}`, f, "two rates for one byte fault")
        else claim(`spec ${f.text}`, f, "the same fault twice")
    }
}

/** What FaultRun needs of the simulated device (SimDevice has it). */
export interface FaultDevice {
    flash: NorFlash
    module?: { faults: FaultPlan }
    line?: UartLine | null
}

interface Cut {
    spec: FaultSpec
    /** the flash operation of the run it lands on (block cuts: known once the block comes) */
    op: number
    kind: CutKind
    at?: number
}

export class FaultRun {
    private pending: Cut[] = []
    private blocks: Extract<FaultSpec, { kind: "cut-block" }>[]
    private armed: Cut | null = null
    private fired = new Set<FaultSpec>()
    private selfTestRan = false
    /** the module's rules are the module specs, in order (world.ts builds them so) */
    private ruleOf = new Map<FaultSpec, number>()

    /** Call after the flash's counters are reset: cut@op=N counts from there. */
    constructor(
        readonly specs: FaultSpec[],
        private d: FaultDevice,
        private o: { block: number; seed: number }
    ) {
        for (const f of specs) if (f.kind === "cut-op") this.pending.push({ spec: f, op: f.op, kind: f.cut })
        this.blocks = specs.filter(f => f.kind === "cut-block") as FaultRun["blocks"]
        specs.filter(f => f.kind === "module").forEach((f, i) => this.ruleOf.set(f, i))
        this.arm()
    }

    /** Every progress event of the run: cut@block=N is armed when block N's write comes next. */
    progress(p: SotaProgress) {
        if (p.state === "self-test") this.selfTestRan = true
        if (p.state !== "downloading") return
        const i = this.blocks.findIndex(b => p.bytes === b.block * this.o.block)
        if (i < 0) return
        // lands on the next flash operation: the block's erase or program
        this.pending.push({ spec: this.blocks[i], op: this.d.flash.ops + 1, kind: this.blocks[i].cut, at: 0.5 })
        this.blocks.splice(i, 1)
        this.arm()
    }

    /** Power back on after a cut (instead of flash.powerOn()): the next cut is armed. */
    powerOn() {
        this.noteCut()
        this.d.flash.powerOn() // drops the armed cut; arm() arms it again unless it fired
        if (this.armed && this.fired.has(this.armed.spec)) this.armed = null
        this.arm()
    }

    /** The specs that fired and those that did not, as written. */
    report(): { faultsFired: string[]; faultsNotFired: string[] } {
        this.noteCut()
        const plan = this.d.module?.faults
        const applied = this.d.line?.applied ?? []
        const fired = (f: FaultSpec): boolean => {
            if (this.fired.has(f)) return true
            switch (f.kind) {
                case "module":
                    return !!plan && plan.fired.some(x => x.rule === this.ruleOf.get(f))
                case "byte":
                    return applied.some(a => a.dir === f.fault.dir && a.index === f.fault.index && a.action === f.fault.action)
                case "rate": {
                    const action = Object.keys(f.rates)[0]
                    const scripted = (i: number) => this.specs.some(s => s.kind === "byte" && s.fault.index === i)
                    return applied.some(a => a.dir === "to-mcu" && a.action === action && !scripted(a.index))
                }
                case "self-test-fail":
                    return this.selfTestRan
                default:
                    return false
            }
        }
        const out = { faultsFired: [] as string[], faultsNotFired: [] as string[] }
        for (const f of this.specs) (fired(f) ? out.faultsFired : out.faultsNotFired).push(f.text)
        return out
    }

    private noteCut() {
        if (this.armed && this.d.flash.isOff()) this.fired.add(this.armed.spec)
    }

    /** Arm the earliest pending cut still ahead (the NOR model holds one). */
    private arm() {
        const ops = this.d.flash.ops
        this.pending = this.pending.filter(c => c.op > ops) // passed: another cut took its operation
        if (this.armed) this.pending.push(this.armed)
        this.pending.sort((a, b) => a.op - b.op)
        const next = this.pending.shift() ?? null
        this.armed = next
        if (next) this.d.flash.armCut({ op: next.op - ops, kind: next.kind, at: next.at, seed: this.o.seed })
        else this.d.flash.disarm()
    }
}
