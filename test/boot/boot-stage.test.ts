// The simulator's boot stage (sim/boot) and real firmware images, in the node engine: what runs
// after an upgrade is the program in the image the boot stage chose (its version and behaviour read
// from the image's bytes), each bad image of the real-images issue ends with the old program
// running and the reason kept in the store and told to the platform, imgtool accepts the firmware
// images, and a power-cut sweep over the activation, the boot stage's records and the confirm never
// leaves the device without a good program. (The VM runs the same images: test/host/sim-vm.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it, vi } from "vitest"
import { parseOptions } from "../../sim/cli/options"
import { runNodeEngine } from "../../sim/cli/node-engine"
import { View } from "../../sim/cli/view"
import type { SimDevice } from "../../sim/device/device"
import { firmwareImage, readIdentity } from "../../sim/boot/firmware-image"
import { BadWhy } from "../../src/flash/store-port"
import { imgtool, requireImgtool } from "../image/imgtool"
import { storeState } from "../../src/flash/image-store"

const root = new URL("../..", import.meta.url).pathname
vi.setConfig({ testTimeout: 180_000 })

async function run(args: string[]) {
    let d: SimDevice = null
    const lines: string[] = []
    const s = await runNodeEngine(parseOptions(["--engine", "node", "--json", "--baud", "0", ...args]), new View(true, t => lines.push(t)), { onDevice: x => (d = x) })
    return { s, d, lines }
}

/** What the store keeps of the failed image: the bad slot's why and version. */
async function outcome(d: SimDevice) {
    const st = d.newStore()
    await st.mount()
    const state = storeState(st)
    const bad = state.slots.find(x => x.state === "bad")
    return bad ? { why: bad.why, version: bad.version, unreported: bad.unreported } : null
}

