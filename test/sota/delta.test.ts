// Delta and compressed packages through the whole SOTA flow (issue 18): the module delivers a
// detools patch, the engine rebuilds the image into the inactive slot, checks it and activates it.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { healthy, once, run, runDevice, World } from "./world"
import { deltaWorld, imagePair, mcubootImage, packageOf, Pair } from "./delta-world"
import { createPatch } from "../../tools/delta/patch"
import { storeState } from "../../src/flash/image-store"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe("delta packages end to end (Node)", () => {
    it("a delta from the running version rebuilds the new image, which is confirmed", async () => {
        const p = await imagePair(1, 20000, 12)
        const pkg = packageOf(p, "delta")
        const w = deltaWorld(p, "delta")
        await w.install()
        const log = await runDevice(w)
        expect(await healthy(w)).toBe("new")
        expect(log[0].rebooted).toBe(true)
        expect(log.length).toBe(2) // the download's boot, then the trial boot that confirms
        // the module delivered the patch, not the image: every read lies inside the package
        const reads = w.module.received.filter(c => c.startsWith("AT+QIOTOTARD=") && !c.endsWith("?"))
        const ends = reads.map(c => c.slice(13).split(",").map(Number)).map(([a, n]) => a + n)
        expect(Math.max(...ends)).toBe(pkg.length)
        expect(pkg.length).toBeLessThan(p.nw.length / 4)
        const dl = w.progress.filter(x => x.state === "downloading")
        expect(dl[dl.length - 1]).toMatchObject({ bytes: pkg.length, total: pkg.length })
    })

    it("a compressed full image (no source version) is told by its first byte and rebuilt", async () => {
        const p = await imagePair(2, 20000, 12)
        const w = deltaWorld(p, "compressed")
        await w.install()
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    for (const kind of ["delta", "compressed"] as const)
        it(`a ${kind} package whose image fails its self-test: rebuilt and trial-booted once, then refused as failed-before (the store keeps the image's size, not the package's)`, async () => {
            const p = await imagePair(4, 20000, 12)
            const w = deltaWorld(p, kind)
            await w.install()
            w.selfTestOk = false
            const log = await runDevice(w, 30)
            expect(await healthy(w)).toBe("old")
            expect(w.progress.filter(x => x.state === "rolled-back").length).toBe(1)
            expect(log.length).toBe(3) // the rebuild, the trial boot, the boot that refuses it
            expect(log[2].plan).toMatchObject({ result: "refused", reason: "failed-before", target: "2_0_0" })
        })

    it("a plain full image still goes to the store's blocks with an applier configured", async () => {
        const p = await imagePair(3, 20000, 12)
        const w = deltaWorld(p, "delta", { sourceVersion: undefined }, p.nw)
        await w.install()
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })
})

/** The slot that does not run: untouched (all 0xFF) since the factory install. */
function receivingSlotErased(w: World): boolean {
    return w.flash.peek(w.layout.slotAddress[1], w.layout.slotSize).every(b => b === 0xff)
}

/** The device runs the factory image, byte for byte, confirmed; the other slot is not ready. */
async function oldIntact(w: World, p: Pair) {
    expect(await healthy(w)).toBe("old")
    const img = await w.runningImage()
    expect(img.bytes.equals(p.old)).toBe(true)
    const s = w.newStore()
    await s.mount()
    expect(["empty", "receiving", "bad"]).toContain(storeState(s).slots[1].state)
}

describe("bad packages are refused with a reason; the running image stays byte-identical", () => {
    it("a delta made for another base of the same version: the rebuilt image fails its SHA-256 TLV (bad-image)", async () => {
        const p = await imagePair(4, 20000, 12)
        const other = await imagePair(5, 20000, 12) // another 1_0_0
        const w = deltaWorld(p, "delta", {}, createPatch(other.old, p.nw).patch)
        await w.install()
        const r = await once(w)
        expect(r).toMatchObject({ result: "failed", reason: "bad-image" })
        await oldIntact(w, p)
    })

    it("a delta whose running image (its base) fails its own SHA-256: refused before any byte is written (base-mismatch)", async () => {
        const p = await imagePair(6, 20000, 12)
        const w = deltaWorld(p, "delta")
        await w.install()
        // a bit of the running image's body decays on the flash (the store's boot does not look)
        w.flash.flipBit(w.layout.slotAddress[0] + 5000, 3)
        const r = await once(w)
        expect(r).toMatchObject({ result: "failed", reason: "base-mismatch" })
        expect(receivingSlotErased(w)).toBe(true)
    })

    it("a delta from another version: refused by the policy (wrong-source-version)", async () => {
        const p = await imagePair(7, 20000, 12)
        const w = deltaWorld(p, "delta", { sourceVersion: "0_9_0" })
        await w.install()
        // the platform only offers a delta to its source version: a misconfigured plan pushed anyway
        const e = w.powerOn()
        await run(e.start())
        w.moduleEnd.write(Buffer.from(`\r\n+QIOTEVT: 7,10700,"STM32","0_9_0","2_0_0",30,-113,${w.pkg.data.length}\r\n`))
        expect(await run(e.waitForPlan(1000))).toMatchObject({ result: "refused", reason: "wrong-source-version" })
        await oldIntact(w, p)
        expect(receivingSlotErased(w)).toBe(true)
    })

    for (const kind of ["delta", "compressed"] as const)
        it(`a truncated ${kind} package (its digests are the truncated bytes'): bad-patch`, async () => {
            const p = await imagePair(8, 20000, 12)
            const pkg = packageOf(p, kind)
            const w = deltaWorld(p, kind, {}, pkg.subarray(0, pkg.length - 7))
            await w.install()
            expect(await once(w)).toMatchObject({ result: "failed", reason: "bad-patch" })
            await oldIntact(w, p)
        })

    it("a package with a corrupted byte (the platform's digests are of the corrupted bytes): the exact target or a refusal, never another image", async () => {
        const p = await imagePair(9, 20000, 12)
        const pkg = Buffer.from(packageOf(p, "delta"))
        const seen = new Map<string, number>()
        for (let at = 0; at < pkg.length; at += 7) {
            const bad = Buffer.from(pkg)
            bad[at] ^= 1 << at % 8
            const w = deltaWorld(p, "delta", {}, bad)
            await w.install()
            const r = await once(w)
            seen.set(r.reason ?? r.result, (seen.get(r.reason ?? r.result) ?? 0) + 1)
            if (r.result === "rebooting") {
                // a flip the heatshrink stream absorbs (a back-reference to the same bytes): the image is the target, checked
                await runDevice(w)
                expect(await healthy(w), `byte ${at}`).toBe("new")
                continue
            }
            expect(r.result, `byte ${at}`).toBe("failed")
            expect(["bad-patch", "bad-image", "too-large", "unsupported-package"], `byte ${at}: ${r.reason}`).toContain(r.reason)
            await oldIntact(w, p)
        }
        console.log(`a corrupted ${pkg.length}-byte delta, one bit flipped every 7 bytes: ${[...seen].map(([k, v]) => `${k} ${v}`).join(", ")}`)
        expect(seen.get("bad-image")).toBeGreaterThan(0)
        expect(seen.get("bad-patch")).toBeGreaterThan(0)
    }, 60_000)

    it("a package corrupted on the way (the bytes do not match the 10701 digests): md5-mismatch, or the applier's refusal", async () => {
        const p = await imagePair(10, 20000, 12)
        const pkg = packageOf(p, "delta")
        for (const offset of [0, 5, Math.floor(pkg.length / 2), pkg.length - 1]) {
            const w = deltaWorld(p, "delta", { module: { faults: [{ afterMs: 0, action: { kind: "bad-package", offset } }] } })
            await w.install()
            const r = await once(w)
            expect(r.result, `offset ${offset}`).toBe("failed")
            // the applier may refuse what the digests would have caught at the end
            expect(["md5-mismatch", "bad-patch", "too-large", "unsupported-package"], `offset ${offset}: ${r.reason}`).toContain(r.reason)
            await oldIntact(w, p)
        }
    })

    it("a patch whose image overruns the slot: refused at its header, before any byte is written (too-large)", async () => {
        const p = await imagePair(11, 20000, 12)
        const big = await mcubootImage(Buffer.alloc(40000, 0x5a), "2_0_0")
        const w = deltaWorld({ old: p.old, nw: big }, "delta", { slotSize: 24576 })
        await w.install()
        expect(w.layout.slotSize).toBeLessThan(big.length)
        const r = await once(w)
        expect(r).toMatchObject({ result: "failed", reason: "too-large" })
        await oldIntact(w, p)
        expect(receivingSlotErased(w)).toBe(true)
    })
})

describe("the module restarts in the middle of a block: the rebuild goes on where it was", () => {
    for (const kind of ["delta", "compressed"] as const)
        it(`${kind}: a reboot mid-reply at every block, one run each; nothing read twice but that block, no image byte written twice`, async () => {
            const p = await imagePair(12, 20000, 12)
            const pkg = packageOf(p, kind)
            const block = kind === "delta" ? 128 : 1024
            const blocks = Math.ceil(pkg.length / block)
            expect(blocks).toBeGreaterThan(3)
            for (let b = 0; b < blocks; b++) {
                const w = deltaWorld(p, kind, {
                    engine: { blockSize: block },
                    module: { maxRead: block, faults: [{ at: `AT+QIOTOTARD=${b * block},`, action: { kind: "reboot-mid-payload", afterBytes: Math.floor(block / 3) } }] },
                })
                await w.install()
                let twice = 0
                const seen = new Set<number>()
                const program = w.flash.program.bind(w.flash)
                w.flash.program = async (a: number, d: Buffer) => {
                    await program(a, d)
                    if (a < w.layout.slotAddress[1]) return
                    if (seen.has(a)) twice++
                    seen.add(a)
                }
                const e = w.powerOn()
                await run(e.start())
                await expect(run(e.checkForUpdate())).rejects.toThrow("reboot")
                expect(e.stats.moduleRestarts, `block ${b}`).toBe(1)
                expect(e.stats.bytesRead - pkg.length, `block ${b}`).toBeLessThanOrEqual(block)
                expect(twice, `block ${b}`).toBe(0)
                expect(seen.size, `block ${b}`).toBeGreaterThan(0)
                await runDevice(w)
                expect(await healthy(w)).toBe("new")
            }
        }, 60_000)
})

describe("a package in several pieces (the module's buffer is smaller)", () => {
    for (const kind of ["delta", "compressed"] as const)
        it(`${kind}: upgraded; a power cut in the middle of the apply resumes from its checkpoint (the pieces before it are passed over, not read) and upgrades`, async () => {
            const p = await imagePair(13, 40000, 25)
            const piece = kind === "delta" ? 256 : 8192
            const opts = { module: { pieceSize: piece }, engine: { blockSize: kind === "delta" ? 128 : 1024, offerTimeoutMs: 2000, resultTimeoutMs: 2000 } }
            const clean = deltaWorld(p, kind, opts)
            await clean.install()
            await runDevice(clean)
            expect(await healthy(clean)).toBe("new")
            for (const op of [12, 25, 38]) {
                const w = deltaWorld(p, kind, opts)
                await w.install()
                w.flash.resetCounters()
                w.flash.armCut({ op, kind: "torn", at: 0.5, seed: op })
                const log = await runDevice(w, 6)
                expect(log.some(b => b.cut), `op ${op}`).toBe(true)
                expect(await healthy(w), `op ${op}`).toBe("new")
            }
        }, 60_000)
})
