// detools as the oracle, both ways: patches `detools create_patch --patch-type sequential` makes
// (heatshrink with several windows, none, the bsdiff and match-blocks algorithms) apply with our
// applier to the exact target, fed in pieces of any size; the patches our builder makes apply
// with `detools apply_patch` and are no bigger than detools' own, give or take a little;
// compressed full images too. Random pairs of several sizes and edit counts.
import { describe, expect, it, vi } from "vitest"
import { compressImage, createPatch } from "../../tools/delta/patch"
import { rng } from "../helpers/rng"
import { detoolsApply, detoolsCreate, detoolsInfo } from "./detools"
import { apply } from "./harness"
import { imageLike, randomPair } from "./pairs"

vi.setConfig({ testTimeout: 120_000 })

const pairs = [
    { name: "1 KB, 1 edit", ...randomPair(1, 1024, 1) },
    { name: "8 KB, 5 edits", ...randomPair(2, 8192, 5) },
    { name: "40 KB, 20 edits", ...randomPair(3, 40_000, 20) },
    { name: "20 KB, rewritten", old: imageLike(rng(4), 20_000), nw: imageLike(rng(5), 22_000) },
    { name: "identical 10 KB", ...(() => { const o = imageLike(rng(6), 10_000); return { old: o, nw: Buffer.from(o) } })() },
    { name: "from nothing", old: Buffer.alloc(0), nw: imageLike(rng(7), 3000) },
    { name: "to 1 byte", old: imageLike(rng(8), 3000), nw: Buffer.from([7]) },
    { name: "to nothing", old: imageLike(rng(9), 300), nw: Buffer.alloc(0) },
]

describe("detools' patches apply with ours", () => {
    const kinds = [
        { name: "heatshrink (detools' default window 8, lookahead 7)", o: { compression: "heatshrink" as const } },
        { name: "heatshrink window 10, lookahead 5", o: { compression: "heatshrink" as const, window: 10, lookahead: 5 } },
        { name: "heatshrink window 4, lookahead 3", o: { compression: "heatshrink" as const, window: 4, lookahead: 3 } },
        { name: "none", o: { compression: "none" as const } },
        { name: "heatshrink, match-blocks", o: { compression: "heatshrink" as const, algorithm: "match-blocks" as const } },
    ]
    for (const k of kinds) {
        it(k.name, async () => {
            // detools' match-blocks cannot map an empty file
            for (const p of pairs.filter(q => k.o.algorithm !== "match-blocks" || (q.old.length > 0 && q.nw.length > 0))) {
                const patch = detoolsCreate(p.old, p.nw, k.o)
                for (const chunk of [patch.length, 1, 97]) {
                    const r = await apply(p.old, patch, { chunk })
                    expect(r.out.equals(p.nw), `${p.name}, pieces of ${chunk}`).toBe(true)
                }
            }
        })
    }
})

describe("our patches apply with detools", () => {
    for (const compression of ["heatshrink", "none"] as const) {
        it(`${compression}: detools apply_patch rebuilds every target; sizes close to detools' own`, async () => {
            for (const p of pairs) {
                const ours = createPatch(p.old, p.nw, { compression }).patch
                const d = detoolsApply(p.old, ours)
                expect(d.ok, `${p.name}: ${d.out}`).toBe(true)
                expect(d.data!.equals(p.nw), p.name).toBe(true)
                expect((await apply(p.old, ours)).out.equals(p.nw), `${p.name}: ours`).toBe(true)
                const theirs = detoolsCreate(p.old, p.nw, { compression })
                expect(ours.length, p.name).toBeLessThanOrEqual(Math.ceil(theirs.length * 1.1) + 8)
            }
        })
    }
    it("other heatshrink windows, and detools patch_info reads them", async () => {
        const p = pairs[2]
        for (const [w, l] of [
            [10, 5],
            [4, 3],
            [9, 8],
        ]) {
            const ours = createPatch(p.old, p.nw, { heatshrink: { windowSz2: w, lookaheadSz2: l } }).patch
            const d = detoolsApply(p.old, ours)
            expect(d.ok && d.data!.equals(p.nw), `${w}/${l}: ${d.out}`).toBe(true)
            expect(detoolsInfo(ours)).toContain(`window-sz2: ${w}, lookahead-sz2: ${l}`)
        }
    })
    it("a compressed full image applies over any old image, ours and detools'", async () => {
        const img = imageLike(rng(11), 30_000)
        for (const compression of ["heatshrink", "none"] as const) {
            const pkg = compressImage(img, { compression }).patch
            if (compression === "heatshrink") expect(pkg.length).toBeLessThan(img.length)
            for (const old of [Buffer.alloc(0), imageLike(rng(12), 5000)]) {
                const d = detoolsApply(old, pkg)
                expect(d.ok && d.data!.equals(img), d.out).toBe(true)
                expect((await apply(old, pkg, { chunk: 500 })).out.equals(img)).toBe(true)
            }
        }
    })
})
