// Patches the applier must refuse, each with its reason: truncated anywhere, headers it does not
// take, sizes that lie, diffs outside the old image, a target above the maximum, trailing bytes;
// random corruption never makes it read outside the old image, write past the target or fail
// with anything but a DeltaError; bad checkpoints; calls after the end.
import { describe, expect, it, vi } from "vitest"
import { DeltaError, DeltaReason } from "../../src/delta/errors"
import { DeltaApplier } from "../../src/delta/sequential-apply"
import { encodeSize } from "../../src/delta/size"
import { heatshrinkEncode } from "../../tools/delta/heatshrink-encoder"
import { createPatch } from "../../tools/delta/patch"
import { rng } from "../helpers/rng"
import { detoolsApply, detoolsCreate } from "./detools"
import { apply, newRun, resume, RunOptions, sinkOptions } from "./harness"
import { randomPair } from "./pairs"

vi.setConfig({ testTimeout: 120_000 })

const { old, nw } = randomPair(41, 6000, 6)

async function reason(p: Promise<unknown>): Promise<DeltaReason | "ok"> {
    try {
        await p
        return "ok"
    } catch (e) {
        if (e instanceof DeltaError) return e.reason
        throw e
    }
}

const sizes = (...vs: number[]) => {
    const b = Buffer.alloc(vs.length * 8)
    let n = 0
    for (const v of vs) n = encodeSize(v, b, n)
    return b.subarray(0, n)
}

/** A hand-made patch: header byte, to_size, then the data (uncompressed, or heatshrink 8/7). */
function handMade(toSize: number, data: Buffer, compression: "none" | "heatshrink" = "none"): Buffer {
    if (compression === "none") return Buffer.concat([Buffer.from([0]), sizes(toSize), data])
    return Buffer.concat([Buffer.from([4]), sizes(toSize), Buffer.from([0x44]), heatshrinkEncode(data)])
}

