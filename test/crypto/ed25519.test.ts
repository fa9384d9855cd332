// Ed25519 verification against RFC 8032 §7.1 and node:crypto (OpenSSL): valid signatures of
// random keys and messages pass, any flipped bit of signature, message or key fails, and the
// strict checks (S < L, canonical R and A, no small-order R or A) refuse with their reasons.
// ED25519_SWEEP=10000 npx vitest run test/crypto/ed25519.test.ts runs the 10 000 keys.
import { describe, expect, it } from "vitest"
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto"
import { checkEd25519, verifyEd25519 } from "../../src/crypto/ed25519"
import { RFC8032_VECTORS } from "./rfc8032-vectors"
import { BASE, L, P, encodePoint, fromLE, recoverX, scalarMul, toLE } from "./bigint"
import { rng } from "../helpers/rng"

const PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex")
const SPKI = Buffer.from("302a300506032b6570032100", "hex")
const SWEEP = Number(process.env.ED25519_SWEEP || 300)

const noYield = async () => {}
const reason = async (key: Buffer, msg: Buffer, sig: Buffer) => {
    const r = await checkEd25519(key, msg, sig, noYield)
    return r.ok ? "ok" : r.reason
}

function keyPair(seed: Buffer) {
    const priv = createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" })
    const pub = createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(SPKI.length)
    return { priv, pub: Buffer.from(pub) }
}

function nodeVerify(pub: Buffer, msg: Buffer, sig: Buffer): boolean {
    try {
        const key = createPublicKey({ key: Buffer.concat([SPKI, pub]), format: "der", type: "spki" })
        return verify(null, msg, key, sig)
    } catch {
        return false // OpenSSL refuses some keys at import
    }
}

/** S + L in place of S (still below 2^256: S < L < 2^253). */
function plusL(sig: Buffer): Buffer {
    const out = Buffer.from(sig)
    out.set(toLE(fromLE(sig.subarray(32)) + L), 32)
    return out
}

/** The encodings of the 8 points of small order (x = 0 only with sign 0). */
function smallOrderPoints(): Buffer[] {
    const y8 = [2707385501144840649318225287225658788936804267575313519463743609750303402022n]
    const ys = [0n, 1n, P - 1n, y8[0], P - y8[0]]
    const out: Buffer[] = []
    for (const y of ys)
        for (const sign of [0, 1]) {
            const x = recoverX(y, sign)
            if (x !== null) out.push(encodePoint([x, y]))
        }
    return out
}

describe("Ed25519 verification: RFC 8032 §7.1", () => {
    for (const v of RFC8032_VECTORS)
        it(`${v.name}: verifies; node:crypto derives the same key and signature from the secret`, async () => {
            const key = Buffer.from(v.publicKey, "hex")
            const msg = Buffer.from(v.message, "hex")
            const sig = Buffer.from(v.signature, "hex")
            expect(await reason(key, msg, sig)).toBe("ok")
            const { priv, pub } = keyPair(Buffer.from(v.secret, "hex"))
            expect(pub.toString("hex")).toBe(v.publicKey)
            expect(sign(null, msg, priv).toString("hex")).toBe(v.signature)
        })
})

describe("Ed25519 verification against node:crypto", () => {
    it(`${SWEEP} random keys and messages: valid passes, a flipped bit in R, S, message or key fails, as in OpenSSL`, async () => {
        const r = rng(31)
        let ms = 0
        for (let n = 0; n < SWEEP; n++) {
            if (n % 100 === 99) await new Promise(resolve => setImmediate(resolve)) // let vitest's worker talk
            const { priv, pub } = keyPair(r.bytes(32))
            const msg = r.bytes(n % 3 === 0 ? 32 : r.int(0, 300)) // a third like MCUboot's: a SHA-256
            const sig = sign(null, msg, priv)
            const t0 = performance.now()
            const ok = await verifyEd25519(pub, msg, sig, noYield)
            ms += performance.now() - t0
            expect(ok, `case ${n}`).toBe(true)

            const bad: [string, Buffer, Buffer, Buffer][] = []
            const s2 = Buffer.from(sig)
            s2[r.int(0, 31)] ^= 1 << r.int(0, 7)
            bad.push(["R", pub, msg, s2])
            const s3 = Buffer.from(sig)
            s3[r.int(32, 63)] ^= 1 << r.int(0, 7)
            bad.push(["S", pub, msg, s3])
            if (msg.length > 0) {
                const m2 = Buffer.from(msg)
                m2[r.int(0, msg.length - 1)] ^= 1 << r.int(0, 7)
                bad.push(["message", pub, m2, sig])
            }
            const k2 = Buffer.from(pub)
            k2[r.int(0, 31)] ^= 1 << r.int(0, 7)
            bad.push(["key", k2, msg, sig])
            for (const [what, k, m, s] of bad) {
                const why = await reason(k, m, s)
                expect(why, `case ${n}: flipped ${what}`).not.toBe("ok")
                expect(nodeVerify(k, m, s), `case ${n}: OpenSSL on flipped ${what}`).toBe(false)
            }
        }
        console.log(`Node: ${(ms / SWEEP).toFixed(2)} ms per verification (${SWEEP} keys)`)
    }, 600_000)

    it("S + L (the malleated twin of a valid signature) is refused as non-canonical, by OpenSSL too", async () => {
        const r = rng(32)
        for (let n = 0; n < 20; n++) {
            const { priv, pub } = keyPair(r.bytes(32))
            const msg = r.bytes(32)
            const sig = plusL(sign(null, msg, priv))
            expect(await reason(pub, msg, sig)).toBe("non-canonical-s")
            expect(nodeVerify(pub, msg, sig)).toBe(false)
        }
    })
})

