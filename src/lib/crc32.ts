// CRC-32/ISO-HDLC (the zlib/PNG/Ethernet CRC): reflected polynomial 0xEDB88320, init and final
// xor 0xFFFFFFFF; check value crc32("123456789") = 0xCBF43926.
// Portable: plain numbers and byte indexing only. The 256-entry table is built on first use
// (DeviceScript has no static initialisers and no typed arrays; a number[] of 256 costs ~2 KB).

let table: number[] = null

function crcTable(): number[] {
    if (table) return table
    const t: number[] = []
    for (let n = 0; n < 256; n++) {
        let c = n
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
        t.push(c >>> 0)
    }
    table = t
    return t
}

/** Something indexable like a Buffer (DeviceScript Buffer, Node Buffer or Uint8Array). */
export interface ByteSource {
    length: number
    [i: number]: number
}

/**
 * Continue a CRC-32 over bytes[start..end). Start with `crc = 0`; the result of one call is the
 * `crc` of the next, so a stream can be fed in pieces. Returns an unsigned 32-bit value.
 */
export function crc32Update(crc: number, bytes: ByteSource, start: number, end: number): number {
    const t = crcTable()
    let c = (crc ^ 0xffffffff) >>> 0
    for (let i = start; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
}

/** CRC-32 of a whole buffer. */
export function crc32(bytes: ByteSource): number {
    return crc32Update(0, bytes, 0, bytes.length)
}
