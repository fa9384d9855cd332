// The digests of one package, computed as its bytes stream in: MD5 always (QuecThing's 10701
// always carries it), SHA-256 when the module sent one, CRC-32 only when configured (the 10701
// CRC field's algorithm is undocumented, so a wrong guess must never fail a good upgrade).
//
// The VM panics after 131 072 opcodes without a real yield. Measured in the VM: MD5 alone fits
// 1 KB per turn, MD5 + SHA-256 fit 256 bytes but not 512, and MD5 + SHA-256 + CRC-32 do not fit
// 256. So update() hashes one 64-byte block per turn by default (about a quarter of the limit,
// leaving the caller's own work room) and then sleeps through a StepBudget; the extra yields cost
// little (4 KB with MD5 + SHA-256: 29 ms in 64-byte turns, 37 ms in 256-byte ones). save() gives a compact midstate (≤ 124 bytes) for the download
// journal, so a resumed download continues the hashes instead of trusting what was written.

import { StepBudget } from "../lib/step-budget"
import { crc32Update } from "../lib/crc32"
import { getU32, putU32, toHex } from "../lib/bytes"
import { Md5 } from "./md5"
import { Sha256 } from "./sha256"

export interface DigestOptions {
    sha256: boolean
    crc32: boolean
    /** Bytes hashed per VM turn. Default 64: one block of each digest (see above). */
    sliceBytes?: number
    /** Yield strategy; default sleeps 0 ms after every slice. */
    budget?: StepBudget
}

export interface DigestValues {
    length: number
    md5: string
    /** "" when not computed */
    sha256: string
    /** -1 when not computed */
    crc32: number
}

const MIDSTATE_VERSION = 1
const FLAG_SHA = 1
const FLAG_CRC = 2
/** version, flags, length (6), crc (4), md5 (16), sha (32), pending length (1) */
const FIXED = 61
/** The largest midstate save() produces. */
export const MAX_MIDSTATE = FIXED + 63

export class DigestSet {
    /** Its `length` is the bytes hashed so far (read there: a method would cost bytecode in every image). */
    readonly md5: Md5 = new Md5()
    readonly sha: Sha256
    /** Internal (transferMidstate reads it): the CRC-32 so far. */
    crc: number
    private withCrc: boolean
    private slice: number
    private budget: StepBudget

    constructor(options: DigestOptions) {
        this.sha = options.sha256 ? new Sha256() : null
        this.withCrc = options.crc32
        this.crc = 0
        this.slice = options.sliceBytes || 64
        this.budget = options.budget || new StepBudget(this.slice)
    }

    /** Hash bytes[start..end), yielding between slices. */
    async update(bytes: Buffer, start: number, end: number) {
        let off = start
        while (off < end) {
            const stop = Math.min(end, off + this.slice)
            this.md5.update(bytes, off, stop)
            if (this.sha) this.sha.update(bytes, off, stop)
            if (this.withCrc) this.crc = crc32Update(this.crc, bytes, off, stop)
            await this.budget.spend(stop - off)
            off = stop
        }
    }

    /** Finish and return the digests (the set cannot be updated afterwards). */
    finish(): DigestValues {
        return {
            length: this.md5.length,
            md5: toHex(this.md5.digest()),
            sha256: this.sha ? toHex(this.sha.digest()) : "",
            crc32: this.withCrc ? this.crc : -1,
        }
    }

    /** The midstate, to be stored in the download journal (≤ MAX_MIDSTATE bytes). */
    save(): Buffer {
        const md5 = this.md5
        const b = Buffer.alloc(FIXED + md5.fill)
        b[0] = MIDSTATE_VERSION
        b[1] = (this.sha ? FLAG_SHA : 0) | (this.withCrc ? FLAG_CRC : 0)
        let len = md5.length
        for (let i = 0; i < 6; i++) {
            b[2 + i] = len % 256
            len = Math.floor(len / 256)
        }
        b[60] = md5.fill
        b.set(md5.block.slice(0, md5.fill), FIXED)
        transferMidstate(this, b, true, 0)
        return b
    }

    /**
     * Rebuild a set from save(). Returns null when the blob is not a midstate of this version or
     * does not match the options (then the caller re-hashes what was written, trusting nothing).
     */
    static restore(saved: Buffer, options: DigestOptions): DigestSet {
        if (!saved || saved.length < FIXED || saved[0] !== MIDSTATE_VERSION) return null
        // the digests it holds must be the ones configured (other bits are not looked at)
        if ((saved[1] & (FLAG_SHA | FLAG_CRC)) !== ((options.sha256 ? FLAG_SHA : 0) | (options.crc32 ? FLAG_CRC : 0))) return null
        let len = 0
        for (let i = 5; i >= 0; i--) len = len * 256 + saved[2 + i]
        const pendingLen = saved[60]
        if (pendingLen !== len % 64 || saved.length !== FIXED + pendingLen) return null
        const set = new DigestSet(options)
        transferMidstate(set, saved, false, len)
        return set
    }
}

/**
 * The CRC and the hashes' words into the midstate b (save), or out of it with the length and the
 * pending bytes. A module function, not a method: no prototype-table entry in every image.
 */
function transferMidstate(set: DigestSet, b: Buffer, save: boolean, length: number) {
    if (save) putU32(b, 8, set.crc)
    else set.crc = getU32(b, 8)
    set.md5.transfer(b, 12, save, length, FIXED)
    if (set.sha) set.sha.transfer(b, 28, save, length, FIXED)
}
