// MCUboot's TLV areas (image.h: `struct image_tlv_info`, `struct image_tlv`; tlv.c iterates them).
//
//   [protected area, only when ih_protect_tlv_size > 0]
//     u16 0x6908, u16 it_tlv_tot (= ih_protect_tlv_size, this 4-byte info included), entries
//   [TLV area, always]
//     u16 0x6907, u16 it_tlv_tot (this 4-byte info included), entries
//   entry: u16 it_type, u16 it_len, it_len bytes of value
//
// The protected area is covered by the image hash (and so by a signature over it): the security
// counter (0x50) lives there, and imgtool's custom TLVs (types 0xa0-0xfffe). The plain area holds
// what cannot be covered: the hash itself (0x10), the key hash (0x01) and the signature (0x24
// ED25519, 0x22 ECDSA, …). This module reads the layout through an ImageReader one 4-byte entry
// header at a time and never holds the values.

import { hex } from "../lib/hex"
import { getU16, putU16 } from "../lib/bytes"
import { errText } from "../lib/err-text"
import { ImageError, hexNum, nthWord } from "./errors"
import { ImageHeader } from "./header"
import { ImageReader } from "./reader"

export const TLV_INFO_MAGIC = 0x6907
export const TLV_PROT_INFO_MAGIC = 0x6908
export const TLV_INFO_SIZE = 4
export const TLV_HEADER_SIZE = 4

export const TLV_KEYHASH = 0x01
export const TLV_PUBKEY = 0x02
export const TLV_SHA256 = 0x10
export const TLV_SHA384 = 0x11
export const TLV_SHA512 = 0x12
export const TLV_RSA2048_PSS = 0x20
export const TLV_ECDSA224 = 0x21
export const TLV_ECDSA_SIG = 0x22
export const TLV_RSA3072_PSS = 0x23
export const TLV_ED25519 = 0x24
export const TLV_SIG_PURE = 0x25
export const TLV_DEPENDENCY = 0x40
export const TLV_SEC_CNT = 0x50
export const TLV_BOOT_RECORD = 0x60
export const TLV_UUID_VID = 0x74
export const TLV_UUID_CID = 0x75
/** The first type imgtool's `--custom-tlv` accepts (vendor types, 0xa0-0xfffe). */
export const TLV_VENDOR_MIN = 0xa0
/** IMAGE_TLV_ANY: MCUboot's wildcard, never a real entry. */
export const TLV_ANY = 0xffff

/** At most this many entries in one image: bounded memory whatever the TLV infos claim. */
export const MAX_TLVS = 32

/** One entry: `offset` is where its value starts in the image. */
export interface TlvEntry {
    type: number
    offset: number
    length: number
    protected: boolean
}

/** A TLV to write: a type and its value. */
export interface TlvItem {
    type: number
    value: Buffer
}

/** The TLV types imgtool names (one byte each), in the order of TLV_NAMES. */
const TLV_TYPES = hex`01021011122021222324253031323334405060707172737475`
/** imgtool's names (image.py TLV_VALUES) of TLV_TYPES; a table, not a switch: 0.3 KB less bytecode on the firmware. */
const TLV_NAMES =
    "KEYHASH PUBKEY SHA256 SHA384 SHA512 RSA2048 ECDSA224 ECDSASIG RSA3072 ED25519 SIG_PURE ENCRSA2048 ENCKW ENCEC256 " +
    "ENCX25519 ENCX25519_SHA512 DEPENDENCY SEC_CNT BOOT_RECORD DECOMP_SIZE DECOMP_SHA DECOMP_SIGNATURE COMP_DEC_SIZE UUID_VID UUID_CID"

/** imgtool's name for a TLV type (image.py TLV_VALUES), VENDOR for custom types, else UNKNOWN. */
export function tlvName(type: number): string {
    for (let i = 0; i < TLV_TYPES.length; i++) if (TLV_TYPES[i] === type) return nthWord(TLV_NAMES, i)
    return type >= TLV_VENDOR_MIN && type < TLV_ANY ? "VENDOR" : "UNKNOWN"
}

/** Pairs of a TLV type and the length it fixes (a table rather than a switch: less bytecode on the firmware). */
const FIXED_LENGTHS = hex`0120 1020 1130 1240 2440 5004 400c 7410 7510 2501`

/**
 * The length a TLV's type fixes in a SHA-256 image, or -1 when it varies (signatures in DER,
 * public keys, boot records, vendor TLVs): KEYHASH (the SHA-256 of the public key) and SHA256 32,
 * SHA384 48, SHA512 and ED25519 64, SEC_CNT 4, DEPENDENCY 12, UUID_VID and UUID_CID 16, SIG_PURE 1.
 */
export function tlvFixedLength(type: number): number {
    for (let i = 0; i < FIXED_LENGTHS.length; i += 2) if (FIXED_LENGTHS[i] === type) return FIXED_LENGTHS[i + 1]
    return -1
}

/**
 * The TLV of `type`, or null when there is none: it must be in the protected area when `prot`,
 * outside it otherwise (misplaced-tlv), and there may be only one (duplicate-tlv). `what` names it.
 */
export function onlyTlv(tlvs: TlvEntry[], type: number, prot: boolean, what: string): TlvEntry {
    let found: TlvEntry = null
    for (const t of tlvs)
        if (t.type === type) {
            if (t.protected !== prot) throw new ImageError("misplaced-tlv", `the ${what} TLV is ${prot ? "outside" : "in"} the protected area`)
            if (found) throw new ImageError("duplicate-tlv", `${what} TLVs at ${found.offset} and ${t.offset}`)
            found = t
        }
    return found
}

