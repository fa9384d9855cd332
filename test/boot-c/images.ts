// MCUboot images for the boot vectors: good ones made by src/image/pack.ts, and malformed ones
// built field by field, one flaw each, so that the C image check meets every way the TypeScript
// check (src/image/check.ts plus the boot stage's version and DevS checks) refuses an image. For
// the signed set (BS_SIGNATURES, the TypeScript stage with keys) every variant is signed by the
// TEST KEY, so that its flaw stays its only one, and the signature's own flaws are added.
import { createHash, createPrivateKey, sign as nodeSign } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { loadPrivateKey, packSigned, rawPublicKey, trustedKeyOf } from "../../tools/image/keys"
import { packImage } from "../../src/image/pack"
import { parseVersion } from "../../src/image/version"
import { encodeTlvArea, TlvItem } from "../../src/image/tlv"
import { DEVS_MAGIC } from "../../sim/boot/boot-stage"
import { Rng } from "../../sim/lib/rng"

export interface TestImage {
    version: string
    bytes: Buffer
    /** SHA-256 of the program as fstor would hold it: the body, zero-padded to 32 bytes. */
    program: Buffer
}

export function sha256(b: Buffer): Buffer {
    return createHash("sha256").update(b).digest()
}

export function programHash(body: Buffer): Buffer {
    const pad = (32 - (body.length % 32)) % 32
    return sha256(Buffer.concat([body, Buffer.alloc(pad)]))
}

/** A DeviceScript-looking body: the DevS magic, then seeded bytes. */
export function devsBody(len: number, seed: number): Buffer {
    const r = new Rng(seed)
    const b = Buffer.alloc(len)
    for (let i = 0; i < len; i++) b[i] = r.int(256)
    DEVS_MAGIC.copy(b, 0)
    return b
}

const noYield = async () => {}

/** The KEYHASH and ED25519 TLVs of a SHA-256 signed with `key` (tools/image/keys.ts packSigned's, as imgtool writes them). */
export function signatureTlvs(key: KeyObject, sha: Buffer): TlvItem[] {
    return [
        { type: 0x01, value: trustedKeyOf(rawPublicKey(key)).hash },
        { type: 0x24, value: nodeSign(null, sha, key) },
    ]
}

/** The committed TEST KEY, the one src/image/trusted-keys.ts (and boot/bs_keys.h) trusts. */
export const TEST_KEY = (): KeyObject => loadPrivateKey(new URL("../../keys/dev-ed25519.TEST-KEY.pem", import.meta.url).pathname)

export async function goodImage(version: string, bodyLen: number, seed: number, o: { headerSize?: number; securityCounter?: number; protectedTlvs?: TlvItem[]; tlvs?: TlvItem[]; key?: KeyObject } = {}): Promise<TestImage> {
    const body = devsBody(bodyLen, seed)
    const opts = { version: parseVersion(version), yielder: noYield, ...o }
    const p = o.key ? await packSigned(body, opts, o.key) : await packImage(body, opts)
    return { version, bytes: p.image, program: programHash(body) }
}

interface Raw {
    body: Buffer
    version?: number[]
    hdrSize?: number
    flags?: number
    /** header fields as written, when they should lie */
    protSizeField?: number
    imgSizeField?: number
    prot?: TlvItem[]
    /** the plain TLVs given the SHA-256 of header + body + protected area */
    plain?: (sha: Buffer) => TlvItem[]
    /** plain TLVs after those: the signature's */
    sign?: (sha: Buffer) => TlvItem[]
}

/** An image built field by field (no argument checks: the flaws are the point). */
export function rawImageOf(o: Raw): Buffer {
    const hdr = o.hdrSize ?? 32
    const prot = o.prot ? encodeTlvArea(0x6908, o.prot) : Buffer.alloc(0)
    const h = Buffer.alloc(Math.max(32, hdr), 0xff)
    h.fill(0, 0, 32)
    const v = o.version ?? [2, 0, 0, 0]
    h.writeUInt32LE(0x96f3b83d, 0)
    h.writeUInt16LE(hdr, 8)
    h.writeUInt16LE(o.protSizeField ?? prot.length, 10)
    h.writeUInt32LE(o.imgSizeField ?? o.body.length, 12)
    h.writeUInt32LE(o.flags ?? 0, 16)
    h[20] = v[0]
    h[21] = v[1]
    h.writeUInt16LE(v[2], 22)
    h.writeUInt32LE(v[3], 24)
    const hashed = Buffer.concat([h, o.body, prot])
    const sha = sha256(hashed)
    const plain = encodeTlvArea(0x6907, [...(o.plain ? o.plain(sha) : [{ type: 0x10, value: sha }]), ...(o.sign ? o.sign(sha) : [])])
    return Buffer.concat([hashed, plain])
}

const sha = (s: Buffer): TlvItem => ({ type: 0x10, value: s })
const filled = (n: number, v = 0x5a) => Buffer.alloc(n, v)

/** Images of version 2_0_0 (unless the name says otherwise), each with `ok` as the check's verdict. */
export interface Variant {
    name: string
    bytes: Buffer
    ok: boolean
    program: Buffer
    /** the version the store records for it */
    version: string
}

