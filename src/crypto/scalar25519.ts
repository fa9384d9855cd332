// Scalars mod L = 2^252 + 27742317777372353535851937790883648493, the order of Ed25519's base
// point, as 32 little-endian bytes: the S < L check, the reduction of a 64-byte hash, and the
// non-adjacent form (NAF) read from the top down without storing its digits.

import { hex } from "../lib/hex"

/** L, little-endian. */
export const L = hex`edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010`

/**
 * Compare the 32 little-endian bytes at b[off], the top one masked by `mask`, with those at
 * c[at]: negative, 0 or positive as the first is below, equal to or above the second.
 */
export function compare32(b: Buffer, off: number, c: Buffer, at: number, mask: number): number {
    let i = 31
    let x = b[off + 31] & mask
    // (no && in the loop's test: it costs more bytecode than the break)
    while (i > 0) {
        if (x !== c[at + i]) break
        i--
        x = b[off + i]
    }
    return x - c[at + i]
}

/** True when the 32 bytes at b[off] are a number below L (RFC 8032 requires S < L). */
export function scalarIsCanonical(b: Buffer, off: number): boolean {
    return compare32(b, off, L, 0, 0xff) < 0
}

/** Opcodes of scalarReduce in the VM, measured: 29 500 to 33 000. */
export const REDUCE_COST = 33000

/**
 * out[0..32) = the 64 little-endian bytes at h[off] mod L (TweetNaCl's modL): each top byte
 * x[i] * 2^(8i) is replaced by -x[i] * (L - 2^252) * 2^(8i - 252), then the rest is folded once.
 * Every intermediate stays below 2^29 in magnitude, so int32 shifts replace TweetNaCl's Math.floor.
 * (x[j] = x[j] + c, not x[j] += c: the compound form costs 12 B more in DeviceScript.)
 */
export function scalarReduce(out: Buffer, h: Buffer, off: number) {
    const x: number[] = []
    for (let i = 0; i < 64; i++) x.push(h[off + i])
    let carry = 0
    for (let i = 63; i >= 32; i--) {
        carry = 0
        const xi = 16 * x[i]
        const base = i - 32
        let j = base
        for (; j < i - 12; j++) {
            const v = x[j] + carry - xi * L[j - base]
            carry = (v + 128) >> 8
            x[j] = v - carry * 256
        }
        x[j] = x[j] + carry
        x[i] = 0
    }
    carry = 0
    const top = x[31] >> 4
    for (let j = 0; j < 32; j++) {
        x[j] = x[j] + (carry - top * L[j])
        carry = x[j] >> 8
        x[j] = x[j] & 255
    }
    for (let j = 0; j < 32; j++) x[j] = x[j] - carry * L[j]
    for (let i = 0; i < 32; i++) {
        x[i + 1] = x[i + 1] + (x[i] >> 8)
        out[i] = x[i] & 255
    }
}

/** out = 3 k (k < 2^253, so 3 k fits 32 bytes): with k, it gives the NAF digits (nafDigit). */
export function scalarTriple(out: Buffer, k: Buffer, off: number) {
    let c = 0
    for (let i = 0; i < 32; i++) {
        const v = 3 * k[off + i] + c
        out[i] = v & 255
        c = v >> 8
    }
}

/**
 * Digit j (0..253) of the NAF of k, in {-1, 0, 1}: bit j+1 of 3k minus bit j+1 of k. The NAF has
 * at most one nonzero digit in any two adjacent ones (a third of them on average, against half
 * of the plain binary digits), and -P costs nothing on Edwards curves.
 */
export function nafDigit(k3: Buffer, k: Buffer, off: number, j: number): number {
    const p = (j + 1) >> 3
    const s = (j + 1) & 7
    return ((k3[p] >> s) & 1) - ((k[off + p] >> s) & 1)
}
