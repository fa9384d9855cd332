// `npm run sim` plan runs (issue 20, sim/cli/plan-options.ts): two components, a consent hook that
// defers once, a user-confirmed plan, the platform's push period, fail limit and retry interval.
// The summary validates against docs/summary.schema.json and gains `components`, one entry per
// component from its outcome record; the options are refused where they cannot apply.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { cli } from "../../sim/cli/cli"
import { runNodeEngine } from "../../sim/cli/node-engine"
import { parseOptions } from "../../sim/cli/options"
import { View } from "../../sim/cli/view"
import type { SimDevice } from "../../sim/device/device"
import { validate } from "./schema"

const SCHEMA = JSON.parse(readFileSync(new URL("../../docs/summary.schema.json", import.meta.url), "utf8"))
const FAST = ["--baud", "0", "--json"]

async function sim(args: string[]) {
    let out = ""
    let err = ""
    const r = await cli([...FAST, ...args], { out: s => void (out += s), err: s => void (err += s) })
    const json = JSON.parse(out.trim().split("\n").pop()!)
    expect(validate(SCHEMA, json), out).toEqual([])
    return { code: r.code, json, err }
}

/** A run in this process with its device at hand (the platform's counts, the stores). */
async function simWithDevice(args: string[]) {
    let d: SimDevice | null = null
    const o = parseOptions([...FAST, ...args])
    const s = await runNodeEngine(o, new View(true, () => {}, () => {}), { onDevice: x => (d = x) })
    return { s, d: d! }
}

describe("plan runs", () => {
    it("--components 2: the program, then the data component, both upgraded; the summary names each with its code", async () => {
        const { code, json } = await sim(["--components", "2", "--engine", "node"])
        expect(code).toBe(0)
        // DATA's package is read once: not counted as re-read
        expect(json).toMatchObject({ result: "upgraded", engine: "node", version: "2_0_0", rereadBytes: 0 })
        expect(json.components).toEqual([
            { name: "STM32", from: "1_0_0", to: "2_0_0", result: "upgraded", reason: null, code: 0 },
            { name: "DATA", from: "V1", to: "V2", result: "upgraded", reason: null, code: 0 },
        ])
    }, 120_000)

    it("--components 2 with the program rolled back: the data component has no attempt, the program its failure (code 10)", async () => {
        const { json } = await sim(["--components", "2", "--fault", "self-test-fail", "--engine", "node"])
        expect(json.result).toBe("rolled-back")
        expect(json.components).toEqual([
            { name: "STM32", from: "1_0_0", to: "2_0_0", result: "rolled-back", reason: "self-test-failed", code: 10 },
            { name: "DATA", from: "V1", to: null, result: "none", reason: null, code: null },
        ])
    }, 120_000)

    it("--defer-once: the plan is refused once as deferred (the platform counts a refusal), asked again by the device, then upgraded", async () => {
        const { s, d } = await simWithDevice(["--defer-once"])
        expect(s.result).toBe("upgraded")
        const plan = d.dc.plans.find(p => p.status === "active")!
        expect(d.dc.deviceDetail(plan.id, "866123456789012")).toMatchObject({ refusals: 1, failures: 0, status: "succeeded" })
        expect(d.progress.some(p => p.state === "refused" && p.reason === "deferred")).toBe(true)
        expect(d.dc.uplinks.map(u => u.data.toString("latin1").split(" ").slice(0, 6).join(" "))).toEqual([
            "SOTA1 STM32 1_0_0 2_0_0 1 deferred",
            "SOTA1 STM32 1_0_0 2_0_0 0 -",
        ])
        expect(s.components).toEqual([{ name: "STM32", from: "1_0_0", to: "2_0_0", result: "upgraded", reason: null, code: 0 }])
    }, 120_000)

    it("--user-confirmed --rejection-min 30 --fail-limit 2 --retry-min 5: the plan carries them, and the confirmed plan is applied", async () => {
        const { s, d } = await simWithDevice(["--user-confirmed", "--rejection-min", "30", "--fail-limit", "2", "--retry-min", "5"])
        expect(s.result).toBe("upgraded")
        const plan = d.dc.plans.find(p => p.status === "active")!
        expect(plan).toMatchObject({ mode: "user-confirmed", rejectionPeriodMin: 30, failLimit: 2, retryIntervalMin: 5 })
        expect(d.dc.deviceDetail(plan.id, "866123456789012")).toMatchObject({ user: "confirmed", status: "succeeded" })
    }, 120_000)

    it("--push-period outside the current time: no offer, nothing recorded", async () => {
        const now = new Date()
        const m = (now.getUTCHours() * 60 + now.getUTCMinutes() + 120) % 1440
        const hhmm = (x: number) => `${String(Math.floor(x / 60)).padStart(2, "0")}:${String(x % 60).padStart(2, "0")}`
        const { json } = await sim(["--push-period", `${hhmm(m)}-${hhmm((m + 30) % 1440)}`])
        expect(json).toMatchObject({ result: "failed", reason: "no-plan", version: "1_0_0", healthy: true })
        expect(json.components).toEqual([{ name: "STM32", from: "1_0_0", to: null, result: "none", reason: null, code: null }])
    }, 120_000)

    it("a run without plan options has no components field", async () => {
        const { json } = await sim(["--engine", "node"])
        expect(json.result).toBe("upgraded")
        expect(json.components).toBeUndefined()
    }, 120_000)
})

describe("plan options refused where they cannot apply", () => {
    for (const [args, msg] of [
        [["--defer-once", "--engine", "vm"], "run in the node engine"],
        [["--components", "1", "--engine", "vm"], "run in the node engine"],
        [["--components", "2", "--delta", "--engine", "vm"], "run in the node engine"],
        [["--components", "3"], "--components must be between 1 and 2"],
        [["--rejection-min", "5"], "--rejection-min must be between 10 and 1440"],
        [["--fail-limit", "0"], "--fail-limit must be between 1 and 5"],
        [["--retry-min", "x"], "--retry-min must be a whole number"],
        [["--push-period", "24:00-01:00"], "--push-period must be HH:MM-HH:MM"],
        [["--push-period"], "--push-period must be HH:MM-HH:MM"],
    ] as [string[], string][])
        it(args.join(" "), async () => {
            const { code, json, err } = await sim(args)
            expect(code).toBe(2)
            expect(json).toMatchObject({ result: "error", reason: "usage" })
            expect(err).toContain(msg)
        })
})