describe("refused, with a reason", () => {
    it("truncated anywhere: every prefix of a patch ends in `truncated`, never in a target", async () => {
        for (const compression of ["heatshrink", "none"] as const) {
            const patch = createPatch(old, nw, { compression }).patch
            const step = compression === "none" ? 7 : 1
            for (let n = 0; n < patch.length; n += step) expect(await reason(apply(old, patch.subarray(0, n))), `${compression}: ${n} of ${patch.length} bytes`).toBe("truncated")
            expect(await reason(apply(old, patch))).toBe("ok")
        }
    })
    it("headers: the padding bit, other patch types, other compressions, bad heatshrink parameters", async () => {
        const good = createPatch(old, nw).patch
        const withByte = (i: number, v: number) => {
            const b = Buffer.from(good)
            b[i] = v
            return b
        }
        expect(await reason(apply(old, withByte(0, 0x84)))).toBe("bad-header")
        expect(await reason(apply(old, withByte(0, 0x14)))).toBe("unsupported") // in-place
        expect(await reason(apply(old, withByte(0, 0x24)))).toBe("unsupported") // hdiffpatch
        for (const c of [1, 2, 3, 5, 6, 7, 15]) expect(await reason(apply(old, withByte(0, c))), `compression ${c}`).toBe("unsupported")
        expect(await reason(apply(old, detoolsCreate(old, nw, { compression: "lzma" })))).toBe("unsupported")
        expect(await reason(apply(old, detoolsCreate(old, nw, { patchType: "hdiffpatch", algorithm: "hdiffpatch", compression: "none" })))).toBe("unsupported")
        const at = 1 + encodeSize(nw.length, Buffer.alloc(8), 0) // heatshrink's header byte
        expect(good[at]).toBe(0x44)
        expect(await reason(apply(old, withByte(at, 0x0f)))).toBe("bad-header") // lookahead ≥ window
        expect(await reason(apply(old, withByte(at, 0x77)))).toBe("unsupported") // window 2^11 > the default limit 2^10
        expect(await reason(apply(old, withByte(at, 0x77), { maxWindowSz2: 11 }))).not.toBe("unsupported")
    })
    it("a target above the maximum, before anything is written", async () => {
        const patch = createPatch(old, nw).patch
        const r = newRun()
        r.applier = new DeltaApplier(sinkOptions(old, r, { maxSize: nw.length - 1 }))
        expect(await reason(r.applier.feed(patch, 0, patch.length))).toBe("too-large")
        expect(r.size).toBe(0)
        expect(await reason(apply(old, patch, { maxSize: nw.length }))).toBe("ok")
    })
    it("sizes that lie, diffs outside the old image, a data-format section, trailing bytes", async () => {
        const o = Buffer.alloc(100, 1)
        const cases: [string, Buffer, DeltaReason | "ok"][] = [
            ["a good one", handMade(10, Buffer.concat([sizes(0, 4), Buffer.alloc(4), sizes(6), Buffer.alloc(6, 9), sizes(0)])), "ok"],
            ["diff past to_size", handMade(10, Buffer.concat([sizes(0, 11), Buffer.alloc(11)])), "diff-too-long"],
            ["extra past to_size", handMade(10, Buffer.concat([sizes(0, 4), Buffer.alloc(4), sizes(7), Buffer.alloc(7)])), "extra-too-long"],
            ["a negative diff size", handMade(10, Buffer.concat([sizes(0, -4)])), "bad-size"],
            ["a negative extra size", handMade(10, Buffer.concat([sizes(0, 0, -1)])), "bad-size"],
            ["a negative target size", Buffer.concat([Buffer.from([0]), sizes(-5)]), "bad-size"],
            ["a size field of 7 bytes", Buffer.concat([Buffer.from([0]), Buffer.from("80808080808001", "hex")]), "bad-size"],
            ["a diff past the old image's end", handMade(10, Buffer.concat([sizes(0, 0, 0, 98, 10), Buffer.alloc(10), sizes(0, 0)])), "from-out-of-range"],
            ["a diff before the old image's start", handMade(10, Buffer.concat([sizes(0, 2), Buffer.alloc(2), sizes(0, -5, 8), Buffer.alloc(8), sizes(0, 0)])), "from-out-of-range"],
            ["a data-format section", handMade(10, Buffer.concat([sizes(3, 0), Buffer.alloc(3)])), "unsupported"],
            ["a byte after the end", Buffer.concat([handMade(4, Buffer.concat([sizes(0, 4), Buffer.alloc(4), sizes(0, 0)])), Buffer.from([0])]), "trailing-data"],
            ["bytes after an empty target", Buffer.concat([Buffer.from([0]), sizes(0), Buffer.from([1, 2])]), "trailing-data"],
            ["heatshrink: a good one", handMade(10, Buffer.concat([sizes(0, 4), Buffer.alloc(4), sizes(6), Buffer.alloc(6, 9), sizes(0)]), "heatshrink"), "ok"],
            ["heatshrink: diff past to_size", handMade(10, Buffer.concat([sizes(0, 11), Buffer.alloc(11)]), "heatshrink"), "diff-too-long"],
            ["heatshrink: data after the last adjustment", handMade(4, Buffer.concat([sizes(0, 4), Buffer.alloc(4), sizes(0, 0), Buffer.from([0])]), "heatshrink"), "trailing-data"],
        ]
        for (const [name, patch, want] of cases) {
            expect(await reason(apply(o, patch)), name).toBe(want)
            // detools agrees on what is a patch at all (it is laxer on the tails and sign of sizes)
            if (want === "ok") expect(detoolsApply(o, patch).ok, name).toBe(true)
            if (want === "diff-too-long" || want === "extra-too-long" || want === "unsupported") expect(detoolsApply(o, patch).ok, name).toBe(false)
        }
        const heatshrinkTail = Buffer.concat([createPatch(old, nw).patch, Buffer.from([0x80])])
        expect(await reason(apply(old, heatshrinkTail))).toBe("trailing-data")
        // detools ignores a last byte whose bits complete no item; a whole byte after the end is
        // not something a heatshrink encoder writes, so we refuse it
        expect(detoolsApply(old, heatshrinkTail).ok).toBe(true)
    })
    // detools' format has no checksum of its own: a flipped diff or extra byte is a wrong target of
    // the right size, which the image's SHA-256 check refuses; what the applier can see (headers,
    // sizes, offsets, the end) it refuses.
    it("random corruption: a DeltaError or a target of the announced size, never a read outside the old image or a write past it", async () => {
        const g = rng(77)
        let refused = 0
        let wrong = 0
        for (const compression of ["heatshrink", "none"] as const) {
            const patch = createPatch(old, nw, { compression }).patch
            for (let k = 0; k < 300; k++) {
                const bad = Buffer.from(patch)
                const flips = g.int(1, 3)
                for (let f = 0; f < flips; f++) bad[g.int(0, bad.length - 1)] ^= 1 << g.int(0, 7)
                // the harness's readOld throws a plain Error outside the old image: that would fail here
                const r = newRun()
                r.applier = new DeltaApplier(sinkOptions(old, r, { maxSize: nw.length + 64 }))
                let size = -1
                const why = await reason((async () => {
                    await r.applier.feed(bad, 0, bad.length)
                    size = await r.applier.finish()
                })())
                expect(r.size).toBeLessThanOrEqual(nw.length + 64)
                if (why !== "ok") refused++
                else {
                    expect(r.size).toBe(size)
                    if (!r.out.subarray(0, r.size).equals(nw)) wrong++
                }
            }
        }
        expect(refused).toBeGreaterThan(100)
        expect(refused + wrong).toBeGreaterThan(550) // nearly every flip changes something
    })
})

