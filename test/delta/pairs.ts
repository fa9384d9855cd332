// Old/new image pairs for the delta tests: seeded random "firmware-like" data (runs, repeated
// blocks, random bytes) and new versions made from it by the edits a rebuild makes: changed
// bytes, insertions, deletions, moved blocks, a changed tail.

import { rng, TestRng } from "../helpers/rng"

/** n bytes that look a little like an image: random stretches, repeated blocks, runs of 0x00 and 0xFF. */
export function imageLike(r: TestRng, n: number): Buffer {
    const b = Buffer.alloc(n)
    let i = 0
    while (i < n) {
        const kind = r.int(0, 9)
        const len = Math.min(n - i, r.int(1, 300))
        if (kind < 5) r.bytes(len).copy(b, i)
        else if (kind < 7 && i > 0) {
            const from = r.int(0, i - 1)
            for (let k = 0; k < len; k++) b[i + k] = b[from + (k % (i - from))]
        } else b.fill(kind === 7 ? 0 : kind === 8 ? 0xff : r.int(0, 255), i, i + len)
        i += len
    }
    return b
}

/** `old` with `edits` random edits. */
export function mutate(r: TestRng, old: Buffer, edits: number): Buffer {
    let b = Buffer.from(old)
    for (let e = 0; e < edits; e++) {
        const at = r.int(0, b.length)
        const kind = r.int(0, 4)
        const len = r.int(1, 64)
        if (kind === 0) {
            for (let k = 0; k < len && at + k < b.length; k++) b[at + k] = r.int(0, 255)
        } else if (kind === 1) b = Buffer.concat([b.subarray(0, at), r.bytes(len), b.subarray(at)])
        else if (kind === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))])
        else if (kind === 3 && b.length > 2 * len) {
            const from = r.int(0, b.length - len)
            const block = Buffer.from(b.subarray(from, from + len))
            b = Buffer.concat([b.subarray(0, at), block, b.subarray(at)])
        } else if (b.length > 0) b[Math.min(at, b.length - 1)] ^= 1 << r.int(0, 7)
    }
    return b
}

/** A seeded pair: old of `size` bytes, new with `edits` edits. */
export function randomPair(seed: number, size: number, edits: number): { old: Buffer; nw: Buffer } {
    const r = rng(seed)
    const old = imageLike(r, size)
    return { old, nw: mutate(r, old, edits) }
}
