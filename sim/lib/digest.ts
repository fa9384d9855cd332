// The digests a QuecThing plan announces in `+QIOTEVT: 7,10701`: MD5 and SHA-256 as lower-case
// hex (as the walk-through prints them) and the <CRC> field as an unsigned decimal.
// The CRC algorithm is not documented; CRC-32/ISO-HDLC (zlib's) is the likely one
// (quecthing-at.md §3) and is what we announce.

import { createHash } from "node:crypto"
import { crc32 as zlibCrc32 } from "node:zlib"

export interface PackageDigests {
    md5: string
    sha256: string
    /** CRC-32/ISO-HDLC as an unsigned 32-bit integer. */
    crc32: number
}

export function md5Hex(data: Buffer): string {
    return createHash("md5").update(data).digest("hex")
}

export function sha256Hex(data: Buffer): string {
    return createHash("sha256").update(data).digest("hex")
}

export function crc32(data: Buffer): number {
    return zlibCrc32(data) >>> 0
}

export function digestsOf(data: Buffer): PackageDigests {
    return { md5: md5Hex(data), sha256: sha256Hex(data), crc32: crc32(data) }
}
