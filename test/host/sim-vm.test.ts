// `npm run sim` with the VM engine (the default): the real firmware images (src/simulator/firmware.ts
// compiled as 1_0_0 and 2_0_0, MCUboot images, sim/boot) launched by the host's boot stage in
// DeviceScript's VM against the simulator host (sim/host) and the module emulator, end to end. Each
// case asserts the closing JSON summary; the bad images of the real-images issue really run. One hub per machine: runs take turns with other host tests through the
// hub lock (sim/host/hub.ts); every process started is stopped by id, and the ports are checked free
// after each run. About 2 minutes in all.
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { parseOptions } from "../../sim/cli/options"
import type { SimSummary } from "../../sim/cli/summary"
import { View } from "../../sim/cli/view"
import { runVmEngine, VmRunDetails } from "../../sim/cli/vm-engine"
import { HUB_PORTS } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"

const root = new URL("../..", import.meta.url).pathname

async function portsFree() {
    for (const p of HUB_PORTS) expect(await portTaken(p), `port ${p} left taken`).toBe(false)
}

/** runVmEngine in this process, as `npm run sim -- --json <args>` would; the summary and the run's figures. */
async function sim(args: string[], watchdogMs?: number): Promise<{ s: SimSummary; d: VmRunDetails }> {
    const o = parseOptions(["--json", ...args])
    expect(o.engine).toBe("vm")
    let d: VmRunDetails = null
    const out: string[] = []
    const s = await runVmEngine(o, new View(true, t => out.push(t)), { root, details: x => (d = x), watchdogMs })
    await portsFree()
    if (s.result !== "upgraded" && s.result !== "rolled-back" && s.reason !== "md5-mismatch")
        console.log(`${args.join(" ")}: last firmware lines\n  ${d?.vmLines.slice(-25).join("\n  ")}`)
    console.log(`${args.join(" ") || "(defaults)"} → ${JSON.stringify(s)}`)
    return { s, d }
}