/** The TLV layout of an image: both areas' entries, and where the image's bytes end (check.ts's ImageLayout adds the header to this object). */
export interface TlvLayout {
    /** Protected entries first, each area in image order. */
    tlvs: TlvEntry[]
    /** Offset of the plain TLV info (= hdr + img + prot). */
    plainStart: number
    /** End of the TLV area: the image's length without padding. */
    size: number
}

/** Read exactly `len` bytes at `off` or throw truncated / read-failed. */
export async function readImageBytes(reader: ImageReader, off: number, len: number, what: string): Promise<Buffer> {
    let b: Buffer
    try {
        b = await reader.read(off, len)
    } catch (e) {
        throw new ImageError("read-failed", `${what} at ${off}: ${errText(e)}`)
    }
    const got = b ? b.length : 0
    if (got < len)
        throw new ImageError("truncated", `${what} at ${off}: the image's bytes end ${got} bytes into it, ${len} needed`)
    return b
}

async function readEntries(reader: ImageReader, start: number, end: number, prot: boolean, out: TlvEntry[]) {
    const area = prot ? "protected TLV area" : "TLV area"
    let off = start
    while (off < end) {
        if (end - off < TLV_HEADER_SIZE)
            throw new ImageError("bad-tlv", `a TLV header at ${off} runs past the end of the ${area} at ${end}`)
        const th = await readImageBytes(reader, off, TLV_HEADER_SIZE, "TLV header")
        const type = getU16(th, 0)
        const len = getU16(th, 2)
        if (len > end - off - TLV_HEADER_SIZE)
            throw new ImageError(
                "bad-tlv",
                `TLV ${tlvName(type)} (${hexNum(type, 2)}) at ${off}: its ${len} bytes run past the end of the ${area} at ${end}`
            )
        if (out.length >= MAX_TLVS) throw new ImageError("bad-tlv", `more than ${MAX_TLVS} TLVs`)
        out.push({ type: type, offset: off + TLV_HEADER_SIZE, length: len, protected: prot })
        off += TLV_HEADER_SIZE + len
    }
}

/**
 * Read both TLV areas' layout after the header h, as MCUboot's bootutil_tlv_iter_begin/next
 * accept them, but stricter: every entry must end inside its own area. With `maxSize` (the slot),
 * a TLV area that ends past it is too-large; an image whose bytes end before it is truncated.
 */
export async function readTlvLayout(reader: ImageReader, h: ImageHeader, maxSize?: number): Promise<TlvLayout> {
    const at = h.hdrSize + h.imgSize
    const entries: TlvEntry[] = []
    const first = await readImageBytes(reader, at, TLV_INFO_SIZE, "TLV info")
    const firstMagic = getU16(first, 0)
    if (h.protTlvSize > 0) {
        if (firstMagic === TLV_INFO_MAGIC)
            throw new ImageError(
                "bad-protected-size",
                `the header announces ${h.protTlvSize} bytes of protected TLVs, but the TLV area at ${at} is the plain one`
            )
        if (firstMagic !== TLV_PROT_INFO_MAGIC)
            throw new ImageError("bad-tlv-magic", `protected TLV info magic ${hexNum(firstMagic, 4)} at ${at}`)
        const tot = getU16(first, 2)
        if (tot !== h.protTlvSize)
            throw new ImageError("bad-protected-size", `the protected TLV info says ${tot} bytes, the header ${h.protTlvSize}`)
        await readEntries(reader, at + TLV_INFO_SIZE, at + tot, true, entries)
    } else if (firstMagic === TLV_PROT_INFO_MAGIC)
        throw new ImageError("bad-protected-size", `a protected TLV area at ${at}, but the header announces none`)
    const plainStart = at + h.protTlvSize
    const info = h.protTlvSize > 0 ? await readImageBytes(reader, plainStart, TLV_INFO_SIZE, "TLV info") : first
    const magic = getU16(info, 0)
    if (magic !== TLV_INFO_MAGIC) throw new ImageError("bad-tlv-magic", `TLV info magic ${hexNum(magic, 4)} at ${plainStart}`)
    const tot = getU16(info, 2)
    if (tot < TLV_INFO_SIZE) throw new ImageError("bad-tlv", `TLV info total ${tot} at ${plainStart}: below its own 4 bytes`)
    const end = plainStart + tot
    if (maxSize !== undefined && end > maxSize)
        throw new ImageError("too-large", `the TLV area ends at ${end}, past the ${maxSize}-byte slot`)
    await readImageBytes(reader, end - 1, 1, "the end of the TLV area")
    await readEntries(reader, plainStart + TLV_INFO_SIZE, end, false, entries)
    return { tlvs: entries, plainStart: plainStart, size: end }
}

/** A TLV area: its info (magic, total) then the entries. Throws bad-argument on what cannot be encoded. */
export function encodeTlvArea(magic: number, items: TlvItem[]): Buffer {
    let total = TLV_INFO_SIZE
    for (const it of items) {
        if (!(it.type >= 0 && it.type < TLV_ANY && Math.floor(it.type) === it.type))
            throw new ImageError("bad-argument", `TLV type ${it.type}: must be 0-0xfffe`)
        if (!it.value || it.value.length > 0xffff)
            throw new ImageError("bad-argument", `TLV ${hexNum(it.type, 2)}: value missing or over 65535 bytes`)
        total += TLV_HEADER_SIZE + it.value.length
    }
    if (total > 0xffff) throw new ImageError("bad-argument", `TLV area of ${total} bytes: over 65535`)
    const b = Buffer.alloc(total)
    putU16(b, 0, magic)
    putU16(b, 2, total)
    let off = TLV_INFO_SIZE
    for (const it of items) {
        putU16(b, off, it.type)
        putU16(b, off + 2, it.value.length)
        b.set(it.value, off + TLV_HEADER_SIZE)
        off += TLV_HEADER_SIZE + it.value.length
    }
    return b
}