/** A header of 24 bytes, the body (its DevS magic) over the header's last 8: valid but for ih_hdr_size < 32. */
function header24(body: Buffer, sign: (sha: Buffer) => TlvItem[]): Buffer {
    const h = Buffer.alloc(24)
    h.writeUInt32LE(0x96f3b83d, 0)
    h.writeUInt16LE(24, 8)
    h.writeUInt32LE(body.length, 12)
    h[20] = 2
    const hashed = Buffer.concat([h, body])
    const sha = sha256(hashed)
    return Buffer.concat([hashed, encodeTlvArea(0x6907, [{ type: 0x10, value: sha }, ...sign(sha)])])
}

/**
 * The variants; with `key`, each signed by it (after its own plain TLVs) and the signature's own
 * flaws added: the store they meet has security counter `SIGNED_STORE_COUNTER` (the variants
 * without a SEC_CNT count as 0, so the signed set's store is at 0 but for the counter variants).
 */
export function imageVariants(seed: number, key?: KeyObject): Variant[] {
    const body = devsBody(1504, seed)
    const prog = programHash(body)
    const out: Variant[] = []
    const add = (name: string, ok: boolean, bytes: Buffer, program = prog, version = "2_0_0") => out.push({ name, bytes, ok, program, version })
    const signOf = (s: Buffer) => (key ? signatureTlvs(key, s) : [])
    const rawImage = (o: Raw) => rawImageOf({ sign: signOf, ...o })
    const patch = (b: Buffer, f: (b: Buffer) => void) => {
        const c = Buffer.from(b)
        f(c)
        return c
    }
    const plainAt = (b: Buffer) => b.readUInt16LE(8) + b.readUInt32LE(12) + b.readUInt16LE(10)
    const base = rawImage({ body })
    add("plain", true, base)
    add("header-512", true, rawImage({ body, hdrSize: 512 }))
    add("protected-tlvs", true, rawImage({ body, prot: [{ type: 0x50, value: Buffer.from([1, 0, 0, 0]) }, { type: 0xa0, value: filled(5) }] }))
    add("keyhash-signature", !key, rawImage({ body, plain: s => [sha(s), { type: 0x01, value: filled(32) }, { type: 0x24, value: filled(64) }] }))
    add("flags-pic-rom-fixed", true, rawImage({ body, flags: 0x101 }))
    add("odd-body", true, rawImage({ body: body.subarray(0, 1001) }), programHash(body.subarray(0, 1001)))
    // header + body of 55 to 60 bytes past a 64-byte block: the SHA-256's 0x80 at byte 55 (one
    // block of padding) to 60 (two blocks; 56 to 59 were the C stage's bug)
    for (let n = 983; n <= 988; n++) add(`hashed-${(32 + n) % 64}-mod-64`, true, rawImage({ body: body.subarray(0, n) }), programHash(body.subarray(0, n)))
    add("bad-magic", false, patch(base, b => (b[0] ^= 1)))
    add("header-16", false, rawImage({ body, hdrSize: 16 }))
    add("encrypted", false, rawImage({ body, flags: 0x04 }))
    add("unknown-flag", false, rawImage({ body, flags: 0x80000 }))
    add("protected-size-2", false, rawImage({ body, protSizeField: 2 }))
    add("huge-body", false, rawImage({ body, imgSizeField: 0xffffff00 }))
    add("tlv-magic", false, patch(base, b => b.writeUInt16LE(0x6906, plainAt(b))))
    add("protected-announced-not-there", false, rawImage({ body, protSizeField: 8 }))
    add("protected-not-announced", false, rawImage({ body, prot: [{ type: 0xa0, value: filled(4) }], protSizeField: 0 }))
    add("protected-total-lies", false, patch(rawImage({ body, prot: [{ type: 0xa0, value: filled(4) }] }), b => b.writeUInt16LE(12, 32 + body.length + 2)))
    add("tlv-total-2", false, patch(base, b => b.writeUInt16LE(2, plainAt(b) + 2)))
    add("tlv-entry-overruns", false, patch(base, b => b.writeUInt16LE(40, plainAt(b) + 6)))
    add("tlv-area-past-image", false, patch(base, b => b.writeUInt16LE(b.readUInt16LE(plainAt(b) + 2) + 4096, plainAt(b) + 2)))
    add("33-tlvs", false, rawImage({ body, plain: s => [sha(s), ...Array.from({ length: 32 }, () => ({ type: 0xa0, value: Buffer.alloc(0) }))] }))
    add("32-tlvs", true, rawImage({ body, plain: s => [sha(s), ...Array.from({ length: 31 }, () => ({ type: 0xa0, value: Buffer.alloc(0) }))] }))
    add("sha-31-bytes", false, rawImage({ body, plain: s => [{ type: 0x10, value: s.subarray(0, 31) }] }))
    add("two-sha", false, rawImage({ body, plain: s => [sha(s), sha(s)] }))
    add("sha-protected", false, rawImage({ body, prot: [{ type: 0x10, value: filled(32) }], plain: () => [{ type: 0xa0, value: filled(3) }] }))
    add("counter-plain", false, rawImage({ body, plain: s => [sha(s), { type: 0x50, value: filled(4) }] }))
    add("two-counters", false, rawImage({ body, prot: [{ type: 0x50, value: filled(4) }, { type: 0x50, value: filled(4) }] }))
    add("sha384-only", false, rawImage({ body, plain: () => [{ type: 0x11, value: filled(48) }] }))
    add("no-hash", false, rawImage({ body, plain: () => [{ type: 0xa0, value: filled(8) }] }))
    add("keyhash-16", false, rawImage({ body, plain: s => [sha(s), { type: 0x01, value: filled(16) }] }))
    add("bad-sha", false, patch(base, b => (b[plainAt(b) + 39] ^= 1))) // the SHA-256 TLV's last byte
    add("body-flipped", false, patch(base, b => (b[100] ^= 0x10)))
    add("not-devs", false, rawImage({ body: patch(body, b => (b[0] = 0x45)) }))
    add("version-2.0.1", false, rawImage({ body, version: [2, 0, 1, 0] }))
    add("build-1", false, rawImage({ body, version: [2, 0, 0, 1] }))
    // everything else holds, the build being the body's first bytes: only ih_hdr_size refuses it
    add("header-24", false, header24(body, signOf), prog, `2_0_0+${body.readUInt32LE(0)}`)
    if (key) {
        // the signature's own flaws (check.ts with keys), each alone
        // another key, from a fixed seed (the vectors stay the same from run to run)
        const other = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.alloc(32, 0x5e)]), format: "der", type: "pkcs8" })
        const plainAtEnd = (b: Buffer, back: number) => b.length - back
        const cnt = (n: number) => ({ type: 0x50, value: Buffer.from([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]) })
        add("unsigned", false, rawImage({ body, sign: () => [] }))
        add("unknown-key", false, rawImage({ body, sign: s => signatureTlvs(other, s) }))
        add("bad-signature-r", false, patch(base, b => (b[plainAtEnd(b, 64) + 3] ^= 0x20)))
        add("bad-signature-s", false, patch(base, b => (b[plainAtEnd(b, 32) + 1] ^= 0x01)))
        add("keyhash-flipped", false, patch(base, b => (b[plainAtEnd(b, 68 + 32) + 5] ^= 0x80)))
        add("signature-of-another-image", false, rawImage({ body, sign: s => signatureTlvs(key, sha256(Buffer.concat([s, Buffer.from([1])]))) }))
        add("malleated-s", false, rawImage({ body, sign: s => { const t = signatureTlvs(key, s); return [t[0], { type: 0x24, value: plusL(t[1].value) }] } }))
        add("keyhash-only", false, rawImage({ body, sign: s => signatureTlvs(key, s).slice(0, 1) }))
        add("signature-only", false, rawImage({ body, sign: s => signatureTlvs(key, s).slice(1) }))
        add("two-signatures", false, rawImage({ body, sign: s => { const t = signatureTlvs(key, s); return [...t, t[1]] } }))
        add("two-keyhashes", false, rawImage({ body, sign: s => { const t = signatureTlvs(key, s); return [t[0], ...t] } }))
        add("keyhash-protected", false, rawImage({ body, prot: [signatureTlvs(key, Buffer.alloc(32))[0]], sign: s => signatureTlvs(key, s).slice(1) }))
        add("signature-protected", false, rawImage({ body, prot: [{ type: 0x24, value: filled(64) }], sign: s => signatureTlvs(key, s).slice(0, 1) }))
        add("signed-over-a-bad-sha", false, patch(base, b => (b[plainAtEnd(b, 68 + 36) - 1] ^= 1)))
        // the counter against a store at SIGNED_STORE_COUNTER: equal and above pass, below and none fail
        for (const [name, ok, prot] of [
            ["counter-equal", true, [cnt(SIGNED_STORE_COUNTER)]],
            ["counter-above", true, [cnt(SIGNED_STORE_COUNTER + 1)]],
            ["counter-u32-max", true, [cnt(0xffffffff)]],
            ["counter-below", false, [cnt(SIGNED_STORE_COUNTER - 1)]],
            ["counter-high-half-below", false, [cnt(SIGNED_STORE_COUNTER - 0x10000)]],
            ["counter-none", false, undefined],
        ] as [string, boolean, TlvItem[] | undefined][])
            add(name, ok, rawImage({ body, prot }), prog, "2_0_0")
    }
    return out
}

/** A signature with S + L in place of S: the same point, a malleated encoding (S + L < 2^256 as S < L < 2^253). */
function plusL(sig: Buffer): Buffer {
    const L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex")
    const v = Buffer.from(sig)
    let c = 0
    for (let i = 32; i < 64; i++) {
        c += v[i] + L[i - 32]
        v[i] = c & 255
        c >>= 8
    }
    return v
}

/** The store's security counter the signed set's counter variants meet (its high half too: format 2). */
export const SIGNED_STORE_COUNTER = 0x12345
