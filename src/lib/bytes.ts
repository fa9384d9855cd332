// Little-endian integer fields in Buffers, by byte indexing only: DeviceScript's readUInt32BE is
// signed and it has no writeUInt32LE, so records are encoded by hand (same bytes on both runtimes).

export function getU16(b: Buffer, off: number): number {
    return b[off] | (b[off + 1] << 8)
}

/** Unsigned 32-bit; built with a multiply so the top bit never makes it negative. */
export function getU32(b: Buffer, off: number): number {
    return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16)) + b[off + 3] * 0x1000000
}

export function putU16(b: Buffer, off: number, v: number) {
    b[off] = v & 0xff
    b[off + 1] = (v >> 8) & 0xff
}

export function putU32(b: Buffer, off: number, v: number) {
    b[off] = v & 0xff
    b[off + 1] = (v >> 8) & 0xff
    b[off + 2] = (v >> 16) & 0xff
    b[off + 3] = (v >>> 24) & 0xff
}

/** Copy src[srcStart..srcEnd) into dst at dstOff (Buffer.set on a slice differs between runtimes). */
export function copyBytes(dst: Buffer, dstOff: number, src: Buffer, srcStart: number, srcEnd: number) {
    for (let i = srcStart; i < srcEnd; i++) dst[dstOff + i - srcStart] = src[i]
}

/** True when every byte of b[start..end) is `v`. */
export function allBytes(b: Buffer, start: number, end: number, v: number): boolean {
    for (let i = start; i < end; i++) if (b[i] !== v) return false
    return true
}

export function bytesEqual(a: Buffer, b: Buffer): boolean {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
}

const HEX = "0123456789abcdef"

/** Lower-case hex of b (toString("hex") exists on both runtimes; this one needs no encoding table). */
export function toHex(b: Buffer): string {
    let s = ""
    for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15]
    return s
}

/** Parse hex (either case, even length) into a new Buffer; null when it is not hex. */
export function fromHex(s: string): Buffer {
    if (s.length & 1) return null
    const out = Buffer.alloc(s.length >> 1)
    for (let i = 0; i < out.length; i++) {
        const hi = hexDigit(s.charCodeAt(2 * i))
        const lo = hexDigit(s.charCodeAt(2 * i + 1))
        if (hi < 0 || lo < 0) return null
        out[i] = (hi << 4) | lo
    }
    return out
}

/** True when s is exactly `len` hex digits (either case); `len` even (a digest's hex). */
export function isHex(s: string, len: number): boolean {
    // fromHex's walk (its result, len / 2 bytes, is dropped): one digit loop in the image, not two
    return s.length === len && fromHex(s) !== null
}

const HEX_DIGITS = "0123456789abcdefABCDEF"

/** The value of hex digit `c` (a char code), -1 when it is none. A string search: three range tests were more bytecode. */
function hexDigit(c: number): number {
    const d = HEX_DIGITS.indexOf(String.fromCharCode(c))
    return d < 16 ? d : d - 6
}
