// `npm run sim -- --delta` and `--compressed` in the VM engine (issue 18). FALLBACK (issue 17, the
// lead's call): the default VM firmware carries the signature check instead of the delta applier
// (both are over the VM's 65 424-byte bytecode limit), so it refuses a delta before any download
// (unsupported-package); a compressed image, which only the applier tells by its first byte, is
// taken for an image and refused by the agent's image check before ready (bad-image). Either way
// nothing is activated and the old program keeps running. The rebuild itself is
// tested in Node (test/sota/delta*.test.ts, test/delta) and in VM suites (test/vm). One hub per
// machine: runs take turns through the hub lock.
import { describe, expect, it } from "vitest"
import { parseOptions } from "../../sim/cli/options"
import type { SimSummary } from "../../sim/cli/summary"
import { View } from "../../sim/cli/view"
import { runVmEngine, VmRunDetails } from "../../sim/cli/vm-engine"
import { HUB_PORTS } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"

const root = new URL("../..", import.meta.url).pathname

async function sim(args: string[]): Promise<{ s: SimSummary; d: VmRunDetails; text: string[] }> {
    const o = parseOptions(["--json", ...args])
    let d: VmRunDetails = null
    const text: string[] = []
    const s = await runVmEngine(o, new View(true, t => text.push(t)), { root, details: x => (d = x) })
    for (const p of HUB_PORTS) expect(await portTaken(p), `port ${p} left taken`).toBe(false)
    if (s.result !== "upgraded") console.log(`${args.join(" ")}: last firmware lines\n  ${d?.vmLines.slice(-25).join("\n  ")}`)
    console.log(`${args.join(" ")} → ${JSON.stringify(s)}`)
    return { s, d, text }
}

describe("npm run sim -- --delta / --compressed, VM engine (default firmware without the delta applier)", () => {
    it("--delta: refused before the download (unsupported-package); 1_0_0 keeps running", async () => {
        const { s, d } = await sim(["--delta", "--baud", "0"])
        expect(s).toMatchObject({ result: "refused", reason: "unsupported-package", version: "1_0_0", runningVersion: "1_0_0", healthy: true, engine: "vm", packageKind: "delta", boots: 1 })
        expect(s.downloadSeconds).toBe(0)
        expect(d.vmLines.some(l => l.startsWith("SOTA-PLAN") && l.includes('"reason":"unsupported-package"'))).toBe(true)
    }, 300_000)

    it("--compressed: downloaded as an image, refused by the agent's image check before ready (bad-image); 1_0_0 keeps running", async () => {
        const { s, d } = await sim(["--compressed", "--baud", "0"])
        expect(s).toMatchObject({ result: "failed", reason: "bad-image", version: "1_0_0", runningVersion: "1_0_0", healthy: true, engine: "vm", boots: 1, securityCounter: 1 })
        expect(d.vmLines.some(l => l.startsWith("SOTA-PLAN") && l.includes("bad-magic"))).toBe(true)
    }, 300_000)
})