describe("npm run sim, VM engine", () => {
    it("with no options but --json: the CLI upgrades 1_0_0 → 2_0_0 and the VM ends running the downloaded 2_0_0 program", async () => {
        const child = spawn(process.execPath, [`${root}/node_modules/vite-node/vite-node.mjs`, "--config", "vitest.config.ts", "sim/cli/main.ts", "--", "--json"], {
            cwd: root,
            stdio: ["ignore", "pipe", "pipe"],
        })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", b => (stdout += b))
        child.stderr.on("data", b => (stderr += b))
        const code = await new Promise<number>(resolve => child.once("exit", c => resolve(c ?? -1)))
        await portsFree()
        const lines = stdout.trim().split("\n")
        const s: SimSummary = JSON.parse(lines[lines.length - 1])
        console.log(`default run → ${lines[lines.length - 1]}`)
        if (code !== 0) console.log(stderr)
        expect(code).toBe(0)
        expect(s).toMatchObject({ result: "upgraded", reason: null, version: "2_0_0", healthy: true, engine: "vm", from: "1_0_0", to: "2_0_0" })
        // the program that runs says it is 2_0_0 and reads the SHA-256 of the image the Developer Center served
        expect(s.runningVersion).toBe("2_0_0")
        expect(s.packageSha256).toMatch(/^[0-9a-f]{64}$/)
        expect(s.runningSha256).toBe(s.packageSha256)
        expect(s.imageBytes).toBeGreaterThan(40000) // the firmware's own program, not filler
        // signed by default: the VM's agent checked it before ready, and its confirm raised the store's counter to 2_0_0's
        expect(s).toMatchObject({ signature: "ed25519", securityCounter: 2, profile: "signed" })
        expect(s.boots).toBe(2) // the download boot, then the new image's trial boot (the boot stage launched it)
        expect(s.cuts).toBe(0)
        expect(s.rereadBytes).toBe(0)
        expect(s.downloadSeconds).toBeGreaterThan(0)
        expect(s.floorSeconds).toBeGreaterThanOrEqual(s.uartFloorSeconds)
    }, 240_000)

    it("a power cut mid-download (cut@block=8): the VM is killed, relaunched, resumes from the journal and upgrades", async () => {
        const { s, d } = await sim(["--fault", "cut@block=8"])
        expect(s).toMatchObject({ result: "upgraded", reason: null, version: "2_0_0", runningVersion: "2_0_0", healthy: true, engine: "vm" })
        expect(s.cuts).toBe(1)
        expect(s.boots).toBe(3) // cut boot, resumed download boot, trial boot
        // the journal checkpoints on 4 KB sectors: a cut costs at most one sector plus the block in flight
        expect(s.rereadBytes).toBeLessThanOrEqual(4096 + 1024)
        expect(d.firmware.resumedAt).toBe(8192) // block 8 ended a checkpointed sector; the cut hit block 9
        expect(d.vmLines.some(l => l.startsWith("SOTA-START") && l.includes('"resumable":true'))).toBe(true)
    }, 240_000)

    it("a wrong digest is refused and the old image keeps running (bad-digest)", async () => {
        const { s } = await sim(["--size", "8192", "--fault", "bad-digest"])
        expect(s).toMatchObject({ result: "failed", reason: "md5-mismatch", version: "1_0_0", healthy: true, engine: "vm", boots: 1, cuts: 0 })
    }, 240_000)

    it("the module reboots in the middle of a piece (reboot@block=5): the firmware recovers and upgrades", async () => {
        const { s, d } = await sim(["--baud", "0", "--fault", "reboot@block=5"])
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", healthy: true, engine: "vm", cuts: 0 })
        expect(d.firmware.moduleRestarts).toBeGreaterThanOrEqual(1)
    }, 240_000)

    it("a failing self-test rolls the new image back (self-test-fail)", async () => {
        const { s, d } = await sim(["--baud", "0", "--fault", "self-test-fail"])
        expect(s).toMatchObject({ result: "rolled-back", reason: "self-test-failed", version: "1_0_0", healthy: true, engine: "vm" })
        expect(s.boots).toBe(3) // download, failed trial, back on the old image
        expect(d.simCfgQueries).toBe(3) // the host told every boot what the self-test answers
    }, 240_000)

    it("the firmware image at 115 200 baud: upgraded, with a UART floor and a link floor (the ratios are measured by npm run bench:sim)", async () => {
        const { s, d } = await sim(["--baud", "115200"])
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", healthy: true, engine: "vm" })
        expect(s.uartFloorSeconds).toBeGreaterThan(s.imageBytes / 11520) // the download traffic at 11.5 KB/s
        expect(s.floorSeconds).toBeGreaterThanOrEqual(s.uartFloorSeconds)
        // the flash went over the TCP socket (one connection per boot), not the throttled Jacdac
        // channel (which took ≥ 5 packets per 1 KB program request, 50 packets/s)
        expect(d.flashPackets).toBe(0)
        expect(d.flashSocketOpens).toBe(s.boots)
        expect(s.linkFloorSeconds).toBeLessThan(s.uartFloorSeconds)
    }, 240_000)

    // the bad images, each a real image: the old program keeps running, the reason is kept and reported
    it("a program that throws at start (bad:throws): the VM panics, the boot stage rolls back, 1_0_0 runs", async () => {
        const { s, d } = await sim(["--baud", "0", "--image", "bad:throws"])
        expect(s).toMatchObject({ result: "rolled-back", reason: "rolled-back", version: "1_0_0", runningVersion: "1_0_0", healthy: true })
        expect(s.boots).toBe(4) // download, the crashing trial twice (two trial boots by default), the old image again
        expect(s.runningSha256).not.toBe(s.packageSha256)
        expect(d.vmLines.some(l => l.startsWith("PANIC"))).toBe(true)
    }, 240_000)

    it("a program that hangs and never confirms (bad:hangs): the watchdog resets it, the boot stage rolls back", async () => {
        const { s } = await sim(["--baud", "0", "--image", "bad:hangs"], 8000)
        expect(s).toMatchObject({ result: "rolled-back", reason: "rolled-back", version: "1_0_0", runningVersion: "1_0_0", healthy: true })
    }, 240_000)

    // the VM agent's own check (signatures on) refuses these before the slot is marked ready: nothing is
    // activated, the old program never stops (boots 1); the reason is the agent's, in `reason`
    it.each([
        ["bad-sha", "bad-image", 1],
        ["oversize", "bad-image", 1],
        ["unsigned", "unsigned", 1],
        ["wrong-key", "unknown-key", 1],
        ["lower-counter", "counter-too-low", 1],
    ])("bad:%s: refused by the agent in the VM before ready (%s); the old program runs, the counter stays 1", async (kind, reason, boots) => {
        const { s, d } = await sim(["--baud", "0", "--image", `bad:${kind}`])
        expect(s).toMatchObject({ result: "failed", reason, version: "1_0_0", runningVersion: "1_0_0", healthy: true, boots, signature: "ed25519", securityCounter: 1 })
        expect(d.vmLines.some(l => l.startsWith("SOTA-PLAN") && l.includes(`"reason":"${reason}"`))).toBe(true)
    }, 240_000)

    it.each([
        ["self-test-fail", "self-test-failed", 3],
        ["not-bytecode", "bad-image", 2], // a valid signed image: only the boot stage sees it is no program
    ])("bad:%s: the old program runs again, reason %s", async (kind, reason, boots) => {
        const { s } = await sim(["--baud", "0", "--image", `bad:${kind}`])
        expect(s).toMatchObject({ result: "rolled-back", reason, version: "1_0_0", runningVersion: "1_0_0", healthy: true, boots })
    }, 240_000)
})
