// Resuming an apply after a power cut: a checkpoint at every output sector boundary, each restored
// into a fresh applier over an output whose bytes after the checkpoint were wiped (the store
// erases that sector on resume), the patch fed again from the checkpoint's patch offset in pieces
// that do not line up with anything; every resume ends with the exact target. Both window forms
// (by value, by reference with readNew), heatshrink windows 4/8/10 and none, detools' patches
// and ours; chains of cuts; the tap is exactly at the checkpoint's patch offset.
import { describe, expect, it, vi } from "vitest"
import { crc32Update } from "../../src/lib/crc32"
import { createPatch } from "../../tools/delta/patch"
import { rng } from "../helpers/rng"
import { detoolsCreate } from "./detools"
import { apply, resume, Run, RunOptions } from "./harness"
import { randomPair } from "./pairs"

vi.setConfig({ testTimeout: 180_000 })

const { old, nw } = randomPair(31, 24_000, 12)

function wipeAfter(r: Run, at: number, seed: number): Run {
    const g = rng(seed)
    const out = Buffer.from(r.out)
    for (let i = at; i < out.length; i++) out[i] = g.int(0, 1) ? 0xff : g.int(0, 255)
    return { ...r, out }
}

const patches = () => [
    { name: "ours, heatshrink 8/7", patch: createPatch(old, nw).patch, w: 8 },
    { name: "detools, heatshrink 8/7", patch: detoolsCreate(old, nw), w: 8 },
    { name: "detools, heatshrink 10/5", patch: detoolsCreate(old, nw, { window: 10, lookahead: 5 }), w: 10 },
    { name: "ours, heatshrink 4/3", patch: createPatch(old, nw, { heatshrink: { windowSz2: 4, lookaheadSz2: 3 } }).patch, w: 4 },
    { name: "detools, none", patch: detoolsCreate(old, nw, { compression: "none" }), w: 0 },
]

