// `npm run sim -- --delta` and `--compressed` in the VM engine (issue 18): the Developer Center
// serves a detools patch (createPatch(firmwareImage("1_0_0"), firmwareImage("2_0_0"))) as a delta
// for source version 1_0_0, or the 2_0_0 image compressed; the 1_0_0 program in DeviceScript's VM
// rebuilds 2_0_0 into its inactive slot over the simulator's remote flash, checks it, and the
// host's boot stage launches it. Both images are built in the delta profile (the rebuilder and the
// agent's signature check of the rebuilt image, before its slot is marked ready); the default signed
// profile refuses a delta. One hub per machine: runs take turns through the hub lock.
import { describe, expect, it } from "vitest"
import { DeltaApplier } from "../../src/delta/sequential-apply"
import { firmwareImage } from "../../sim/boot/firmware-image"
import { compressImage } from "../../tools/delta/patch"
import { parseOptions } from "../../sim/cli/options"
import type { FirmwareProfile } from "../../sim/boot/firmware-image"
import type { SimSummary } from "../../sim/cli/summary"
import { View } from "../../sim/cli/view"
import { runVmEngine, VmRunDetails } from "../../sim/cli/vm-engine"
import { HUB_PORTS } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"

const root = new URL("../..", import.meta.url).pathname

async function sim(args: string[], profile?: FirmwareProfile): Promise<{ s: SimSummary; d: VmRunDetails; text: string[] }> {
    const o = parseOptions(["--json", ...args])
    if (profile) o.profile = profile
    let d: VmRunDetails = null
    const text: string[] = []
    const s = await runVmEngine(o, new View(true, t => text.push(t)), { root, details: x => (d = x) })
    for (const p of HUB_PORTS) expect(await portTaken(p), `port ${p} left taken`).toBe(false)
    if (s.result !== "upgraded") console.log(`${args.join(" ")}: last firmware lines\n  ${d?.vmLines.slice(-25).join("\n  ")}`)
    console.log(`${args.join(" ")} → ${JSON.stringify(s)}`)
    return { s, d, text }
}

/**
 * The most patch bytes between two of the agent's checkpoints (every 4 KB of image, the journal's
 * 200 bytes: tag, digests and the applier's state) in an apply of `pkg` to `target`.
 */
async function patchPerCheckpoint(pkg: Buffer, target: Buffer): Promise<number> {
    const offsets = [0]
    const out = Buffer.alloc(target.length)
    const a: DeltaApplier = new DeltaApplier({
        store: {
            readImage: async (receiving, off, n) => (receiving ? out.subarray(off, off + n) : Buffer.alloc(0)),
            writeImage: async (off, data, n) => void data.copy(out, off, 0, n),
        },
        oldSize: 0,
        maxSize: 1 << 20,
        bufferSize: 1024,
        checkpointEvery: 4096,
        onCheckpoint: async cp => void (2 + 61 + cp.length <= 200 && offsets.push(a.patchOffset())),
        yielder: async () => {},
    })
    await a.feed(pkg, 0, pkg.length)
    expect(await a.finish()).toBe(target.length)
    expect(out.equals(target)).toBe(true)
    offsets.push(pkg.length)
    return Math.max(...offsets.slice(1).map((o, i) => o - offsets[i]))
}