describe("checkpoints and calls out of order", () => {
    it("a corrupted, cut or misapplied checkpoint is refused", async () => {
        const patch = createPatch(old, nw).patch
        const o: RunOptions = { every: 1024, readNew: true }
        const full = await apply(old, patch, o)
        const c = full.checkpoints[2]
        for (let i = 0; i < c.cp.length; i++) {
            const bad = Buffer.from(c.cp)
            bad[i] ^= 0x10
            expect(await reason(resume(old, patch, full, bad, o)), `byte ${i}`).toBe("bad-checkpoint")
        }
        expect(await reason(resume(old, patch, full, c.cp.subarray(0, c.cp.length - 1), o))).toBe("bad-checkpoint")
        // a window by reference needs readNew
        const hasSpans = full.checkpoints.some(x => x.cp.length < 100)
        expect(hasSpans).toBe(true)
        const small = full.checkpoints.find(x => x.cp.length < 100)!
        expect(await reason(resume(old, patch, full, small.cp, { ...o, readNew: false }))).toBe("bad-checkpoint")
        // a used applier cannot resume
        const r = newRun()
        r.applier = new DeltaApplier(sinkOptions(old, r, o))
        await r.applier.feed(patch, 0, 10)
        expect(await reason(r.applier.resume(c.cp))).toBe("closed")
    })
    it("after a failure every call fails the same; after finish, feed and finish are closed", async () => {
        const r = newRun()
        r.applier = new DeltaApplier(sinkOptions(old, r, {}))
        expect(await reason(r.applier.feed(Buffer.from([0x84]), 0, 1))).toBe("bad-header")
        const whole = createPatch(old, nw).patch
        expect(await reason(r.applier.feed(whole, 0, whole.length))).toBe("bad-header")
        expect(await reason(r.applier.finish())).toBe("bad-header")
        const ok = await apply(old, createPatch(old, nw).patch)
        expect(await reason(ok.applier.feed(Buffer.from([0]), 0, 1))).toBe("closed")
        expect(await reason(ok.applier.finish())).toBe("closed")
    })
})
