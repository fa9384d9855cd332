// `npm run sim -- --components 2 --json` in the VM engine (issue 20's "one multi-component upgrade in
// the VM"): both images are built in the components profile (src/simulator/profiles/components.ts:
// the agent's components and outcome ports, a data store "DATA" in the flash's last sectors). The
// 1_0_0 program downloads 2_0_0 and reboots; the 2_0_0 program confirms, reports its version, and the
// platform then pushes DATA V1 → V2, which the same boot downloads, checks and activates. The summary's
// `components` comes from the outcome records on the flash, as in the node engine. With --defer-once
// the images are the consent profile's (profiles/consent.ts): the application's hook defers once.
// One hub per machine: runs take turns through the hub lock.
import { describe, expect, it } from "vitest"
import { parseOptions, SimOptions } from "../../sim/cli/options"
import type { SimSummary } from "../../sim/cli/summary"
import { View } from "../../sim/cli/view"
import { runVmEngine, VmRunDetails } from "../../sim/cli/vm-engine"
import { HUB_PORTS } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"
import { PRODUCT, SimDevice } from "../../sim/device/device"
import { readFileSync } from "node:fs"
import { validate } from "../cli/schema"

const root = new URL("../..", import.meta.url).pathname
const SCHEMA = JSON.parse(readFileSync(new URL("../../docs/summary.schema.json", import.meta.url), "utf8"))

/** One VM run of `o`: its summary, the run's details and the simulated device; the hub's ports must be free after it. */
async function vmRun(o: SimOptions): Promise<{ s: SimSummary; d: VmRunDetails; w: SimDevice }> {
    let d: VmRunDetails = null
    let w: SimDevice = null
    const s: SimSummary = await runVmEngine(o, new View(true, () => {}), { root, details: x => (d = x), world: x => (w = x) })
    for (const p of HUB_PORTS) expect(await portTaken(p), `port ${p} left taken`).toBe(false)
    if (s.result !== "upgraded") console.log(`last firmware lines\n  ${d?.vmLines.slice(-25).join("\n  ")}`)
    return { s, d, w }
}

describe("npm run sim -- --components 2, VM engine", () => {
    it("the program, then DATA, both upgraded in the VM in the platform's order; the summary names each with its code", async () => {
        const o = parseOptions(["--components", "2", "--json"])
        // the option runs in the VM now (it forced --engine node), with the components profile
        expect([o.engine, o.profile]).toEqual(["vm", "components"])
        const { s, d, w } = await vmRun(o)
        expect(s).toMatchObject({ result: "upgraded", reason: null, version: "2_0_0", runningVersion: "2_0_0", healthy: true, engine: "vm", profile: "components", boots: 2 })
        // DATA's 3 000-byte package is not counted as re-read; a loaded machine may add the one-byte probe the
        // engine sends after 3 s without a piece's 10703 (a byte read twice), so a bound, not 0
        expect(s.rereadBytes).toBeLessThan(16)
        // the --json summary's shape (docs/summary.schema.json), as printed
        expect(validate(SCHEMA, JSON.parse(JSON.stringify(s)))).toEqual([])
        expect(s.components).toEqual([
            { name: "STM32", from: "1_0_0", to: "2_0_0", result: "upgraded", reason: null, code: 0 },
            { name: "DATA", from: "V1", to: "V2", result: "upgraded", reason: null, code: 0 },
        ])
        // every boot is the components profile's program
        const lines = d.vmLines
        expect(lines.filter(l => l.startsWith("SOTA-BOOT")).map(l => JSON.parse(l.slice(10)).profile)).toEqual(["components", "components"])
        // the platform's order: the program's download, its confirm in 2_0_0, then DATA's download in that boot
        const at = (f: (l: string) => boolean) => lines.findIndex(f)
        const program = at(l => l.startsWith("SOTA ") && l.includes('"state":"downloading"') && l.includes('"target":"2_0_0"'))
        const confirmed = at(l => l.startsWith("SOTA-START") && l.includes('"trial":"confirmed"') && l.includes('"version":"2_0_0"'))
        const data = at(l => l.startsWith("SOTA ") && l.includes('"state":"downloading"') && l.includes('"target":"V2"'))
        expect(program).toBeGreaterThanOrEqual(0)
        expect(confirmed).toBeGreaterThan(program)
        expect(data).toBeGreaterThan(confirmed)
        expect(JSON.parse(lines[lines.length - 1].slice(10))).toMatchObject({ result: "updated", target: "V2" })
        // the platform saw both components upgraded, in its order
        const plan = w.dc.plans[w.dc.plans.length - 1]
        const detail = w.dc.deviceDetail(plan.id, PRODUCT.imei)
        expect(detail.components.map(c => [c.component, c.status, c.from, c.to])).toEqual([
            ["STM32", "updated", "1_0_0", "2_0_0"],
            ["DATA", "updated", "V1", "V2"],
        ])
        console.log(`--components 2 → ${JSON.stringify(s)}`)
    }, 400_000)

    it("--components 2 --defer-once: the consent hook defers the program's plan once (refused, the platform counts it), the firmware asks again at the hook's time, both upgraded", async () => {
        const o = parseOptions(["--components", "2", "--defer-once", "--json"])
        expect([o.engine, o.profile]).toEqual(["vm", "consent"])
        const { s, d, w } = await vmRun(o)
        expect(s).toMatchObject({ result: "upgraded", reason: null, version: "2_0_0", healthy: true, engine: "vm", profile: "consent", boots: 2 })
        expect(validate(SCHEMA, JSON.parse(JSON.stringify(s)))).toEqual([])
        expect(s.components).toEqual([
            { name: "STM32", from: "1_0_0", to: "2_0_0", result: "upgraded", reason: null, code: 0 },
            { name: "DATA", from: "V1", to: "V2", result: "upgraded", reason: null, code: 0 },
        ])
        // the plans the firmware finished (the program's "rebooting" is the host's reset, never printed)
        const plans = d.vmLines.filter(l => l.startsWith("SOTA-PLAN")).map(l => JSON.parse(l.slice(10)))
        expect(plans.map(p => [p.result, p.reason, p.target])).toEqual([
            ["refused", "deferred", "2_0_0"],
            ["updated", null, "V2"],
        ])
        const deferred = d.vmLines.findIndex(l => l.startsWith("SOTA-PLAN"))
        const download = d.vmLines.findIndex(l => l.startsWith("SOTA ") && l.includes('"state":"downloading"') && l.includes('"target":"2_0_0"'))
        expect(download).toBeGreaterThan(deferred)
        expect(plans[0].detail).toBe("deferred once (--defer-once)")
        const plan = w.dc.plans[w.dc.plans.length - 1]
        expect(w.dc.deviceDetail(plan.id, PRODUCT.imei)).toMatchObject({ refusals: 1, failures: 0, status: "succeeded" })
        console.log(`--components 2 --defer-once → ${JSON.stringify(s)}`)
    }, 400_000)
})