describe("npm run sim -- --delta / --compressed, VM engine", () => {
    it("--delta: the VM upgrades 1_0_0 → 2_0_0 from a patch of a few per cent of the image", async () => {
        const { s, d } = await sim(["--delta"])
        expect(s).toMatchObject({ result: "upgraded", reason: null, version: "2_0_0", runningVersion: "2_0_0", healthy: true, engine: "vm", packageKind: "delta", profile: "delta" })
        // both programs are the delta profile's (compiled in, printed at every boot)
        expect(d.vmLines.filter(l => l.startsWith("SOTA-BOOT")).every(l => l.includes('"profile":"delta"'))).toBe(true)
        // the program that runs is the image the delta rebuilt, byte for byte (its SHA-256 TLV, read by itself)
        expect(s.runningSha256).toBe(s.packageSha256)
        expect(s.imageBytes).toBeGreaterThan(40000)
        expect(s.packageBytes).toBeLessThan(s.imageBytes / 20)
        expect(s.uartBytes).toBeLessThan(s.packageBytes + 2000) // the AT dialogue around the package
        expect(s.boots).toBe(2)
        expect(s.rereadBytes).toBe(0)
        expect(s.journalCheckpoints).toBe(Math.floor((s.imageBytes - 1) / 4096)) // one per 4 KB sector of the rebuilt image
        expect(d.vmLines.some(l => l.startsWith("SOTA ") && l.includes('"state":"verifying"'))).toBe(true)
    }, 300_000)

    it("--compressed: the image compressed, told by its first byte, rebuilt and launched", async () => {
        const { s } = await sim(["--compressed"])
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", runningVersion: "2_0_0", healthy: true, packageKind: "compressed", profile: "delta" })
        expect(s.runningSha256).toBe(s.packageSha256)
        expect(s.packageBytes).toBeLessThan(s.imageBytes)
    }, 300_000)

    it("--delta with a power cut in the middle of the apply: the VM is killed, the rebuild resumes from its last checkpoint's patch offset and upgrades", async () => {
        // about 20 image sectors, each an erase, four 1 KB programs and a journal record: op 40 is mid-apply
        const { s, d } = await sim(["--delta", "--fault", "cut@op=40"])
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", runningVersion: "2_0_0", healthy: true, cuts: 1, boots: 3, faultsFired: ["cut@op=40"] })
        expect(s.runningSha256).toBe(s.packageSha256)
        // the module was asked from inside the patch (a replay asked from 0), and the patch is read again once at most
        expect(d.firmware.resumedAt).toBeGreaterThan(0)
        expect(s.rereadBytes).toBeLessThanOrEqual(s.packageBytes)
        expect(d.vmLines.some(l => l.startsWith("SOTA-START") && l.includes('"resumable":true'))).toBe(true)
    }, 300_000)

    it("--compressed with a power cut in the middle of the apply: package bytes read again below one checkpoint interval's worth of patch", async () => {
        const target = await firmwareImage(root, "2_0_0", { profile: "delta" })
        const pkg = compressImage(target).patch
        const interval = await patchPerCheckpoint(pkg, target)
        const { s, d } = await sim(["--compressed", "--fault", "cut@op=40"])
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", runningVersion: "2_0_0", healthy: true, cuts: 1, boots: 3, packageKind: "compressed" })
        expect(s.runningSha256).toBe(s.packageSha256)
        expect(s.packageBytes).toBe(pkg.length)
        // the patch between two checkpoints, the digests' pending bytes, two 1 KB blocks in flight
        // (a replay from the package's start read some 20 KB again here)
        const bound = interval + 63 + 2 * 1024
        console.log(`--compressed cut@op=40: resumed at package byte ${d.firmware.resumedAt}, ${s.rereadBytes} bytes read again (bound ${bound}: ${interval} per checkpoint interval) of ${pkg.length}`)
        expect(d.firmware.resumedAt).toBeGreaterThan(0)
        expect(s.rereadBytes).toBeLessThanOrEqual(bound)
    }, 300_000)

    for (const [kind, reason] of [
        ["unsigned", "unsigned"],
        ["wrong-key", "unknown-key"],
        ["lower-counter", "counter-too-low"],
    ]) {
        it(`--delta to a 2_0_0 image ${kind}: the agent checks the rebuilt image's signature and refuses it before its slot is marked ready (${reason}); 1_0_0 keeps running, one boot`, async () => {
            const { s, d } = await sim(["--delta", "--baud", "0", "--image", `bad:${kind}`])
            // before the agent checked signatures in this profile: marked ready, rebooted, refused by the
            // boot stage and rolled back (result rolled-back, reason bad-image, 2 boots)
            expect(s).toMatchObject({ result: "failed", reason, version: "1_0_0", runningVersion: "1_0_0", healthy: true, packageKind: "delta", profile: "delta", boots: 1, securityCounter: 1 })
            expect(d.vmLines.some(l => l.startsWith("SOTA-PLAN") && l.includes(`"reason":"${reason}"`))).toBe(true)
        }, 300_000)
    }

    it("a compressed package to the signed profile (no rebuilder): written as it came, then refused as unsupported-package, not bad-image; 1_0_0 keeps running", async () => {
        const { s, d } = await sim(["--compressed", "--baud", "0"], "signed")
        expect(s).toMatchObject({ result: "failed", reason: "unsupported-package", version: "1_0_0", runningVersion: "1_0_0", healthy: true, packageKind: "compressed", profile: "signed", boots: 1 })
        expect(d.vmLines.some(l => l.includes('"reason":"unsupported-package"'))).toBe(true)
    }, 300_000)

    it("a delta to the signed profile (the default firmware, no rebuilder): refused before the download (unsupported-package); 1_0_0 keeps running", async () => {
        const { s, d } = await sim(["--delta", "--baud", "0"], "signed")
        expect(s).toMatchObject({ result: "refused", reason: "unsupported-package", version: "1_0_0", runningVersion: "1_0_0", healthy: true, packageKind: "delta", profile: "signed", boots: 1 })
        expect(s.downloadSeconds).toBe(0)
        expect(d.vmLines.some(l => l.startsWith("SOTA-PLAN") && l.includes('"reason":"unsupported-package"'))).toBe(true)
    }, 300_000)
})
