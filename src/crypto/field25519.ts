// Arithmetic mod p = 2^255 - 19 without BigInt: an element is 15 signed limbs of 17 bits, value
// sum(f[i] * 2^(17 i)), each limb a double holding an integer. Additions and subtractions are
// limb-wise with no carry (field-mul.ts accepts limbs up to 2^22); mul carries its output.
// Only pack() produces the canonical value. Nothing here allocates but fe().
import { mul } from "./field-mul"
import { MUL_COST, Pace, due, spend } from "./pace"

export type Fe = number[]

export const LIMBS = 15
const RADIX = 131072 // 2^17

export function fe(): Fe {
    return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

export function feCopy(o: Fe, a: Fe) {
    for (let i = 0; i < LIMBS; i++) o[i] = a[i]
}

export function feSmall(o: Fe, v: number) {
    o[0] = v
    for (let i = 1; i < LIMBS; i++) o[i] = 0
}

export function feAdd(o: Fe, a: Fe, b: Fe) {
    for (let i = 0; i < LIMBS; i++) o[i] = a[i] + b[i]
}

export function feSub(o: Fe, a: Fe, b: Fe) {
    for (let i = 0; i < LIMBS; i++) o[i] = a[i] - b[i]
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

/** Floor-carry every limb into [0, 2^17); the carry out of the top comes back as 19 c (2^255 = 19). */
function carryFloor(a: Fe) {
    for (let i = 0; i < LIMBS; i++) {
        const c = Math.floor(a[i] / RADIX)
        a[i] -= c * RADIX
        if (i < LIMBS - 1) a[i + 1] += c
        else a[0] += 19 * c
    }
}

/**
 * Canonical little-endian bytes of a (reduced into [0, p)) at out[off..off+32); a is clobbered.
 * Two passes bring any mul output or small sum of them into [0, 2^255) (the second can only ripple
 * one borrow or carry around). a + 19 reaches 2^255 exactly when a >= p, and then the pass folds
 * it back to a - p + 19; taking the 19 off again leaves a mod p either way.
 */
export function fePack(out: Buffer, off: number, a: Fe) {
    carryFloor(a)
    carryFloor(a)
    a[0] += 19
    carryFloor(a)
    a[0] -= 19
    carryFloor(a)
    let acc = 0
    let bits = 0
    let p = off
    for (let i = 0; i < LIMBS; i++) {
        acc |= a[i] << bits
        bits += 17
        while (bits >= 8) {
            out[p++] = acc & 0xff
            acc >>>= 8
            bits -= 8
        }
    }
    out[p] = acc // bit 255 is 0
}

/** Squarings: o = a^(2^n), each charged to the pace (the single multiplications around are not). */
export async function feSqn(o: Fe, a: Fe, n: number, pace: Pace) {
    for (let i = 0; i < n; i++) {
        if (due(pace, MUL_COST)) await spend(pace, MUL_COST)
        mul(o, i === 0 ? a : o, i === 0 ? a : o)
    }
}

/**
 * t1 = z^(2^250 - 1) and t0 = z^11, the shared head of both exponentiations (the addition
 * chain of ref10 and every Curve25519 code since: 249 squarings, 9 multiplications).
 */
async function pow250(z: Fe, t0: Fe, t1: Fe, t2: Fe, t3: Fe, pace: Pace) {
    mul(t0, z, z) // z^2
    mul(t1, t0, t0)
    mul(t1, t1, t1) // z^8
    mul(t1, z, t1) // z^9
    mul(t0, t0, t1) // z^11
    mul(t2, t0, t0) // z^22
    mul(t1, t1, t2) // z^(2^5 - 1)
    await feSqn(t2, t1, 5, pace)
    mul(t1, t2, t1) // z^(2^10 - 1)
    await feSqn(t2, t1, 10, pace)
    mul(t2, t2, t1) // z^(2^20 - 1)
    await feSqn(t3, t2, 20, pace)
    mul(t2, t3, t2) // z^(2^40 - 1)
    await feSqn(t2, t2, 10, pace)
    mul(t1, t2, t1) // z^(2^50 - 1)
    await feSqn(t2, t1, 50, pace)
    mul(t2, t2, t1) // z^(2^100 - 1)
    await feSqn(t3, t2, 100, pace)
    mul(t2, t3, t2) // z^(2^200 - 1)
    await feSqn(t2, t2, 50, pace)
    mul(t1, t2, t1) // z^(2^250 - 1)
}

/** o = 1/z = z^(p - 2) = z^(2^255 - 21); 0 for z = 0. Clobbers t0..t3; o may be z. */
export async function feInvert(o: Fe, z: Fe, t0: Fe, t1: Fe, t2: Fe, t3: Fe, pace: Pace) {
    await pow250(z, t0, t1, t2, t3, pace)
    await feSqn(t1, t1, 5, pace)
    mul(o, t1, t0) // z^(2^255 - 32 + 11)
}

/** o = z^((p - 5) / 8) = z^(2^252 - 3), the square-root step of point decoding. o may be z. */
export async function fePow22523(o: Fe, z: Fe, t0: Fe, t1: Fe, t2: Fe, t3: Fe, pace: Pace) {
    await pow250(z, t0, t1, t2, t3, pace)
    await feSqn(t1, t1, 2, pace)
    mul(o, t1, z) // z^(2^252 - 4 + 1)
}
