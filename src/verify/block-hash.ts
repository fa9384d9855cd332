// The frame shared by MD5 and SHA-256 (Merkle–Damgård over 64-byte blocks): buffering of a
// partial block, padding with the bit length, and the midstate (chaining words, length, pending
// bytes) that the download journal saves so a resumed download does not re-hash from zero.
import { getU32, putU32 } from "../lib/bytes"

export abstract class BlockHash {
    /** Chaining words. */
    h: number[]
    /** Bytes hashed so far. */
    length = 0
    /** The bytes waiting for a full block: block[0..fill), 0..63 of them (DigestSet saves them). */
    block: Buffer = Buffer.alloc(64)
    fill = 0
    private bigEndian: boolean

    constructor(iv: number[], bigEndian: boolean) {
        this.h = iv
        this.bigEndian = bigEndian
    }

    /** Hash bytes[start..end). Synchronous: feed a few hundred bytes per VM turn at most. */
    update(bytes: Buffer, start: number, end: number) {
        this.length += end - start
        let i = start
        while (i < end) {
            // whole blocks straight from the caller's bytes; the rest through the block buffer
            if (this.fill === 0 && end - i >= 64) {
                this.compress(bytes, i)
                i += 64
                continue
            }
            this.block[this.fill++] = bytes[i++]
            if (this.fill === 64) {
                this.compress(this.block, 0)
                this.fill = 0
            }
        }
    }

    /**
     * DigestSet's midstate: `save` puts the chaining words at b[at..] (u32 each); restore takes
     * them back, with the length and the pending bytes (b[pendingAt..], up to b's end). One walk
     * for both ways: less bytecode than a save and a restore each.
     */
    transfer(b: Buffer, at: number, save: boolean, length: number, pendingAt: number) {
        const h = this.h
        for (let i = 0; i < h.length; i++) {
            if (save) putU32(b, at + 4 * i, h[i])
            else h[i] = getU32(b, at + 4 * i)
        }
        if (save) return
        this.length = length
        this.fill = b.length - pendingAt
        this.block.set(b.slice(pendingAt, b.length), 0)
    }

    /** Finish: pad, append the 64-bit bit length, and return the chaining words as bytes. */
    digest(): Buffer {
        const pad = Buffer.alloc(this.fill < 56 ? 64 - this.fill : 128 - this.fill)
        pad[0] = 0x80
        const n = pad.length
        const be = this.bigEndian
        // the 64-bit bit length in the last 8 bytes, a byte at a time (no `x % 2^32` here: in the
        // DeviceScript VM it is 0 for a runtime x, the divisor being narrowed to int32)
        let bits = this.length * 8
        for (let i = 0; bits > 0; i++) {
            pad[be ? n - 1 - i : n - 8 + i] = bits % 256
            bits = Math.floor(bits / 256)
        }
        const len = this.length
        this.update(pad, 0, n)
        this.length = len
        const h = this.h
        const out = Buffer.alloc(4 * h.length)
        // each word big- or little-endian (a Buffer store keeps the low 8 bits)
        for (let i = 0; i < out.length; i++) out[i] = h[i >> 2] >>> (be ? 24 - 8 * (i & 3) : 8 * (i & 3))
        return out
    }

    /** Process one 64-byte block at b[off..off+64). */
    protected abstract compress(b: Buffer, off: number): void
}
