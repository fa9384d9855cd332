// MCUboot's image header (boot/bootutil/include/bootutil/image.h, `struct image_header`), 32 bytes,
// all fields little-endian:
//
//   0  u32 ih_magic            0x96f3b83d
//   4  u32 ih_load_addr        RAM load address (imgtool -L also sets IMAGE_F_RAM_LOAD)
//   8  u16 ih_hdr_size         bytes before the body: this header plus padding (often 0x20 or 0x200)
//  10  u16 ih_protect_tlv_size the whole protected TLV area, its 4-byte info included; 0 when there is none
//  12  u32 ih_img_size         the body only (not the header, not the TLVs)
//  16  u32 ih_flags            IMAGE_F_*
//  20  u8  iv_major, u8 iv_minor, u16 iv_revision, u32 iv_build_num
//  28  u32 _pad1               0
//
// After the header come the body (ih_img_size bytes), the protected TLV area (info magic 0x6908)
// when ih_protect_tlv_size > 0, then the TLV area (info magic 0x6907). The SHA-256 TLV covers the
// header, the body and the protected TLV area: bytes [0, hdr + img + prot).

import { getU16, getU32, putU16, putU32 } from "../lib/bytes"
import { ImageError, hexNum, nthWord } from "./errors"

export const IMAGE_MAGIC = 0x96f3b83d
export const IMAGE_HEADER_SIZE = 32

export const IMAGE_F_PIC = 0x01
export const IMAGE_F_ENCRYPTED_AES128 = 0x04
export const IMAGE_F_ENCRYPTED_AES256 = 0x08
export const IMAGE_F_NON_BOOTABLE = 0x10
export const IMAGE_F_RAM_LOAD = 0x20
export const IMAGE_F_ROM_FIXED = 0x100
export const IMAGE_F_COMPRESSED_LZMA1 = 0x200
export const IMAGE_F_COMPRESSED_LZMA2 = 0x400
export const IMAGE_F_COMPRESSED_ARM_THUMB = 0x800

/**
 * The flags an image may carry and still be checked from its bytes: they say where or how the
 * image runs, not what the bytes are. Encrypted or compressed bodies (the hash is over the plain
 * body) and bits MCUboot does not define are refused as unsupported-flags.
 */
export const IMAGE_F_CHECKABLE = IMAGE_F_PIC | IMAGE_F_NON_BOOTABLE | IMAGE_F_RAM_LOAD | IMAGE_F_ROM_FIXED

/** MCUboot's `struct image_version`: major and minor 0–255, revision 0–65535, build 0–2^32−1. */
export interface ImageVersion {
    major: number
    minor: number
    revision: number
    build: number
}

export interface ImageHeader {
    loadAddr: number
    /** ih_hdr_size: where the body starts. */
    hdrSize: number
    /** ih_protect_tlv_size: the protected TLV area with its info, or 0. */
    protTlvSize: number
    /** ih_img_size: the body's length. */
    imgSize: number
    flags: number
    version: ImageVersion
}

/** How many bytes the SHA-256 TLV covers: header, body and protected TLVs. */
export function hashedLength(h: ImageHeader): number {
    return h.hdrSize + h.imgSize + h.protTlvSize
}

export function isUint(v: number, max: number): boolean {
    return typeof v === "number" && v >= 0 && v <= max && Math.floor(v) === v
}

/** True when every part is an integer in MCUboot's range. */
export function versionInRange(v: ImageVersion): boolean {
    return !!v && isUint(v.major, 255) && isUint(v.minor, 255) && isUint(v.revision, 0xffff) && isUint(v.build, 0xffffffff)
}

/** The names of the IMAGE_F_* bits set in `flags` (`0x…` for bits MCUboot does not define). */
export function flagNames(flags: number): string[] {
    const out: string[] = []
    let bit = 1
    for (let i = 0; i < 32; i++) {
        // bit i of ih_flags is word i (one string, not an array literal: less bytecode on the firmware)
        if ((flags & bit) !== 0) {
            const name = nthWord("PIC  ENCRYPTED_AES128 ENCRYPTED_AES256 NON_BOOTABLE RAM_LOAD   ROM_FIXED COMPRESSED_LZMA1 COMPRESSED_LZMA2 COMPRESSED_ARM_THUMB", i)
            out.push(name ? name : hexNum(bit >>> 0, 1))
        }
        bit = bit << 1
    }
    return out
}