describe("Ed25519 verification: strict encodings", () => {
    const { priv, pub } = keyPair(Buffer.alloc(32, 7))
    const msg = Buffer.from("a 32-byte image digest goes here")
    const sig = sign(null, msg, priv)

    it("a small-order public key is refused, even with a signature that satisfies [S]B = R + [k]A", async () => {
        const points = smallOrderPoints()
        expect(points.length).toBe(8)
        for (const a of points) expect(await reason(a, msg, sig)).toBe("small-order")
        // A = the neutral point: any R = [S]B satisfies the cofactorless equation for any message
        const s = 12345678901234567890n
        const forged = Buffer.concat([encodePoint(scalarMul(s, BASE)), toLE(s)])
        const neutral = encodePoint([0n, 1n])
        expect(await reason(neutral, Buffer.from("anything"), forged)).toBe("small-order")
        expect(nodeVerify(neutral, Buffer.from("anything"), forged)).toBe(true) // OpenSSL accepts it
    })

    it("a small-order R is refused", async () => {
        for (const rPoint of smallOrderPoints()) {
            const s2 = Buffer.concat([rPoint, sig.subarray(32)])
            expect(await reason(pub, msg, s2)).toBe("small-order")
        }
        // the sign bit is ignored by the check, as in libsodium: (0, -1) with x's sign set is still refused
        const y = toLE(P - 1n)
        y[31] |= 0x80
        expect(await reason(pub, msg, Buffer.concat([y, sig.subarray(32)]))).toBe("small-order")
    })

    it("non-canonical encodings (y >= p) of A or R are refused as bad points", async () => {
        for (let k = 0n; k < 19n; k++)
            for (const sign of [0, 1]) {
                const e = toLE(P + k)
                e[31] |= sign << 7
                expect(await reason(e, msg, sig), `A: p + ${k}, sign ${sign}`).toBe("bad-point")
                expect(await reason(pub, msg, Buffer.concat([e, sig.subarray(32)])), `R: p + ${k}`).toBe("bad-point")
            }
    })

    it("a public key that is not on the curve is refused as a bad point", async () => {
        const r = rng(33)
        let found = 0
        while (found < 10) {
            const y = fromLE(r.bytes(32)) % P
            if (recoverX(y, 0) !== null) continue
            found++
            expect(await reason(toLE(y), msg, sig)).toBe("bad-point")
        }
    })

    it("lengths other than 32 and 64 are refused", async () => {
        expect(await reason(pub.subarray(0, 31), msg, sig)).toBe("bad-length")
        expect(await reason(pub, msg, sig.subarray(0, 63))).toBe("bad-length")
        expect(await reason(pub, msg, Buffer.concat([sig, Buffer.alloc(1)]))).toBe("bad-length")
    })

    it("yields between slices: through the given yielder, or ds.sleep(0) by default", async () => {
        let yields = 0
        const r = await checkEd25519(pub, msg, sig, async () => {
            yields++
        })
        expect(r.ok).toBe(true)
        // ≈ 15 M charged opcodes in slices of 64 K (the field multiplication's carries run in a loop)
        expect(yields).toBeGreaterThan(150)
        expect(yields).toBeLessThan(320)
        expect(await verifyEd25519(pub, msg, sig)).toBe(true)
    })
})
