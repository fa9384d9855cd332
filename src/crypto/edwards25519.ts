// Points of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19) (RFC 8032
// §5.1): extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, x y = T/Z, and the formulas of
// ref10 (doubling from X, Y, Z; mixed addition of an affine point in Niels form). All temporaries
// live in one Work made once per verification: the scalar multiplication makes no objects (only
// the VM's call frames).
import { Fe, INVERT, POW22523, feAdd, fePack, fePow, feUnpack } from "./field25519"
import { mul } from "./field-mul"
import { hex } from "../lib/hex"
import { Pace } from "./pace"
import { compare32 } from "./scalar25519"

/**
 * The slots of a Work: the running point, the completed point R0..R3 of a step, one temporary,
 * and -A and B as affine points in Niels form (y + x, y - x, 2 d x y: mixed addition then needs
 * 7 multiplications). An array of elements rather than an object: less bytecode to build it.
 */
export const enum S {
    X,
    Y,
    Z,
    T,
    R0,
    R1,
    R2,
    R3,
    TMP,
    /** -A: y + x, y - x, 2 d x y */
    A,
    /** B: y + x, y - x, 2 d x y */
    B = A + 3,
    COUNT = B + 3,
}

export type Work = Fe[]

export function newWork(): Work {
    const w: Work = []
    // fe() written out: a function costs a 16 B descriptor
    for (let i = 0; i < S.COUNT; i++) w.push([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    return w
}

// Constants, little-endian (in the program image: arrays would be heap).
const D = hex`a3785913ca4deb75abd841414d0a700098e879777940c78c73fe6f2bee6c0352`
const D2 = hex`59f1b226949bd6eb56b183829a14e00030d1f3eef2808e19e7fcdf56dcd90624`
const SQRT_M1 = hex`b0a00e4a271beec478e42fad0618432fa7d7fb3d99004d2b0bdfc14f8024832b`
/**
 * What setup() loads, 7 elements: the neutral point (0 : 1 : 1 : 0) into X, Y, Z, T, then B in
 * Niels form (y + x, y - x, 2 d x y) into its slots. Data rather than code: the string section
 * does not count against the VM's bytecode limit.
 */
const SETUP = hex`
    0000000000000000000000000000000000000000000000000000000000000000
    0100000000000000000000000000000000000000000000000000000000000000
    0100000000000000000000000000000000000000000000000000000000000000
    0000000000000000000000000000000000000000000000000000000000000000
    853b8cf5c693bc2f190e8cfbc62d93cfc2423d6498480b2765bad4333a9dcf07
    3e9140d70539109db3be40d1059f39fd098a8f683484c1a56712f898922ffd44
    68aa7a870512c9ab9ec4aacc23e8d9268c5943ddcb7d1b5aa8650c9f687b116f
`

/**
 * The y of the 8 points of small order (libsodium's list): 0 (order 4), 1 (the neutral point),
 * the two y of the points of order 8, and p - 1 (order 2). Compared with the sign bit cleared.
 */
export const SMALL_ORDER_Y = hex`
    0000000000000000000000000000000000000000000000000000000000000000
    0100000000000000000000000000000000000000000000000000000000000000
    26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05
    c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a
    ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
`

/** p = 2^255 - 19, little-endian. */
export const P = hex`edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f`

/** True when the y of the encoding at b[off] is below p (RFC 8032 decoding rejects y >= p). */
export function pointIsCanonical(b: Buffer, off: number): boolean {
    return compare32(b, off, P, 0, 0x7f) < 0
}

/** The canonical bytes of a (clobbered), in a new 32-byte Buffer. */
function packed(a: Fe): Buffer {
    const b = Buffer.alloc(32)
    fePack(b, 0, a)
    return b
}

/** 32 zero bytes: a packed 0 is compared with them by compare32 (no loop of its own: a function costs a 16 B descriptor). */
const ZERO = hex`0000000000000000000000000000000000000000000000000000000000000000`

/**
 * Opcodes of decodeNegated but its exponentiation (which paces itself): 12 mul, 3 packs. Measured
 * 30 000 with a multiplication of at most 1 846 opcodes, plus 12 times its growth (at most 1 460).
 */
export const DECODE_COST = 47500

/**
 * RFC 8032 §5.1.3: decode the point at b[off] (canonical y already checked) and store its
 * negation -A in the Work. False when x^2 = (y^2 - 1) / (d y^2 + 1) has no root, or x = 0 with
 * the sign bit set. Uses the other slots as temporaries.
 */
export async function decodeNegated(w: Work, b: Buffer, off: number, pace: Pace): Promise<boolean> {
    const y = w[S.X]
    const u = w[S.Y]
    const v = w[S.Z]
    const v3 = w[S.T]
    const x = w[S.TMP]
    const c = w[S.R3]
    feUnpack(y, b, off)
    mul(u, y, y)
    feUnpack(c, D, 0)
    mul(v, u, c)
    u[0] = u[0] - 1 // u = y^2 - 1
    v[0] = v[0] + 1 // v = d y^2 + 1
    mul(v3, v, v)
    mul(v3, v3, v) // v^3
    mul(x, v3, v3)
    mul(x, x, v)
    mul(x, x, u) // u v^7
    await fePow(x, x, POW22523, w[S.R0], w[S.R1], w[S.R2], c, pace)
    mul(x, x, v3)
    mul(x, x, u) // the candidate root u v^3 (u v^7)^((p-5)/8)
    const vxx = w[S.R0]
    mul(vxx, x, x)
    mul(vxx, vxx, v)
    feAdd(c, vxx, u, -1)
    if (compare32(packed(c), 0, ZERO, 0, 0xff) !== 0) {
        feAdd(c, vxx, u, 1)
        if (compare32(packed(c), 0, ZERO, 0, 0xff) !== 0) return false
        feUnpack(c, SQRT_M1, 0) // v x^2 = -u: the root is x sqrt(-1)
        mul(x, x, c)
    }
    feAdd(c, x, x, 0) // c = x (packing clobbers; feAdd rather than a feCopy of its own: a function costs 16 B)
    const bx = packed(c)
    const sign = b[off + 31] >> 7
    if (sign === 1) if (compare32(bx, 0, ZERO, 0, 0xff) === 0) return false
    // -A has the x of the other sign: negate (x - 2 x) when the parity already matches the sign bit
    if ((bx[0] & 1) === sign) feAdd(x, x, x, -2)
    feAdd(w[S.A], y, x, 1)
    feAdd(w[S.A + 1], y, x, -1)
    feUnpack(c, D2, 0)
    mul(x, x, y)
    mul(w[S.A + 2], x, c)
    return true
}

/** The base point B into its slots, and the running point = the neutral point (0 : 1 : 1 : 0). */
export function setup(w: Work) {
    // slots X, Y, Z, T (0..3), then B (12..14): i + 8 (i >> 2)
    for (let i = 0; i < 7; i++) feUnpack(w[i + ((i >> 2) << 3)], SETUP, 32 * i)
}

/** From the completed point (R0 : R2) x (R1 : R3) back to X, Y, Z, and T when the next step adds. */
function complete(w: Work, needT: boolean) {
    mul(w[S.X], w[S.R0], w[S.R3])
    mul(w[S.Y], w[S.R1], w[S.R2])
    mul(w[S.Z], w[S.R2], w[S.R3])
    if (needT) mul(w[S.T], w[S.R0], w[S.R1])
}

/**
 * Opcodes of dbl and of madd with T, measured 16 150 to 16 400 and 14 750 to 15 050 with a
 * multiplication of at most 1 846 opcodes; plus 8 and 7 times its growth (at most 1 460).
 */
export const DBL_COST = 28100
export const ADD_COST = 25300

/** P = 2 P (reads X, Y, Z): 7 or 8 multiplications, 4 of them squarings. */
export function dbl(w: Work, needT: boolean) {
    const a = w[S.R0]
    const b = w[S.R2]
    const c = w[S.R3]
    const t = w[S.TMP]
    mul(a, w[S.X], w[S.X])
    mul(b, w[S.Y], w[S.Y])
    mul(c, w[S.Z], w[S.Z])
    feAdd(c, c, c, 1) // 2 Z^2
    feAdd(t, w[S.X], w[S.Y], 1)
    mul(t, t, t) // (X + Y)^2
    feAdd(w[S.R1], b, a, 1) // Y^2 + X^2
    feAdd(b, b, a, -1) // R2 = Y^2 - X^2
    feAdd(a, t, w[S.R1], -1) // R0 = 2 X Y
    feAdd(c, c, b, -1) // R3 = 2 Z^2 - (Y^2 - X^2)
    complete(w, needT)
}

/** P = P + Q, or P - Q when neg (y + x and y - x swap, 2 d x y changes sign); q: S.A or S.B. */
export function madd(w: Work, q: number, neg: boolean, needT: boolean) {
    const r0 = w[S.R0]
    const r1 = w[S.R1]
    const r2 = w[S.R2]
    const r3 = w[S.R3]
    const t = w[S.TMP]
    // neg: s = -1, and q's y + x and y - x swap places
    const s = neg ? -1 : 1
    feAdd(r0, w[S.Y], w[S.X], 1)
    feAdd(r1, w[S.Y], w[S.X], -1)
    mul(r2, r0, w[q + ((1 - s) >> 1)]) // (Y + X)(y + x)
    mul(r1, r1, w[q + ((1 + s) >> 1)]) // (Y - X)(y - x)
    mul(r3, w[q + 2], w[S.T]) // T 2 d x y
    feAdd(t, w[S.Z], w[S.Z], 1)
    feAdd(r0, r2, r1, -1)
    feAdd(r1, r2, r1, 1)
    // P + Q: R2 = 2 Z + T 2 d x y, R3 = 2 Z - T 2 d x y; P - Q the other way round
    feAdd(r2, t, r3, s)
    feAdd(r3, t, r3, -s)
    complete(w, needT)
}

/** RFC 8032 §5.1.2: the 32-byte encoding of the running point at out[off]. */
export async function encode(w: Work, out: Buffer, off: number, pace: Pace) {
    const zi = w[S.TMP]
    await fePow(zi, w[S.Z], INVERT, w[S.R0], w[S.R1], w[S.R2], w[S.R3], pace)
    mul(w[S.R0], w[S.X], zi)
    mul(w[S.R1], w[S.Y], zi)
    const sign = packed(w[S.R0])[0] & 1
    fePack(out, off, w[S.R1])
    out[off + 31] = out[off + 31] | (sign << 7)
}
