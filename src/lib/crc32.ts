// CRC-32/ISO-HDLC (the zlib/PNG/Ethernet CRC): reflected polynomial 0xEDB88320, init and final
// xor 0xFFFFFFFF; check value crc32("123456789") = 0xCBF43926.
// Portable: plain numbers and byte indexing only. Half a byte per lookup: DeviceScript has no
// typed arrays, so the usual 256-entry table is a number[] of ~2.2 KB of a 64 KB heap, held for
// good once the metadata log has checked a record; the 16-entry one is ~150 bytes. Measured in
// the VM (1 KB in 256-byte calls): 0.59 ms/KB with 256 entries, 0.69 ms/KB with 16.

import { hex, words } from "./hex"

let table: number[] = null

/**
 * Entry n is n run through 4 rounds of `c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1`; kept as data
 * (a `hex` literal costs no bytecode, the loop that computed it did), made an array once.
 */
function crcTable(): number[] {
    if (!table)
        table = words(hex`00000000 1db71064 3b6e20c8 26d930ac 76dc4190 6b6b51f4 4db26158 5005713c
                          edb88320 f00f9344 d6d6a3e8 cb61b38c 9b64c2b0 86d3d2d4 a00ae278 bdbdf21c`)
    return table
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
    for (let i = start; i < end; i++) {
        const b = bytes[i]
        c = t[(c ^ b) & 15] ^ (c >>> 4)
        c = t[(c ^ (b >> 4)) & 15] ^ (c >>> 4)
    }
    return (c ^ 0xffffffff) >>> 0
}

/** CRC-32 of a whole buffer. In the VM keep one call under ~2 KB (≈ 25 opcodes per byte vs. the 131 072-opcode limit). */
export function crc32(bytes: ByteSource): number {
    return crc32Update(0, bytes, 0, bytes.length)
}
