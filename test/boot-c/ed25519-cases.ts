// Cases for the C Ed25519 verifier (boot/ed25519.c, built with BS_SIGNATURES), written by
// tools/boot-vectors.ts --ed25519 and run by boot/test/crypto_test.c. Each case carries the
// TypeScript verifier's reason (src/crypto/ed25519.ts checkEd25519): the C must give the same one.
// Kinds: RFC 8032 §7.1's five vectors; random keys and messages signed by node:crypto (valid);
// each with one bit flipped in R, S, the message or the key; and the strict rules' edges (S >= L,
// y >= p for R and A, the 8 small-order points for R and A with both signs, keys off the curve,
// a signature that holds for a small-order key, R off the curve). The file also holds SHA-512
// answers from node:crypto for every length 0..300 (the padding's block boundaries at 111/112).
//
//   "BSED0001" | u32 cases | cases × (u8 reason | u8 node (0 refuses, 1 accepts, 2 not asked) | u8 kind
//                                    | 32 key | 64 signature | u32 length | message)
//              | u32 hashes | hashes × (u32 length | message | 64 digest)
// reason: 0 ok, 1 non-canonical-s, 2 bad-point, 3 small-order, 4 bad-signature (boot/ed25519.h).
import { createHash, createPrivateKey, createPublicKey, sign, verify } from "node:crypto"
import { checkEd25519 } from "../../src/crypto/ed25519"
import { RFC8032_VECTORS } from "../crypto/rfc8032-vectors"
import { BASE, L, P, encodePoint, fromLE, recoverX, scalarMul, toLE } from "../crypto/bigint"
import { Rng } from "../../sim/lib/rng"

export const ED_MAGIC = "BSED0001"
export const ED_REASONS = ["ok", "non-canonical-s", "bad-point", "small-order", "bad-signature"]
export const ED_KINDS = ["rfc8032", "valid", "flipped-r", "flipped-s", "flipped-message", "flipped-key", "edge"]

const PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex")
const SPKI = Buffer.from("302a300506032b6570032100", "hex")

interface Case {
    reason: number
    node: number
    kind: number
    key: Buffer
    sig: Buffer
    msg: Buffer
}

function keyPair(seed: Buffer) {
    const priv = createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" })
    const pub = Buffer.from(createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(SPKI.length))
    return { priv, pub }
}

function nodeVerify(pub: Buffer, msg: Buffer, sig: Buffer): number {
    try {
        return verify(null, msg, createPublicKey({ key: Buffer.concat([SPKI, pub]), format: "der", type: "spki" }), sig) ? 1 : 0
    } catch {
        return 0 // OpenSSL refuses some keys at import
    }
}

const bytes = (r: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => r.int(256)))

/** The cases: `keys` random keys, each valid and with one bit flipped in each of R, S, message, key. */
export async function ed25519Cases(keys: number, seed: number): Promise<{ file: Buffer; counts: number[] }> {
    const r = new Rng(seed)
    const cases: Case[] = []
    const add = async (kind: number, key: Buffer, msg: Buffer, sig: Buffer, askNode = true) => {
        const v = await checkEd25519(key, msg, sig, async () => {})
        cases.push({ reason: v.ok ? 0 : ED_REASONS.indexOf(v.reason), node: askNode ? nodeVerify(key, msg, sig) : 2, kind, key, sig, msg })
    }
    for (const v of RFC8032_VECTORS) await add(0, Buffer.from(v.publicKey, "hex"), Buffer.from(v.message, "hex"), Buffer.from(v.signature, "hex"))
    for (let n = 0; n < keys; n++) {
        const { priv, pub } = keyPair(bytes(r, 32))
        const msg = bytes(r, n % 3 === 0 ? 32 : r.int(301)) // a third like an image's: a SHA-256
        const sig = sign(null, msg, priv)
        await add(1, pub, msg, sig)
        const flip = (b: Buffer, from: number, to: number) => {
            const c = Buffer.from(b)
            c[from + r.int(to - from)] ^= 1 << r.int(8)
            return c
        }
        await add(2, pub, msg, flip(sig, 0, 32))
        await add(3, pub, msg, flip(sig, 32, 64))
        await add(4, pub, msg.length ? flip(msg, 0, msg.length) : Buffer.from([1]), sig)
        await add(5, flip(pub, 0, 32), msg, sig)
    }
    // the strict rules' edges, around one valid signature
    const { priv, pub } = keyPair(Buffer.alloc(32, 7))
    const msg = createHash("sha256").update("an image").digest()
    const sig = sign(null, msg, priv)
    const withS = (s: bigint) => Buffer.concat([sig.subarray(0, 32), toLE(s)])
    const withR = (e: Buffer) => Buffer.concat([e, sig.subarray(32)])
    const s = fromLE(sig.subarray(32))
    for (const v of [L, L + 1n, L - 1n, s + L, 2n ** 256n - 1n, 2n ** 253n, 0n]) await add(6, pub, msg, withS(v))
    for (let k = 0n; k < 19n; k++)
        for (const sign of [0, 1]) {
            const e = toLE(P + k)
            e[31] |= sign << 7
            await add(6, e, msg, sig)
            await add(6, pub, msg, withR(e))
        }
    const y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022n
    for (const y of [0n, 1n, P - 1n, y8, P - y8])
        for (const sign of [0, 1]) {
            const e = toLE(y)
            e[31] |= sign << 7
            await add(6, e, msg, sig)
            await add(6, pub, msg, withR(e))
        }
    // the neutral key with R = [s]B: the cofactorless equation holds (OpenSSL accepts it)
    const f = 12345678901234567890n
    await add(6, encodePoint([0n, 1n]), msg, Buffer.concat([encodePoint(scalarMul(f, BASE)), toLE(f)]))
    // keys and R off the curve; y just below p; points with x = 0 are the small-order ones
    let off = 0
    while (off < 40) {
        const y = fromLE(bytes(r, 32)) % P
        if (recoverX(y, 0) !== null) continue
        const e = toLE(y)
        e[31] |= (off & 1) << 7
        await add(6, e, msg, sig)
        await add(6, pub, msg, withR(e))
        off++
    }
    for (const y of [P - 2n, P - 3n, 2n]) for (const sign of [0, 1]) {
        const e = toLE(y)
        e[31] |= sign << 7
        await add(6, e, msg, sig)
    }
    const parts: Buffer[] = [Buffer.from(ED_MAGIC), u32(cases.length)]
    for (const c of cases) parts.push(Buffer.from([c.reason, c.node, c.kind]), c.key, c.sig, u32(c.msg.length), c.msg)
    parts.push(u32(301))
    for (let n = 0; n <= 300; n++) {
        const m = bytes(r, n)
        parts.push(u32(n), m, createHash("sha512").update(m).digest())
    }
    const counts = ED_KINDS.map((_, k) => cases.filter(c => c.kind === k).length)
    return { file: Buffer.concat(parts), counts }
}

function u32(n: number): Buffer {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    return b
}
