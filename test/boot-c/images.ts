// MCUboot images for the boot vectors: good ones made by src/image/pack.ts, and malformed ones
// built field by field, one flaw each, so that the C image check meets every way the TypeScript
// check (src/image/check.ts plus the boot stage's version and DevS checks) refuses an image.
import { createHash } from "node:crypto"
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

export async function goodImage(version: string, bodyLen: number, seed: number, o: { headerSize?: number; securityCounter?: number; protectedTlvs?: TlvItem[]; tlvs?: TlvItem[] } = {}): Promise<TestImage> {
    const body = devsBody(bodyLen, seed)
    const p = await packImage(body, { version: parseVersion(version), yielder: noYield, ...o })
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
}

/** An image built field by field (no argument checks: the flaws are the point). */
export function rawImage(o: Raw): Buffer {
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
    const plain = encodeTlvArea(0x6907, o.plain ? o.plain(sha) : [{ type: 0x10, value: sha }])
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
function header24(body: Buffer): Buffer {
    const h = Buffer.alloc(24)
    h.writeUInt32LE(0x96f3b83d, 0)
    h.writeUInt16LE(24, 8)
    h.writeUInt32LE(body.length, 12)
    h[20] = 2
    const hashed = Buffer.concat([h, body])
    return Buffer.concat([hashed, encodeTlvArea(0x6907, [{ type: 0x10, value: sha256(hashed) }])])
}

export function imageVariants(seed: number): Variant[] {
    const body = devsBody(1504, seed)
    const prog = programHash(body)
    const out: Variant[] = []
    const add = (name: string, ok: boolean, bytes: Buffer, program = prog, version = "2_0_0") => out.push({ name, bytes, ok, program, version })
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
    add("keyhash-signature", true, rawImage({ body, plain: s => [sha(s), { type: 0x01, value: filled(32) }, { type: 0x24, value: filled(64) }] }))
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
    add("bad-sha", false, patch(base, b => (b[b.length - 1] ^= 1)))
    add("body-flipped", false, patch(base, b => (b[100] ^= 0x10)))
    add("not-devs", false, rawImage({ body: patch(body, b => (b[0] = 0x45)) }))
    add("version-2.0.1", false, rawImage({ body, version: [2, 0, 1, 0] }))
    add("build-1", false, rawImage({ body, version: [2, 0, 0, 1] }))
    // everything else holds, the build being the body's first bytes: only ih_hdr_size refuses it
    add("header-24", false, header24(body), prog, `2_0_0+${body.readUInt32LE(0)}`)
    return out
}
