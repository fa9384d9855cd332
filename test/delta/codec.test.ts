// The pieces under the applier: detools' size fields and the heatshrink coder, against heatshrink2
// (the heatshrink C library's Python binding, detools' own dependency) both ways.
import { describe, expect, it, vi } from "vitest"
import { HeatshrinkDecoder } from "../../src/delta/heatshrink-decoder"
import { decodeSize, encodeSize, sizeLength, SizeRead } from "../../src/delta/size"
import { heatshrinkEncode } from "../../tools/delta/heatshrink-encoder"
import { rng } from "../helpers/rng"
import { heatshrink2 } from "./detools"
import { imageLike } from "./pairs"

vi.setConfig({ testTimeout: 60_000 })

/** Our decoder over `stream`, fed in pieces of `chunk` bytes and polled `max` bytes at a time. */
function decode(stream: Buffer, w: number, l: number, chunk = stream.length, max = 1 << 20): Buffer {
    const d = new HeatshrinkDecoder(w, l)
    const parts: Buffer[] = []
    const out = Buffer.alloc(Math.min(max, 1 << 16))
    for (let i = 0; i < stream.length; i += chunk) {
        const end = Math.min(stream.length, i + chunk)
        let p = i
        for (;;) {
            const n = d.poll(out, 0, out.length, stream, p, end)
            p = d.inPos
            parts.push(Buffer.from(out.subarray(0, n)))
            if (n < out.length) break
        }
        expect(d.inPos).toBe(end)
        expect(d.nbits).toBeLessThan(8)
    }
    return Buffer.concat(parts)
}

describe("size fields (detools pack_size / unpack_size)", () => {
    it("encodes detools' own examples", () => {
        const enc = (v: number) => {
            const b = Buffer.alloc(8)
            return b.subarray(0, encodeSize(v, b, 0)).toString("hex")
        }
        // from the patches detools writes: 0 → 00, 4995 → 83 4e, 10 → 0a, -2990 → ee 2e
        expect(enc(0)).toBe("00")
        expect(enc(4995)).toBe("834e")
        expect(enc(10)).toBe("0a")
        expect(enc(-2990)).toBe("ee2e")
        expect(enc(63)).toBe("3f")
        expect(enc(64)).toBe("8001")
        expect(enc(-1)).toBe("41")
    })
    it("round-trips and measures itself", () => {
        const r: SizeRead = { value: 0, end: 0 }
        const b = Buffer.alloc(8)
        for (const v of [0, 1, -1, 63, 64, -64, 8191, 8192, 1 << 20, -(1 << 27), 0xffffffff, 2 ** 40]) {
            const n = encodeSize(v, b, 0)
            expect(n).toBe(sizeLength(v))
            expect(decodeSize(b, 0, n, r)).toBe(true)
            expect([r.value, r.end]).toEqual([v, n])
            expect(decodeSize(b, 0, n - 1, r)).toBe(false)
        }
        expect(decodeSize(Buffer.from("80808080808001", "hex"), 0, 7, r)).toBe(false) // longer than any size
    })
})

describe("heatshrink", () => {
    const r = rng(18)
    const samples: [string, Buffer][] = [
        ["empty", Buffer.alloc(0)],
        ["one byte", Buffer.from([0x5a])],
        ["zeros", Buffer.alloc(3000)],
        ["0xff run", Buffer.alloc(2000, 0xff)],
        ["random", r.bytes(2000)],
        ["image-like", imageLike(r, 20000)],
        ["text", Buffer.from("the quick brown fox jumps over the lazy dog; ".repeat(100))],
    ]
    const params: [number, number][] = [
        [8, 7],
        [8, 4],
        [4, 3],
        [10, 5],
        [11, 4],
        [12, 9],
    ]
    for (const [w, l] of params) {
        it(`window 2^${w}, lookahead 2^${l}: heatshrink2's streams decode with ours, ours with heatshrink2`, () => {
            for (const [name, data] of samples) {
                const theirs = heatshrink2("compress", data, w, l)
                expect(decode(theirs, w, l), `${name}: theirs → ours`).toEqual(data)
                const ours = heatshrinkEncode(data, { windowSz2: w, lookaheadSz2: l })
                expect(heatshrink2("decompress", ours, w, l), `${name}: ours → theirs`).toEqual(data)
                expect(decode(ours, w, l), `${name}: ours → ours`).toEqual(data)
                // no worse than heatshrink's own encoder by more than a few per cent
                expect(ours.length, name).toBeLessThanOrEqual(Math.ceil(theirs.length * 1.05) + 2)
            }
        })
    }
    it("decodes the same in any input pieces and any output steps", () => {
        const data = imageLike(rng(7), 6000)
        const s = heatshrinkEncode(data, { windowSz2: 8, lookaheadSz2: 7 })
        for (const [chunk, max] of [
            [1, 1],
            [1, 1000],
            [3, 7],
            [64, 129],
            [1000, 1],
        ])
            expect(decode(s, 8, 7, chunk, max), `${chunk}/${max}`).toEqual(data)
    })
    it("refers to the window's initial zeros, as heatshrink's decoder allows", () => {
        const data = Buffer.concat([Buffer.alloc(200), Buffer.from([1, 2, 3])])
        const s = heatshrinkEncode(data)
        expect(s.length).toBeLessThan(10) // the zeros are back-references into the empty window
        expect(heatshrink2("decompress", s, 8, 7)).toEqual(data)
    })
})
