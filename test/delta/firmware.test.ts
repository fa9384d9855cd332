// Real pairs: the simulator's firmware images (MCUboot images of the DeviceScript firmware program,
// as `npm run sim` builds them). 1_0_0 → 2_0_0 differ by the version string only; the constant
// pair by one number in the program. detools and our builder both ways; every 4 KB checkpoint of
// the version pair resumes (window by reference and by value); the patch shares stay small.
import { fileURLToPath } from "node:url"
import { beforeAll, describe, expect, it, vi } from "vitest"
import { readFileSync } from "node:fs"
import { constantPair, FirmwarePair, PAIR_EDITS, versionPair } from "../../tools/delta/firmware-pairs"
import { compressImage, createPatch } from "../../tools/delta/patch"
import { detoolsApply, detoolsCreate } from "./detools"
import { apply, resume } from "./harness"

vi.setConfig({ testTimeout: 300_000, hookTimeout: 600_000 })

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
let pairs: FirmwarePair[] = []

beforeAll(async () => {
    pairs = [await versionPair(ROOT), await constantPair(ROOT)]
})

describe("firmware images", () => {
    it("bench:delta's source edits (one constant, a small feature) each apply exactly once to today's firmware", () => {
        // the feature pair's anchor line went stale once and bench/delta.ts threw; nothing else runs it in CI
        for (const [name, e] of Object.entries(PAIR_EDITS)) {
            const text = readFileSync(`${ROOT}src/${e.file}`, "utf8")
            expect(text.split(e.from).length, `${name}: ${JSON.stringify(e.from)} in src/${e.file}`).toBe(2)
        }
    })
    it("detools' patches apply with ours and ours with detools, at a few per cent of the image", async () => {
        for (const p of pairs) {
            const theirs = detoolsCreate(p.old, p.nw)
            expect((await apply(p.old, theirs, { chunk: 1024 })).out.equals(p.nw), `${p.name}: detools → ours`).toBe(true)
            const ours = createPatch(p.old, p.nw).patch
            const d = detoolsApply(p.old, ours)
            expect(d.ok && d.data!.equals(p.nw), `${p.name}: ours → detools: ${d.out}`).toBe(true)
            expect(ours.length / p.nw.length, p.name).toBeLessThan(0.03)
            expect(ours.length, p.name).toBeLessThanOrEqual(theirs.length + 16)
        }
    })
    it("a compressed full image applies with both", async () => {
        const img = pairs[0].nw
        const pkg = compressImage(img).patch
        expect(pkg.length).toBeLessThan(img.length)
        const d = detoolsApply(Buffer.alloc(0), pkg)
        expect(d.ok && d.data!.equals(img), d.out).toBe(true)
        expect((await apply(pairs[0].old, pkg, { chunk: 1024 })).out.equals(img)).toBe(true)
    })
    it("every 4 KB checkpoint of 1_0_0 → 2_0_0 resumes, the window by reference and by value", async () => {
        const p = pairs[0]
        const patch = createPatch(p.old, p.nw).patch
        for (const readNew of [true, false]) {
            const full = await apply(p.old, patch, { every: 4096, readNew, chunk: 1024 })
            expect(full.out.equals(p.nw)).toBe(true)
            expect(full.checkpoints.length).toBe(Math.floor((p.nw.length - 1) / 4096))
            for (const c of full.checkpoints) {
                if (readNew) expect(c.cp.length, `checkpoint at ${c.at}`).toBeLessThanOrEqual(64)
                const cut = Buffer.from(full.out)
                cut.fill(0xff, c.at)
                const r = await resume(p.old, patch, { ...full, out: cut }, c.cp, { every: 4096, readNew, chunk: 1024 })
                expect(r.out.equals(p.nw), `resumed at ${c.at}`).toBe(true)
            }
        }
    })
})
