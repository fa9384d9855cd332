// Ed25519 signature verification (RFC 8032 §5.1.7) in portable TypeScript: the same code runs
// under vitest and in the DeviceScript VM (no BigInt, doubles only, a yield every ~64 K opcodes).
//
// Strictness follows libsodium: S must be below L; R and A must be canonical encodings (y < p)
// and not one of the 8 points of small order; A must decode. The equation is the cofactorless
// one, [S]B = R + [k]A with k = SHA-512(R || A || M) mod L, checked as libsodium does: the
// encoding of [S]B - [k]A must equal R byte for byte (an R that is not on the curve can never
// match, and is reported as bad-signature). Not constant time: verification handles no secret.
import { Pace, Yielder, pay } from "./pace"
import { sha512 } from "./sha512"
import { L, REDUCE_COST, compare32, nafDigit, scalarReduce, scalarTriple } from "./scalar25519"
import {
    ADD_COST,
    DBL_COST,
    DECODE_COST,
    P,
    S,
    dbl,
    decodeNegated,
    encode,
    madd,
    newWork,
    SMALL_ORDER_Y,
    setup,
} from "./edwards25519"

export type Ed25519Reason =
    /** the key is not 32 bytes or the signature not 64 */
    | "bad-length"
    /** S >= L: a malleated signature (RFC 8032 §5.1.7 step 1) */
    | "non-canonical-s"
    /** R or A encodes y >= p, or A is not a point of the curve */
    | "bad-point"
    /** R or A is one of the 8 points of small order */
    | "small-order"
    /** well formed, but the equation does not hold: wrong key, message or signature */
    | "bad-signature"

/** ok, or not ok with the reason (a plain record: DeviceScript's checker runs without strictNullChecks, so no tagged union). */
export interface Ed25519Result {
    ok: boolean
    reason?: Ed25519Reason
}

function fail(reason: Ed25519Reason): Ed25519Result {
    return { ok: false, reason: reason }
}

/**
 * Verify an Ed25519 signature (64 bytes: R || S) of `message` under `publicKey` (32 bytes), with a
 * typed reason on failure. `yielder` replaces the default ds.sleep(0) between slices of work.
 */
export async function checkEd25519(
    publicKey: Buffer,
    message: Buffer,
    signature: Buffer,
    yielder?: Yielder
): Promise<Ed25519Result> {
    if (((publicKey.length ^ 32) | (signature.length ^ 64)) !== 0) return fail("bad-length") // not 32 or not 64
    // compare32, not scalarIsCanonical and pointIsCanonical: two functions less in the image
    if (compare32(signature, 32, L, 0, 0xff) >= 0) return fail("non-canonical-s")
    // either comparison >= 0: not both negative, so the AND of the two (small ints) is not negative
    // (fewer bytes than ||, as the product below)
    if ((compare32(signature, 0, P, 0, 0x7f) & compare32(publicKey, 0, P, 0, 0x7f)) >= 0) return fail("bad-point")
    // R or A one of the 8 points of small order (written out: pointHasSmallOrder had this one caller)
    for (let k = 0; k < SMALL_ORDER_Y.length; k += 32)
        if (compare32(signature, 0, SMALL_ORDER_Y, k, 0x7f) * compare32(publicKey, 0, SMALL_ORDER_Y, k, 0x7f) === 0) return fail("small-order")
    // newPace written out (its one caller in the image; tests use it): a function costs a 16 B descriptor
    const pace: Pace = { left: 0, yielder: yielder }
    // (the challenge and the scalar multiplication were functions of their own, each with this one
    // caller: 16 B of descriptor each against the VM's bytecode limit)
    // k = SHA-512(R || A || M) mod L
    const digest = Buffer.alloc(64)
    await sha512([signature.slice(0, 32), publicKey, message], digest, 0, pace)
    await pay(pace, REDUCE_COST)
    const k = Buffer.alloc(32)
    scalarReduce(k, digest, 0)
    const w = newWork()
    await pay(pace, DECODE_COST)
    if (!(await decodeNegated(w, publicKey, 0, pace))) return fail("bad-point")
    // [S]B - [k]A by one shared chain of 253 doublings with NAF digits of both scalars (Straus)
    const s3 = Buffer.alloc(32)
    const k3 = Buffer.alloc(32)
    scalarTriple(s3, signature, 32)
    scalarTriple(k3, k, 0)
    setup(w)
    let started = false
    for (let j = 253; j >= 0; j--) {
        const ds = nafDigit(s3, signature, 32, j)
        const dk = nafDigit(k3, k, 0, j)
        if (started) {
            await pay(pace, DBL_COST)
            dbl(w, (ds | dk) !== 0) // either digit nonzero
        }
        if (ds !== 0) {
            await pay(pace, ADD_COST)
            madd(w, S.B, ds < 0, dk !== 0)
            started = true
        }
        if (dk !== 0) {
            await pay(pace, ADD_COST)
            madd(w, S.A, dk < 0, false) // the slots hold -A
            started = true
        }
    }
    const r = Buffer.alloc(32)
    await encode(w, r, 0, pace)
    if (compare32(r, 0, signature, 0, 0xff) !== 0) return fail("bad-signature")
    return { ok: true }
}

/** checkEd25519 as a boolean. */
export async function verifyEd25519(
    publicKey: Buffer,
    message: Buffer,
    signature: Buffer,
    yielder?: Yielder
): Promise<boolean> {
    const r = await checkEd25519(publicKey, message, signature, yielder)
    return r.ok
}
