// Arithmetic mod p = 2^255 - 19 without BigInt: an element is 15 signed limbs of 17 bits, value
// sum(f[i] * 2^(17 i)), each limb a double holding an integer. Additions and subtractions are
// limb-wise with no carry (field-mul.ts accepts limbs up to 2^22); mul carries its output.
// Only pack() produces the canonical value. Nothing here allocates but fe().
import { mul } from "./field-mul"
import { hex } from "../lib/hex"
import { MUL_COST, Pace, pay } from "./pace"

export type Fe = number[]

export const LIMBS = 15
const RADIX = 131072 // 2^17

export function fe(): Fe {
    return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

export function feCopy(o: Fe, a: Fe) {
    for (let i = 0; i < LIMBS; i++) o[i] = a[i]
}

/**
 * o = a + s b, s 1 or -1: a sum or a difference (a + -b is a - b exactly: the limbs are
 * integers far below 2^53). One function for both: a function costs a 16 B descriptor.
 */
export function feAdd(o: Fe, a: Fe, b: Fe, s: number) {
    for (let i = 0; i < LIMBS; i++) o[i] = a[i] + s * b[i]
}

/** o = bits 0..254 of the little-endian 32 bytes at b[off] (bit 255, a point's sign, is ignored). */
export function feUnpack(o: Fe, b: Buffer, off: number) {
    for (let i = 0; i < LIMBS; i++) {
        const bit = 17 * i
        const p = off + (bit >> 3)
        // 3 bytes cover 17 bits at any shift up to 7; limb 14 (bits 238..254) ends in byte 31
        const v = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)
        o[i] = (v >> (bit & 7)) & 0x1ffff
    }
}

/**
 * Canonical little-endian bytes of a (reduced into [0, p)) at out[off..off+32); a is clobbered.
 * Four passes floor-carry every limb into [0, 2^17), the carry out of the top coming back as
 * 19 c (2^255 = 19). The first two bring any mul output or small sum of them into [0, 2^255)
 * (the second can only ripple one borrow or carry around). a + 19 reaches 2^255 exactly when
 * a >= p, and then the third pass folds it back to a - p + 19; taking the 19 off again before the
 * fourth leaves a mod p either way. (The passes were a function called four times: a descriptor
 * and four calls more.)
 */
export function fePack(out: Buffer, off: number, a: Fe) {
    // (a[i] = a[i] + x, never a[i] += x: on a parameter the compound form copies it first, 4 B)
    for (let pass = 0; pass < 4; pass++) {
        // + 19 before the third pass, - 19 before the fourth: 19 (5 - 2 pass)
        if (pass > 1) a[0] = a[0] + 19 * (5 - 2 * pass)
        for (let i = 0; i < LIMBS; i++) {
            const c = Math.floor(a[i] / RADIX)
            a[i] = a[i] - c * RADIX
            if (i < LIMBS - 1) a[i + 1] = a[i + 1] + c
            else a[0] = a[0] + 19 * c
        }
    }
    let acc = 0
    let bits = 0
    let p = off
    for (let i = 0; i < LIMBS; i++) {
        acc |= a[i] << bits
        bits += 17
        while (bits >= 8) {
            out[p] = acc & 0xff
            p++
            acc >>>= 8
            bits -= 8
        }
    }
    out[p] = acc // bit 255 is 0
}

/**
 * The addition chains of ref10 (and every Curve25519 code since) as data, 3 bytes a step:
 * kind << 4 | destination, a, b; kind 0 is s[dst] = s[a] * s[b], kind 1 is s[dst] = s[a]^(2^b).
 * Slots: 0 z, 1..4 the temporaries t0..t3, 5 the result. Both share the head z^11 in t0 and
 * z^(2^250 - 1) in t1 (249 squarings, 9 multiplications), then part:
 * 1/z = z^(p - 2) = (z^(2^250 - 1))^(2^5) * z^11, and z^((p - 5) / 8) = (z^(2^250 - 1))^4 * z.
 */
export const INVERT = hex`
    010000 020101 020202 020002 010102 030101 020203 130205 020302 13020a 030302
    140314 030403 13030a 020302 130232 030302 140364 030403 130332 020302
    120205 050201
`
export const POW22523 = hex`
    010000 020101 020202 020002 010102 030101 020203 130205 020302 13020a 030302
    140314 030403 13030a 020302 130232 030302 140364 030403 130332 020302
    120202 050200
`

/** o = z raised by `chain` (INVERT or POW22523), every multiplication charged to the pace. o may be z. */
export async function fePow(o: Fe, z: Fe, chain: Buffer, t0: Fe, t1: Fe, t2: Fe, t3: Fe, pace: Pace) {
    const s = [z, t0, t1, t2, t3, o]
    for (let i = 0; i < chain.length; i += 3) {
        const d = s[chain[i] & 15]
        const a = s[chain[i + 1]]
        let b = a
        let n = chain[i + 2]
        if (chain[i] >> 4 !== 1) {
            // not kind 1 (squarings): a multiplication by the third byte's slot
            b = s[n]
            n = 1
        }
        for (let j = 0; j < n; j++) {
            await pay(pace, MUL_COST)
            if (j === 0) mul(d, a, b)
            else mul(d, d, d)
        }
    }
}
