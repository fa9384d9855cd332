// detools' size fields (detools/common.py unpack_size, the C pack_size of its bsdiff module): a
// signed variable-length integer, least significant group first. First byte: bit 7 "more
// bytes follow", bit 6 the sign, bits 5..0 the lowest six bits; each further byte: bit 7 "more",
// bits 6..0 the next seven bits. Zero is one 0x00 byte. The same encoding carries the target size
// in a patch's header, the chunk counts and adjustments inside its data, and the fields of our
// checkpoints (checkpoint.ts).
//
// Numbers are doubles built by multiplication, never shifts (no 32-bit wrap in either runtime).
// A size field longer than MAX_SIZE_BYTES cannot be a real size here and is refused by readers.

/** Longest size field accepted: 6 + 7 × 5 = 41 bits, far above any image. */
export const MAX_SIZE_BYTES = 6

/** Bytes `encodeSize` writes for v. */
export function sizeLength(v: number): number {
    let a = v < 0 ? -v : v
    if (a < 64) return 1
    a = Math.floor(a / 64)
    let n = 1
    while (a > 0) {
        a = Math.floor(a / 128)
        n++
    }
    return n
}

/** Write v (an integer, |v| < 2^41) at out[off]; returns the offset after it. */
export function encodeSize(v: number, out: Buffer, off: number): number {
    if (v === 0) {
        out[off] = 0
        return off + 1
    }
    let a = v < 0 ? -v : v
    let low = a - Math.floor(a / 64) * 64
    a = Math.floor(a / 64)
    out[off++] = (a > 0 ? 0x80 : 0) | (v < 0 ? 0x40 : 0) | low
    while (a > 0) {
        low = a - Math.floor(a / 128) * 128
        a = Math.floor(a / 128)
        out[off++] = (a > 0 ? 0x80 : 0) | low
    }
    return off
}

/**
 * Read a size field at b[pos]: `this.value` and `this.end` (the offset after it); null when the
 * bytes end first or the field is longer than MAX_SIZE_BYTES. A plain result object, reused.
 */
export interface SizeRead {
    value: number
    end: number
}

export function decodeSize(b: Buffer, pos: number, end: number, r: SizeRead): boolean {
    if (pos >= end) return false
    let byte = b[pos++]
    const neg = (byte & 0x40) !== 0
    let v = byte & 0x3f
    let mul = 64
    let n = 1
    while (byte & 0x80) {
        if (pos >= end || n >= MAX_SIZE_BYTES) return false
        byte = b[pos++]
        v += (byte & 0x7f) * mul
        mul *= 128
        n++
    }
    r.value = neg ? -v : v
    r.end = pos
    return true
}