describe("resume from every checkpoint", () => {
    for (const readNew of [true, false]) {
        it(`window ${readNew ? "by reference (readNew)" : "by value"}: every checkpoint of every patch resumes to the exact target`, async () => {
            for (const p of patches()) {
                const o: RunOptions = { every: 1024, readNew, chunk: 1000 }
                const full = await apply(old, p.patch, o)
                expect(full.out.equals(nw), p.name).toBe(true)
                const n = full.checkpoints.length
                expect(n, p.name).toBe(Math.floor((nw.length - 1) / 1024))
                let sizes = 0
                for (const [i, c] of full.checkpoints.entries()) {
                    expect(c.at, p.name).toBe((i + 1) * 1024)
                    // the window by value is at most 2^W bytes and ~40 bytes of state
                    expect(c.cp.length, `${p.name} #${i}`).toBeLessThanOrEqual((p.w ? 1 << p.w : 0) + 64)
                    sizes += c.cp.length
                    const cut = wipeAfter(full, c.at, i)
                    // resume with other piece sizes than the first run's
                    const r = await resume(old, p.patch, cut, c.cp, { ...o, chunk: (k: number) => 1 + ((k * 37 + i) % 300) })
                    expect(r.out.equals(nw), `${p.name}: resumed at checkpoint ${i} (${c.at})`).toBe(true)
                }
                if (readNew && p.w === 8) expect(sizes / n, `${p.name}: mean checkpoint`).toBeLessThan(120)
            }
        })
    }

    it("a chain of cuts: a cut after every checkpoint, each run resuming from the one before", async () => {
        for (const p of patches()) {
            for (const readNew of [true, false]) {
                const o: RunOptions = { every: 512, readNew, chunk: 333 }
                const full = await apply(old, p.patch, o)
                const pad = (r: Run) => Buffer.concat([r.out, Buffer.alloc(Math.max(0, nw.length - r.out.length), 0xff)])
                let r = await apply(old, p.patch, { ...o, stopAt: full.checkpoints[0].patchOffset + 5 })
                let resumes = 0
                for (let i = 1; ; i++) {
                    const last = r.checkpoints[r.checkpoints.length - 1]
                    expect(last.at, `${p.name}: the run before resume ${i}`).toBe(full.checkpoints[i - 1].at)
                    expect(last.patchOffset).toBe(full.checkpoints[i - 1].patchOffset)
                    const stopAt = i < full.checkpoints.length ? full.checkpoints[i].patchOffset + 5 : undefined
                    r = await resume(old, p.patch, wipeAfter({ ...r, out: pad(r) }, last.at, i), last.cp, { ...o, stopAt })
                    resumes++
                    if (stopAt === undefined || stopAt >= p.patch.length) break
                }
                expect(r.out.equals(nw), `${p.name}, readNew ${readNew}: after ${resumes} resumes`).toBe(true)
                // one resume per checkpoint (one fewer when the last checkpoint is within 5 bytes of the patch's end)
                expect(resumes).toBeGreaterThanOrEqual(full.checkpoints.length - 1)
            }
        }
    })

    it("a power cut at every 3rd patch byte: resumed from the last checkpoint, re-fed and re-written bytes bounded", async () => {
        for (const p of patches().slice(0, 3)) {
            const every = 2048
            const o: RunOptions = { every, readNew: true, chunk: 1024 }
            const full = await apply(old, p.patch, o)
            let worstRefed = 0
            let worstRewritten = 0
            let cuts = 0
            for (let cutAt = 1; cutAt < p.patch.length; cutAt += 3) {
                const r = await apply(old, p.patch, { ...o, stopAt: cutAt })
                const last = r.checkpoints[r.checkpoints.length - 1]
                // before the first checkpoint there is nothing to resume: the apply starts over
                if (!last) continue
                cuts++
                const written = r.out.length
                const res = await resume(old, p.patch, wipeAfter(r, last.at, cutAt), last.cp, { ...o, chunk: 700 })
                expect(res.out.equals(nw), `${p.name}: cut at patch byte ${cutAt}, resumed at ${last.at}`).toBe(true)
                worstRefed = Math.max(worstRefed, cutAt - last.patchOffset)
                worstRewritten = Math.max(worstRewritten, written - last.at)
            }
            // what a resume redoes is what came after its checkpoint: at most one interval of
            // output (plus the bytes decoded but not yet written), and the patch bytes behind it
            expect(worstRewritten, p.name).toBeLessThanOrEqual(every)
            const maxPatchPerInterval = Math.max(...full.checkpoints.map((c, i) => c.patchOffset - (i ? full.checkpoints[i - 1].patchOffset : 0)), p.patch.length - full.checkpoints[full.checkpoints.length - 1].patchOffset)
            expect(worstRefed, p.name).toBeLessThanOrEqual(maxPatchPerInterval + 1024)
            expect(cuts, p.name).toBeGreaterThan(0)
        }
    })

    it("the tap has seen exactly the patch bytes before the checkpoint's patch offset", async () => {
        const patch = createPatch(old, nw).patch
        let crc = 0
        let seen = 0
        const at: { seen: number; crc: number; off: number }[] = []
        const r = await apply(old, patch, {
            every: 2048,
            readNew: true,
            chunk: 1024,
            extra: {
                digests: {
                    update: async (d, s, e) => {
                        crc = crc32Update(crc, d, s, e)
                        seen += e - s
                    },
                },
            },
            onCp: c => void at.push({ seen, crc, off: c.patchOffset }),
        })
        expect(r.out.equals(nw)).toBe(true)
        expect(seen).toBe(patch.length)
        expect(at.length).toBe(Math.floor((nw.length - 1) / 2048))
        for (const a of at) {
            expect(a.seen).toBe(a.off)
            expect(a.crc).toBe(crc32Update(0, patch, 0, a.off))
        }
    })
})
