// Test images assembled field by field in Node, independently of src/image's builder: every
// header field, both TLV areas and their infos can be set to anything, and the SHA-256 TLV is
// computed with node:crypto (so a test can break one rule and keep the hash right).

import { createHash } from "node:crypto"
import type { ImageReader } from "../../src/image/reader"

export interface RawTlv {
    type: number
    value: Buffer
}

export interface Parts {
    magic?: number
    loadAddr?: number
    hdrSize?: number
    /** ih_protect_tlv_size; default: the protected area's real length (0 when `prot` is absent). */
    protTlvSize?: number
    /** ih_img_size; default: body.length. */
    imgSize?: number
    flags?: number
    version?: [number, number, number, number]
    body?: Buffer
    /** Protected entries; absent: no protected area. */
    prot?: RawTlv[]
    /** The protected info's magic and total (default 0x6908 and the real length). */
    protMagic?: number
    protTot?: number
    /** Plain entries; the string "hash" stands for a correct SHA-256 TLV. Default: ["hash"]. */
    plain?: (RawTlv | "hash")[]
    plainMagic?: number
    plainTot?: number
    /** Bytes after the TLV area (padding). */
    tail?: Buffer
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest()

function area(magic: number, tot: number | undefined, entries: RawTlv[]): Buffer {
    const len = 4 + entries.reduce((n, e) => n + 4 + e.value.length, 0)
    const b = Buffer.alloc(len)
    b.writeUInt16LE(magic, 0)
    b.writeUInt16LE(tot ?? len, 2)
    let off = 4
    for (const e of entries) {
        b.writeUInt16LE(e.type, off)
        b.writeUInt16LE(e.value.length, off + 2)
        e.value.copy(b, off + 4)
        off += 4 + e.value.length
    }
    return b
}

/** A deterministic body of n bytes. */
export function pattern(n: number, seed = 7): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff
    return b
}

export function assemble(p: Parts = {}): Buffer {
    const body = p.body ?? pattern(300)
    const hdrSize = p.hdrSize ?? 32
    const protArea = p.prot ? area(p.protMagic ?? 0x6908, p.protTot, p.prot) : Buffer.alloc(0)
    const h = Buffer.alloc(Math.max(32, hdrSize))
    h.writeUInt32LE(p.magic ?? 0x96f3b83d, 0)
    h.writeUInt32LE(p.loadAddr ?? 0, 4)
    h.writeUInt16LE(hdrSize, 8)
    h.writeUInt16LE(p.protTlvSize ?? protArea.length, 10)
    h.writeUInt32LE(p.imgSize ?? body.length, 12)
    h.writeUInt32LE(p.flags ?? 0, 16)
    const [ma, mi, rev, build] = p.version ?? [2, 0, 0, 0]
    h[20] = ma
    h[21] = mi
    h.writeUInt16LE(rev, 22)
    h.writeUInt32LE(build, 24)
    const hashed = Buffer.concat([h.subarray(0, Math.max(32, hdrSize)), body, protArea])
    const digest = sha256(hashed)
    const plain = (p.plain ?? ["hash"]).map(e => (e === "hash" ? { type: 0x10, value: digest } : e))
    return Buffer.concat([hashed, area(p.plainMagic ?? 0x6907, p.plainTot, plain), p.tail ?? Buffer.alloc(0)])
}

export const u32 = (v: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v, 0)
    return b
}

/** Reads of an ImageReader, as they happened. */
export interface ReadLog {
    reads: { offset: number; len: number }[]
    bytes: number
    maxLen: number
}

/** An ImageReader over `bytes` that logs every read and never hands out more than asked. */
export function loggingReader(bytes: Buffer): { reader: ImageReader; log: ReadLog } {
    const log: ReadLog = { reads: [], bytes: 0, maxLen: 0 }
    const reader: ImageReader = {
        read: async (offset: number, len: number) => {
            log.reads.push({ offset, len })
            log.maxLen = Math.max(log.maxLen, len)
            const out = Buffer.from(bytes.subarray(offset, Math.min(bytes.length, offset + len)))
            log.bytes += out.length
            return out
        },
    }
    return { reader, log }
}

/** No opcode budget in Node: the check's yields cost nothing but are counted. */
export function countingYielder(): { yielder: () => Promise<void>; count: () => number } {
    let n = 0
    return {
        yielder: async () => {
            n++
        },
        count: () => n,
    }
}