/** The 32 header bytes for h (the builder pads them to h.hdrSize). Throws bad-argument and friends. */
export function encodeHeader(h: ImageHeader): Buffer {
    if (!isUint(h.hdrSize, 0xffff) || h.hdrSize < IMAGE_HEADER_SIZE)
        throw new ImageError("bad-header-size", `header size ${h.hdrSize}: must be ${IMAGE_HEADER_SIZE}-65535`)
    if (!versionInRange(h.version))
        throw new ImageError(
            "bad-version",
            `${h.version ? `${h.version.major}.${h.version.minor}.${h.version.revision}+${h.version.build}` : "none"}: major and minor must be 0-255, revision 0-65535, build 0-4294967295`
        )
    if (!isUint(h.loadAddr, 0xffffffff)) throw new ImageError("bad-argument", `load address ${h.loadAddr}: not a u32`)
    if (!isUint(h.flags, 0xffffffff)) throw new ImageError("bad-argument", `flags ${h.flags}: not a u32`)
    if (!isUint(h.imgSize, 0xffffffff)) throw new ImageError("too-large", `body of ${h.imgSize} bytes: over 32 bits`)
    if (!isUint(h.protTlvSize, 0xffff) || (h.protTlvSize > 0 && h.protTlvSize < 4))
        throw new ImageError("bad-protected-size", `protected TLV size ${h.protTlvSize}: 0 or 4-65535`)
    if (hashedLength(h) > 0xffffffff) throw new ImageError("too-large", "header + body + protected TLVs over 32 bits")
    const b = Buffer.alloc(IMAGE_HEADER_SIZE)
    putU32(b, 0, IMAGE_MAGIC)
    putU32(b, 4, h.loadAddr)
    putU16(b, 8, h.hdrSize)
    putU16(b, 10, h.protTlvSize)
    putU32(b, 12, h.imgSize)
    putU32(b, 16, h.flags)
    b[20] = h.version.major
    b[21] = h.version.minor
    putU16(b, 22, h.version.revision)
    putU32(b, 24, h.version.build)
    return b
}

/**
 * Decode and check the 32 header bytes in b. Checks what the header alone can say: the magic, the
 * header size, flags we cannot check, a protected size that cannot hold its info, and, when
 * `maxSize` (the slot's size) is given, that header, body and protected TLVs leave room in it for
 * the TLV area (MCUboot's boot_check_header_valid refuses hdr + img + prot >= the slot).
 */
export function decodeHeader(b: Buffer, maxSize?: number): ImageHeader {
    if (b.length < IMAGE_HEADER_SIZE)
        throw new ImageError("truncated", `${b.length} bytes: shorter than the ${IMAGE_HEADER_SIZE}-byte header`)
    const magic = getU32(b, 0)
    // IMAGE_MAGIC written out in the message: a hexNum call less
    if (magic !== IMAGE_MAGIC) throw new ImageError("bad-magic", `magic ${hexNum(magic, 8)}, expected 0x96f3b83d`)
    const h: ImageHeader = {
        loadAddr: getU32(b, 4),
        hdrSize: getU16(b, 8),
        protTlvSize: getU16(b, 10),
        imgSize: getU32(b, 12),
        flags: getU32(b, 16),
        version: { major: b[20], minor: b[21], revision: getU16(b, 22), build: getU32(b, 24) },
    }
    if (h.hdrSize < IMAGE_HEADER_SIZE)
        throw new ImageError("bad-header-size", `header size ${h.hdrSize}: smaller than the ${IMAGE_HEADER_SIZE}-byte header`)
    if ((h.flags & ~IMAGE_F_CHECKABLE) !== 0)
        throw new ImageError(
            "unsupported-flags",
            `flags ${hexNum(h.flags, 8)} (${flagNames(h.flags).join(", ")}): only PIC, NON_BOOTABLE, RAM_LOAD and ROM_FIXED images can be checked`
        )
    if (h.protTlvSize > 0 && h.protTlvSize < 4)
        throw new ImageError("bad-protected-size", `protected TLV size ${h.protTlvSize}: smaller than its 4-byte info`)
    if (maxSize !== undefined && hashedLength(h) >= maxSize)
        throw new ImageError(
            "too-large",
            `header ${h.hdrSize} + body ${h.imgSize} + protected TLVs ${h.protTlvSize} bytes leave no room for the TLV area in the ${maxSize}-byte slot`
        )
    return h
}