describe("real firmware images through the boot stage (node engine)", () => {
    it("the upgraded device runs the 2_0_0 program the Developer Center served", async () => {
        const { s } = await run([])
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", runningVersion: "2_0_0", healthy: true })
        expect(s.packageSha256).toMatch(/^[0-9a-f]{64}$/)
        expect(s.runningSha256).toBe(s.packageSha256)
    })

    it("the firmware image carries its program's identity and passes imgtool verify", async () => {
        requireImgtool()
        const img = await firmwareImage(root, "2_0_0")
        expect(readIdentity(img)).toEqual({ version: "2_0_0", behaviour: "good" })
        const dir = mkdtempSync(join(tmpdir(), "fw-img-"))
        try {
            writeFileSync(join(dir, "fw.bin"), img)
            const v = imgtool(["verify", join(dir, "fw.bin")])
            expect(v.status, v.out).toBe(0)
            expect(v.out).toMatch(/Image was correctly validated/)
            expect(v.out).toMatch(/Image version: 2\.0\.0/)
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })

    it("a version that does not map to MCUboot's header is refused when its image is built", async () => {
        await expect(firmwareImage(root, "2_0_0_rc1")).rejects.toMatchObject({ reason: "bad-version" })
    })

    const bad: [string, string, number][] = [
        ["throws", "rolled-back", BadWhy.NotConfirmed],
        ["hangs", "rolled-back", BadWhy.NotConfirmed],
        ["self-test-fail", "self-test-failed", BadWhy.SelfTest],
        ["not-bytecode", "bad-image", BadWhy.ImageCheck], // a valid signed image: only the boot stage sees it is no program
    ]
    it.each(bad)("bad:%s: the old program runs, the reason (%s) is kept and the platform saw the old version", async (kind, reason, why) => {
        const { s, d } = await run(["--image", `bad:${kind}`])
        expect(s).toMatchObject({ result: "rolled-back", reason, version: "1_0_0", runningVersion: "1_0_0", healthy: true })
        expect(await d.healthy()).toBe("old")
        // the last outcome: kept in the store, reported (no longer news) once the old version was reported
        expect(await outcome(d)).toEqual({ why, version: "2_0_0", unreported: false })
        expect(d.dc.formatLog()).toMatch(/failed \(reported 1_0_0, expected 2_0_0\)|failed/)
    })

    // the agent's own check (signatures on by default) refuses these before the slot is marked ready:
    // nothing is activated, the old program never stops running (the boot stage would refuse them too)
    it.each([["bad-sha"], ["oversize"]])("bad:%s: refused by the agent before ready (bad-image); the old program runs", async kind => {
        const { s, d } = await run(["--image", `bad:${kind}`])
        expect(s).toMatchObject({ result: "failed", reason: "bad-image", version: "1_0_0", runningVersion: "1_0_0", healthy: true })
        expect(await outcome(d)).toEqual({ why: BadWhy.Download, version: "2_0_0", unreported: false })
        expect(d.boots).toBe(1)
    })

    it("an image whose header version is not the version the platform announced is refused by the boot stage", async () => {
        // the package says 3_0_0 to the platform and the store, but it is the 2_0_0 image
        const img = await firmwareImage(root, "2_0_0")
        const dir = mkdtempSync(join(tmpdir(), "fw-img-"))
        try {
            writeFileSync(join(dir, "fw.bin"), img)
            const { s, d } = await run(["--image", join(dir, "fw.bin"), "--to", "3_0_0"])
            expect(s).toMatchObject({ result: "rolled-back", reason: "bad-image", version: "1_0_0", runningVersion: "1_0_0", healthy: true })
            expect(await outcome(d)).toMatchObject({ why: BadWhy.ImageCheck, version: "3_0_0" })
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })

    it("a program whose compiled version is not its slot's recorded one rejects itself on its trial boot (version-mismatch)", async () => {
        const { s, d } = await run([])
        expect(s.result).toBe("upgraded")
        // a second download by hand, recorded as 3_0_0, booted by a stage that does not read versions
        const st = d.newStore()
        await st.mount()
        await st.boot()
        await st.startReceive({ version: "3_0_0", size: d.image1.length })
        for (let off = 0; off < d.image1.length; off += 1024) await st.write(off, d.image1.subarray(off, Math.min(off + 1024, d.image1.length)))
        await st.markReady()
        await st.activate()
        const stage = d.newStore()
        await stage.mount()
        const launch = await stage.boot()
        expect(launch).toMatchObject({ version: "3_0_0", trial: true })
        // the program in that slot was compiled as 9_9_9
        const e = d.powerOn({ launch: { ...launch, program: Buffer.alloc(0), sha256: "", refused: [], signedBy: -1, securityCounter: -1 }, version: "9_9_9", behaviour: "good" })
        await expect(e.start()).rejects.toThrow("reboot")
        expect(d.progress.some(p => p.state === "rolled-back" && p.reason === "version-mismatch")).toBe(true)
        expect(await outcome(d)).toEqual({ why: BadWhy.VersionMismatch, version: "3_0_0", unreported: true })
        expect(await d.healthy()).toBe("new") // 2_0_0 runs again
    })

    // a cut at every flash operation from the activation on: the activation record, the boot stage's
    // trial-boot record (good, throws) or bad-slot record (not-bytecode), the rollback, the confirm and
    // the "reported" record
    it.each([["good", []], ["bad:not-bytecode", ["--image", "bad:not-bytecode"]], ["bad:throws", ["--image", "bad:throws"]]])(
        "a power-cut sweep from the activation on (%s): always a good program, and the one the store records",
        async (name, args) => {
            let activatingAt = -1
            let d: SimDevice = null
            const clean = await runNodeEngine(parseOptions(["--engine", "node", "--json", "--baud", "0", ...(args as string[])]), new View(true, () => {}), {
                onDevice: x => {
                    d = x
                    x.listeners.push(p => {
                        if (p.state === "activating" && activatingAt < 0) activatingAt = x.flash.ops
                    })
                },
            })
            const good = name === "good"
            expect(clean.result).toBe(good ? "upgraded" : "rolled-back")
            const total = d.flash.ops
            expect(activatingAt).toBeGreaterThan(0)
            let points = 0
            const results: Record<string, number> = {}
            for (let op = activatingAt + 1; op <= total + 1; op++) {
                const { s } = await run(["--fault", `cut@op=${op}`, ...(args as string[])])
                points++
                results[s.result] = (results[s.result] ?? 0) + 1
                expect(s.healthy, `cut@op=${op}: ${JSON.stringify(s)}`).toBe(true)
                expect(good ? ["1_0_0", "2_0_0"] : ["1_0_0"]).toContain(s.version)
                // the program that runs agrees with the store's record of its slot
                expect(s.runningVersion, `cut@op=${op}`).toBe(s.version)
                // the security counter is the running image's: raised with 2_0_0's confirm, never before
                expect(s.securityCounter, `cut@op=${op}`).toBe(s.version === "2_0_0" ? 2 : 1)
                if (op <= total) expect(s.cuts, `cut@op=${op} fired`).toBe(1)
            }
            // the default two trial boots: one cut during a good image's trial never undoes the upgrade
            if (good) expect(results["rolled-back"] ?? 0).toBe(0)
            console.log(`boot-stage power-cut sweep (${name}): ${points} points (ops ${activatingAt + 1}..${total + 1}; the run has ${total}), outcomes ${JSON.stringify(results)}, 0 unrecoverable`)
            expect(points).toBeGreaterThanOrEqual(4)
        }
    )
})
