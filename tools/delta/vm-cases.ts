// The cases of the VM suite's committed fixture (test/vm/lib/delta-fixture.ts): small seeded
// images, patches from our builder. `npm run delta -- vm-fixture` writes the file; a vitest test
// (test/delta/vm-fixture.test.ts) fails when the committed one is not what this makes.

import { compressImage, createPatch } from "./patch"
import { FixtureCase, fixtureSource } from "./vm-fixture"

/** Seeded bytes (mulberry32), so the fixture is the same on every machine. */
function seeded(seed: number) {
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

function imageLike(seed: number, n: number): Buffer {
    const r = seeded(seed)
    const b = Buffer.alloc(n)
    let i = 0
    while (i < n) {
        const len = Math.min(n - i, 1 + Math.floor(r() * 200))
        const kind = Math.floor(r() * 4)
        for (let k = 0; k < len; k++) b[i + k] = kind === 0 ? 0 : kind === 1 && i > 64 ? b[i + k - 64] : Math.floor(r() * 256)
        i += len
    }
    return b
}

export function vmCases(): FixtureCase[] {
    const old = imageLike(18, 6000)
    const nw = Buffer.concat([old.subarray(0, 1000), Buffer.from("version 2_0_0 with a new feature"), old.subarray(1000, 3000), old.subarray(3100, 6000), imageLike(19, 300)])
    for (let i = 4000; i < 4010; i++) nw[i] ^= 0x5a
    return [
        { name: "heatshrink 8/7", old, patch: createPatch(old, nw).patch, target: nw },
        { name: "heatshrink 10/9", old, patch: createPatch(old, nw, { heatshrink: { windowSz2: 10, lookaheadSz2: 9 } }).patch, target: nw },
        { name: "none", old, patch: createPatch(old, nw, { compression: "none" }).patch, target: nw },
        { name: "compressed full image", old: Buffer.alloc(0), patch: compressImage(nw).patch, target: nw },
        // 24 KB of output from a few bytes of patch: one feed must not overrun the opcode budget
        { name: "zeros from nothing", old: Buffer.alloc(0), patch: compressImage(Buffer.alloc(24576)).patch, target: Buffer.alloc(24576) },
    ]
}

export function vmFixtureSource(): string {
    return fixtureSource("// The delta VM suite's patches (test/vm/delta.vm.ts), from tools/delta/vm-cases.ts.", vmCases())
}
