// The applier of detools' sequential patches (detools/apply.py apply_patch_sequential), for the
// MCU: portable, push-fed, bounded in memory, yielding inside the VM's opcode budget, and
// resumable after a power cut from a checkpoint taken on a sector boundary of the output.
//
// A sequential patch (detools/create.py):
//   header byte  bit 7 0 | bits 6..4 patch type (0 sequential) | bits 3..0 compression
//                (0 none, 4 heatshrink; lzma, crle, bz2, zstd, lz4 are refused as unsupported)
//   to_size      a size field (size.ts): the target's length; 0 ends the patch here
//   data         the rest, compressed as the header says; heatshrink's first byte is its own
//                header (window exponent − 4 << 4 | lookahead exponent − 3). Decompressed:
//                  data-format size (0: none; a data-format section is refused)
//                  then until to_size bytes are out, chunks of
//                    diff size d, d bytes: target[t+i] = old[f+i] + diff[i] (mod 256)
//                    extra size e, e bytes: target[t+i] = extra[i]
//                    adjustment a: f += d + a (signed)
//                and nothing after the last adjustment.
//
// Push API: `feed(chunk)` takes patch bytes as they arrive, in pieces of any size (one byte, a
// 1 KB block, the whole patch), and consumes every byte before it returns; `finish()` says the
// patch ended and checks that it was whole. The old image is read through `readOld` (the
// running slot), the target written through `write` (the receiving slot), in order, once each.
//
// Memory, allocated once: the output buffer (bufferSize, 256), the heatshrink window (2^W:
// 256 bytes for detools' default W = 8; at most 2^maxWindowSz2), a 1-byte scratch, and with
// `readNew` a 136-byte history of the last 8 chunks; plus what `readOld` returns per call (≤
// bufferSize bytes) and each checkpoint's bytes.
//
// Two classes, so that a program carries only what it uses (DeviceScript compiles a class only
// when something refers to it, and every method of a class it compiles):
//   SequentialApplier  the apply itself; its checkpoints carry no state (`onCheckpoint(null, at)`)
//                      and a resume replays: a fresh applier with `resumeAt` = the checkpoint's
//                      `at` is fed the patch again from its start, decodes (and taps) it without
//                      reading the old image or writing up to there, then writes from there on.
//                      What the SOTA agent uses (src/sota/rebuild.ts): 4.4 KB less bytecode than
//                      DeltaApplier, which the simulator's firmware has no room for.
//   DeltaApplier       its checkpoints carry its whole state (below), and `resume(cp)` goes on from
//                      the checkpoint's patch offset: no patch byte is read twice.
// Both decode at most 256 bytes between two payments to the opcode budget, whatever bufferSize
// (1 KB of heatshrink literals in one go panicked the VM).
//
// Checkpoints: with `checkpointEvery` (a sector) and `onCheckpoint`, every time the output
// reaches a multiple of it (not the end), the output is written up to there, the consumed patch
// bytes are tapped, and `onCheckpoint(cp, at)` gets (DeltaApplier) the applier's whole state as a
// small Buffer (checkpoint format below). After a power cut, `resume(cp)` on a fresh applier restores it:
// the caller then feeds the patch again from `patchOffset()` and the output goes on at `at`, so
// at most the bytes since that checkpoint are redone. The state is exact there because the
// decoder stops the moment it has produced what was asked for, and a checkpoint is taken before
// any byte after the boundary is decoded.
//
// The heatshrink window on resume. The window is the last 2^W bytes of the decompressed stream,
// which a back-reference may read at any time, so a resume needs it exactly. Restarting the
// decompressor from a known point is not possible: detools' stream is one heatshrink stream from
// start to end, with no flush points. So the checkpoint carries the window, in one of two forms,
// whichever is smaller (decided per checkpoint):
//   - by value: the 2^W bytes themselves (256 for W = 8);
//   - by reference: the decompressed stream is almost all diff and extra bytes, and those are
//     functions of bytes already on flash: a diff byte at target t from old f is new[t] − old[f],
//     an extra byte is new[t]. The applier keeps the last 8 chunks' (kind, stream offset, length,
//     t, f); a checkpoint lists the chunks that overlap the window and carries by value only the
//     rest (the size fields, a few bytes; and anything older than the history). `resume` reads
//     those ranges back (`readNew` on the receiving slot, `readOld`) and rebuilds the window.
//     The bytes read back lie before the checkpoint, which the store wrote and hashed before it
//     saved the checkpoint; if flash changed them since, the rebuilt image fails its SHA-256
//     check, never silently.
// Without `readNew` the window always goes by value. Measured (bench/delta.ts, test/delta): by
// reference 31–65 bytes (the firmware pairs: ≤ 64 at every 4 KB checkpoint), which fits the
// store's 200-byte journal midstate field beside the patch's MD5 + SHA-256 midstate (124 + 65 =
// 189); by value 2^W + ~30 bytes: 287 for W = 8, 1055 for W = 10. By reference is taken only when
// smaller, so a window full of tiny chunks falls back to by value: the bound is 2^W + ~40, and a
// journal that must hold every case needs ~420 bytes for W = 8 (a metadata record body may be a
// quarter of a 4 KB sector, so by value needs W ≤ 9).
//
// Cost, measured in the VM (devs run --test, GC stress on; bench/delta.ts): 4.0–7.6 ms per KB
// of target for real firmware patches and a compressed full image, ×12–22 the 115 200-baud line
// rate for the target's bytes; the apply adds 2–2.5 KB of heap (objects, buffers, the 256-byte
// window, frames, its classes' prototypes, what readOld returns, each checkpoint).
//
// Checkpoint format (all sizes are detools size fields, size.ts):
//   0xD1 | patch header byte | to_size | patch offset | t | f | stream offset | phase | left
//   heatshrink only: its header byte | state | acc | nbits | index | count | spans n
//     n × (kind 0 diff / 1 extra | stream offset | length | t | f for a diff)
//     the window bytes not covered by those spans, oldest first
//   CRC-32 of all of the above, little-endian.

import { crc32Update } from "../lib/crc32"
import { getU32, putU32 } from "../lib/bytes"
import { StepBudget, Yielder } from "../lib/step-budget"
import { DeltaError } from "./errors"
import { HeatshrinkDecoder, HS_BACKREF, HS_MAX_WINDOW, HS_MIN_LOOKAHEAD, HS_MIN_WINDOW } from "./heatshrink-decoder"
import { decodeSize, encodeSize, MAX_SIZE_BYTES, SizeRead, sizeLength } from "./size"

export const PATCH_TYPE_SEQUENTIAL = 0
export const COMPRESSION_NONE = 0
export const COMPRESSION_HEATSHRINK = 4

// Phases: the raw header, then the decompressed stream.
const P_HEADER = 0
const P_TO_SIZE = 1
const P_HS_HEADER = 2
const P_DF_SIZE = 3
const P_DIFF_SIZE = 4
const P_DIFF = 5
const P_EXTRA_SIZE = 6
const P_EXTRA = 7
const P_ADJUST = 8
const P_END = 9

const CP_FORMAT = 0xd1
/** Work units that make the budget yield at once. */
const FORCE_YIELD = 1 << 30
/** nextCp when checkpoints are off: never reached. */
const NO_CP = 1e15
const HIST = 8
/** Decompressed bytes between two budget payments: the output buffer may be larger (bufferSize). */
const DECODE_SLICE = 256
const SPAN = 17

export interface DeltaOptions {
    /** Exactly `len` bytes of the old image at `offset` (never outside [0, oldSize)). */
    readOld(offset: number, len: number): Promise<Buffer>
    /** Size of the old image: a diff outside it is refused (from-out-of-range). */
    oldSize: number
    /**
     * The target's bytes data[0..len) at `offset`, in order and each once (after a resume, again
     * from the checkpoint's offset). `data` is the applier's buffer: copy what you keep.
     */
    write(offset: number, data: Buffer, len: number): Promise<void>
    /** Largest target accepted (the receiving slot): a bigger to_size is refused (too-large) before any write. */
    maxSize: number
    /** Output bytes between checkpoints (a flash sector, e.g. 4096); 0 or absent: none. */
    checkpointEvery?: number
    /**
     * A checkpoint at output offset `at` (every byte before it written, every patch byte consumed
     * tapped): save it with the journal. `cp` is the applier's state (DeltaApplier), or null
     * (SequentialApplier: such a checkpoint is resumed by replay, resumeAt).
     */
    onCheckpoint?(cp: Buffer, at: number): Promise<void>
    /**
     * Resume by replay (SequentialApplier): the target's bytes below this offset (a checkpoint's
     * `at`) are on flash already. The patch is fed again from its start; its bytes up to there
     * are decoded and tapped but neither read from the old image nor written. Default 0.
     */
    resumeAt?: number
    /** Reads back target bytes already written: lets checkpoints carry the window by reference. */
    readNew?(offset: number, len: number): Promise<Buffer>
    /**
     * Patch bytes data[start..end) as they are consumed, in order and each once: before every
     * checkpoint and at the end of every feed, so a digest of the patch fed from here is exactly
     * at the checkpoint's patch offset when `onCheckpoint` runs.
     */
    tap?(data: Buffer, start: number, end: number): Promise<void>
    /** Largest heatshrink window accepted, as its exponent (default 10, 1 KB of RAM). */
    maxWindowSz2?: number
    /** Output buffer size (default 256); also the largest `readOld` and `write`. */
    bufferSize?: number
    /**
     * Bytes of work between yields (default 128). A trivial byte loop costs ~16 opcodes per
     * iteration in the VM (measured: 5 000 iterations fit the 131 072-opcode slice, 10 000 do
     * not), a heatshrink literal several times that; with 256 the VM suite panicked when the
     * caller had worked since its last sleep, with 128 it does not, at no measurable cost in speed.
     */
    yieldEvery?: number
    /** How to yield (default a real 0 ms sleep; Node tests pass a cheaper one). */
    yielder?: Yielder
}

export class SequentialApplier {
    protected o: DeltaOptions
    protected phase: number
    protected header: number
    protected compression: number
    protected toSize: number
    protected dec: HeatshrinkDecoder
    protected out: Buffer
    protected outFill: number
    protected outAt: number
    protected one: Buffer
    /** Target and old offsets of the next byte; stream offset (decompressed bytes so far); bytes left in the chunk. */
    protected toPos: number
    protected fromPos: number
    protected dpos: number
    protected left: number
    /** A size field being read: value so far, multiplier of the next group, sign, bytes read. */
    protected vVal: number
    protected vMul: number
    protected vNeg: boolean
    protected vBytes: number
    protected every: number
    protected nextCp: number
    protected budget: StepBudget
    protected inBuf: Buffer
    protected inPos: number
    protected inEnd: number
    protected tapFrom: number
    /** Patch offset of inBuf[0] (may be negative when a feed starts inside its buffer). */
    protected pbase: number
    protected failed: DeltaError
    protected done: boolean
    /** A resume by replay: the target's bytes below this offset are on flash, not to be read or written again. */
    protected skip: number

    // Fields a step always sets before it reads them (header, compression, toSize, dec, left, the
    // size field's vVal, vMul and vNeg, the input's inBuf, inEnd and tapFrom, failed, done) start
    // undefined: every initialisation is bytecode, every field heap, and the simulator's firmware
    // is at the VM's limit of function bytecode (docs/ARCHITECTURE.md, "Delta packages").
    constructor(o: DeltaOptions) {
        this.o = o
        this.phase = P_HEADER
        this.out = Buffer.alloc(o.bufferSize || 256)
        this.outFill = 0
        this.one = Buffer.alloc(1)
        this.toPos = 0
        this.fromPos = 0
        this.dpos = 0
        this.vBytes = 0
        this.every = o.checkpointEvery && o.onCheckpoint ? o.checkpointEvery : 0
        this.skip = o.resumeAt || 0
        this.outAt = this.skip
        this.nextCp = this.every ? this.skip + this.every : NO_CP
        this.budget = new StepBudget(o.yieldEvery || 128, o.yielder)
        this.inPos = 0
        this.pbase = 0
    }

    /** Patch bytes consumed so far: where to feed from after `resume`. */
    patchOffset(): number {
        return this.pbase + this.inPos
    }

    /** Take patch bytes chunk[start..end). Throws DeltaError on a bad patch (and for good: every later call throws it again). */
    async feed(chunk: Buffer, start?: number, end?: number): Promise<void> {
        if (this.failed) throw this.failed
        if (this.done) throw new DeltaError("closed", "the apply has finished")
        const s = start || 0
        const e = end === undefined ? chunk.length : end
        this.pbase = this.pbase + this.inPos - s
        this.inBuf = chunk
        this.inPos = s
        this.inEnd = e
        this.tapFrom = s
        try {
            while (await this.step()) {}
            await this.tapNow()
        } catch (err) {
            if (err instanceof DeltaError) this.failed = err
            throw err
        }
        this.pbase += this.inPos
        this.inPos = 0
        this.inBuf = null
        this.inEnd = 0
    }

    /** The patch has ended: checks that it was whole and everything is written; returns the target's size. */
    async finish(): Promise<number> {
        if (this.failed) throw this.failed
        if (this.done) throw new DeltaError("closed", "the apply has finished")
        if (this.phase !== P_END) {
            this.failed = new DeltaError("truncated", `the patch ended with ${this.toPos} target bytes out`)
            throw this.failed
        }
        await this.flush()
        this.done = true
        return this.toSize
    }

    // ---- the state machine ----

    /** One bounded piece of work; false when it needs more input. */
    protected async step(): Promise<boolean> {
        const ph = this.phase
        if (ph < P_DF_SIZE) return this.headerByte()
        if (ph === P_END) {
            if (this.inPos < this.inEnd) throw new DeltaError("trailing-data", "bytes after the end of the patch")
            return false
        }
        if (this.toPos === this.nextCp && this.toPos < this.toSize) {
            await this.takeCheckpoint()
            return true
        }
        if (ph === P_DIFF || ph === P_EXTRA) return await this.payload()
        const one = this.one
        if (this.decode(one, 0, 1) === 0) return false
        this.dpos++
        if (!this.sizeByte(one[0])) return true
        const v = this.vVal
        if (ph === P_DF_SIZE) {
            if (v !== 0) throw new DeltaError("unsupported", "a data-format section")
            this.phase = P_DIFF_SIZE
        } else if (ph === P_DIFF_SIZE) {
            if (v < 0) throw new DeltaError("bad-size", `diff size ${v}`)
            if (this.toPos + v > this.toSize) throw new DeltaError("diff-too-long", `${v} diff bytes at ${this.toPos}`)
            if (v > 0 && (this.fromPos < 0 || this.fromPos + v > this.o.oldSize))
                throw new DeltaError("from-out-of-range", `${v} diff bytes from ${this.fromPos}`)
            this.startChunk(0, v)
            this.phase = v > 0 ? P_DIFF : P_EXTRA_SIZE
        } else if (ph === P_EXTRA_SIZE) {
            if (v < 0) throw new DeltaError("bad-size", `extra size ${v}`)
            if (this.toPos + v > this.toSize) throw new DeltaError("extra-too-long", `${v} extra bytes at ${this.toPos}`)
            this.startChunk(1, v)
            this.phase = v > 0 ? P_EXTRA : P_ADJUST
        } else {
            this.fromPos += v
            if (this.toPos === this.toSize) {
                // a back-reference still yielding is decompressed data after the end (the bits
                // left in the last byte, at most 7, cannot hold a whole item)
                if (this.dec && this.dec.state === HS_BACKREF && this.dec.count > 0)
                    throw new DeltaError("trailing-data", "decompressed bytes after the end of the patch")
                this.phase = P_END
                await this.flush()
            } else this.phase = P_DIFF_SIZE
        }
        await this.budget.spend(8)
        return true
    }

    /** The raw header: type and compression, to_size, heatshrink's parameters. */
    protected headerByte(): boolean {
        if (this.inPos >= this.inEnd) return false
        const b = this.inBuf[this.inPos++]
        const ph = this.phase
        if (ph === P_HEADER) {
            if (b & 0x80) throw new DeltaError("bad-header", `header byte ${b}`)
            const type = b >> 4
            const comp = b & 15
            if (type !== PATCH_TYPE_SEQUENTIAL || (comp !== COMPRESSION_NONE && comp !== COMPRESSION_HEATSHRINK))
                throw new DeltaError("unsupported", `header byte ${b}: only sequential patches (type 0), compression none (0) or heatshrink (4)`)
            this.header = b
            this.compression = comp
            this.phase = P_TO_SIZE
        } else if (ph === P_TO_SIZE) {
            if (!this.sizeByte(b)) return true
            const v = this.vVal
            if (v < 0) throw new DeltaError("bad-size", `target size ${v}`)
            if (v > this.o.maxSize) throw new DeltaError("too-large", `a target of ${v} bytes`)
            this.toSize = v
            if (v === 0) this.phase = P_END
            else this.phase = this.compression === COMPRESSION_HEATSHRINK ? P_HS_HEADER : P_DF_SIZE
        } else {
            const w = (b >> 4) + 4
            const l = (b & 15) + 3
            const maxW = this.o.maxWindowSz2 || 10
            if (w < HS_MIN_WINDOW || l < HS_MIN_LOOKAHEAD || l >= w) throw new DeltaError("bad-header", `heatshrink header ${b}`)
            if (w > maxW || w > HS_MAX_WINDOW) throw new DeltaError("unsupported", `a heatshrink window of 2^${w} bytes`)
            this.dec = new HeatshrinkDecoder(w, l)
            this.phase = P_DF_SIZE
        }
        return true
    }

    /** One byte of a size field; true when the field is complete (its value in vVal). */
    protected sizeByte(b: number): boolean {
        if (this.vBytes === 0) {
            this.vNeg = (b & 0x40) !== 0
            this.vVal = b & 0x3f
            this.vMul = 64
        } else {
            this.vVal += (b & 0x7f) * this.vMul
            this.vMul *= 128
        }
        this.vBytes++
        if (b & 0x80) {
            if (this.vBytes >= MAX_SIZE_BYTES) throw new DeltaError("bad-size", "a size field too long")
            return false
        }
        this.vBytes = 0
        if (this.vNeg) this.vVal = -this.vVal
        return true
    }

    /**
     * Diff or extra bytes: decoded straight into the output buffer, up to the next checkpoint;
     * below a replay's resume offset only decoded (into the buffer's start, as scratch).
     */
    protected async payload(): Promise<boolean> {
        const out = this.out
        const replay = this.toPos < this.skip
        const at = replay ? 0 : this.outFill
        let n = out.length - at
        if (n > this.left) n = this.left
        const stop = replay ? this.skip : this.nextCp
        if (stop - this.toPos < n) n = stop - this.toPos
        // decoded a slice at a time, each paid for (a 1 KB buffer of heatshrink literals in one
        // go panicked the VM); the old image is then read for the whole run at once
        let got = 0
        while (got < n) {
            const k = this.decode(out, at + got, n - got < DECODE_SLICE ? n - got : DECODE_SLICE)
            if (k === 0) break
            got += k
            await this.budget.spend(k)
        }
        n = got
        if (n === 0) return false
        if (this.phase === P_DIFF) {
            if (!replay) {
                const old = await this.o.readOld(this.fromPos, n)
                if (!old || old.length < n) throw new DeltaError("read-failed", `old bytes at ${this.fromPos}`)
                // Buffer stores wrap mod 256 in both runtimes: no mask needed.
                for (let i = 0; i < n; i++) out[at + i] += old[i]
            }
            this.fromPos += n
        }
        if (!replay) this.outFill = at + n
        this.toPos += n
        this.dpos += n
        this.left -= n
        if (this.left === 0) this.phase = this.phase === P_DIFF ? P_EXTRA_SIZE : P_ADJUST
        if (this.outFill === out.length) await this.flush()
        await this.budget.spend(n)
        return true
    }

    /** Decompressed bytes into out[off..off+max); how many (0: the input is used up). */
    protected decode(out: Buffer, off: number, max: number): number {
        const d = this.dec
        if (d) {
            d.inBuf = this.inBuf
            d.inPos = this.inPos
            d.inEnd = this.inEnd
            const n = d.poll(out, off, max)
            this.inPos = d.inPos
            d.inBuf = null
            return n
        }
        let n = this.inEnd - this.inPos
        if (n > max) n = max
        const inb = this.inBuf
        const p = this.inPos
        for (let i = 0; i < n; i++) out[off + i] = inb[p + i]
        this.inPos = p + n
        return n
    }

    protected async flush(): Promise<void> {
        if (this.outFill === 0) return
        const n = this.outFill
        this.outFill = 0
        await this.o.write(this.outAt, this.out, n)
        this.outAt += n
    }

    protected async tapNow(): Promise<void> {
        if (this.o.tap && this.inPos > this.tapFrom) await this.o.tap(this.inBuf, this.tapFrom, this.inPos)
        this.tapFrom = this.inPos
    }

    /** A diff (kind 0) or extra (1) chunk of `len` bytes starts at the stream's current offset. */
    protected startChunk(kind: number, len: number) {
        this.left = len
    }

    // ---- checkpoints ----

    protected async takeCheckpoint(): Promise<void> {
        await this.flush()
        await this.tapNow()
        const at = this.toPos
        this.nextCp = at + this.every
        // encoding a window by value and its CRC is up to ~60 K opcodes for a 1 KB window: start on a fresh slice
        await this.budget.spend(FORCE_YIELD)
        await this.o.onCheckpoint(this.checkpointState(), at)
    }

    /** The applier's state for a checkpoint: none here (a resume replays the patch: resumeAt); DeltaApplier's encodes it. */
    protected checkpointState(): Buffer {
        return null
    }
}

/**
 * The applier whose checkpoints carry its whole state (the format above), so that `resume` goes on
 * from the checkpoint's patch offset: what a device that cannot ask for the patch again needs.
 * A program that uses only SequentialApplier does not compile this class (4.4 KB of bytecode).
 */
export class DeltaApplier extends SequentialApplier {
    /** The last HIST chunks: kind u8 | stream offset u32 | length u32 | t u32 | f u32. */
    private hist: Buffer
    private histFirst: number
    private histN: number

    constructor(o: DeltaOptions) {
        super(o)
        this.hist = null
        this.histFirst = 0
        this.histN = 0
    }

    /** Target bytes produced and handed to `write` or buffered. */
    position(): number {
        return this.toPos
    }

    /** The target's size from the header, or -1 before it is read. */
    targetSize(): number {
        return this.phase > P_TO_SIZE ? this.toSize : -1
    }

    protected override checkpointState(): Buffer {
        return this.encodeCheckpoint()
    }

    // ---- chunk history (for checkpoints that carry the window by reference) ----

    protected override startChunk(kind: number, len: number) {
        this.left = len
        if (!this.hist && this.dec && this.o.readNew) this.hist = Buffer.alloc(HIST * SPAN)
        const h = this.hist
        if (!h || len === 0) return
        let slot: number
        if (this.histN < HIST) {
            slot = (this.histFirst + this.histN) % HIST
            this.histN++
        } else {
            slot = this.histFirst
            this.histFirst = (this.histFirst + 1) % HIST
        }
        const p = slot * SPAN
        h[p] = kind
        putU32(h, p + 1, this.dpos)
        putU32(h, p + 5, len)
        putU32(h, p + 9, this.toPos)
        putU32(h, p + 13, this.fromPos < 0 ? 0 : this.fromPos)
    }

    /** The history's spans that overlap the window [ws, dpos): indexes into the ring, oldest first. */
    private windowSpans(ws: number): number[] {
        const r: number[] = []
        const h = this.hist
        if (!h) return r
        for (let k = 0; k < this.histN; k++) {
            const p = ((this.histFirst + k) % HIST) * SPAN
            const s = getU32(h, p + 1)
            const e = s + getU32(h, p + 5)
            if (s < this.dpos && e > ws) r.push(p)
        }
        return r
    }

    private encodeCheckpoint(): Buffer {
        const d = this.dec
        let ws = 0
        let spans: number[] = []
        let covered = 0
        if (d) {
            ws = this.dpos - d.window.length
            if (ws < 0) ws = 0
            spans = this.windowSpans(ws)
            let refBytes = 0
            for (let k = 0; k < spans.length; k++) {
                const p = spans[k]
                const s = getU32(this.hist, p + 1)
                const e = s + getU32(this.hist, p + 5)
                covered += (e < this.dpos ? e : this.dpos) - (s > ws ? s : ws)
                refBytes += 1 + sizeLength(s) + sizeLength(e - s) + sizeLength(getU32(this.hist, p + 9)) + (this.hist[p] === 0 ? sizeLength(getU32(this.hist, p + 13)) : 0)
            }
            if (refBytes >= covered) {
                spans = []
                covered = 0
            }
        }
        const size = this.writeCheckpoint(null, ws, spans, covered)
        const cp = Buffer.alloc(size)
        this.writeCheckpoint(cp, ws, spans, covered)
        return cp
    }

    /** Writes the checkpoint into b (or only measures it when b is null); returns its size. */
    private writeCheckpoint(b: Buffer, ws: number, spans: number[], covered: number): number {
        let pos = 0
        const fields = [this.toSize, this.patchOffset(), this.toPos, this.fromPos, this.dpos, this.phase, this.left]
        const d = this.dec
        if (d) {
            fields.push(d.state)
            fields.push(d.acc)
            fields.push(d.nbits)
            fields.push(d.index)
            fields.push(d.count)
            fields.push(spans.length)
        }
        if (b) {
            b[0] = CP_FORMAT
            b[1] = this.header
        }
        pos = 2
        for (let k = 0; k < fields.length; k++) {
            if (k === 7 && d) {
                if (b) b[pos] = ((d.windowSz2 - 4) << 4) | (d.lookaheadSz2 - 3)
                pos++
            }
            pos = b ? encodeSize(fields[k], b, pos) : pos + sizeLength(fields[k])
        }
        if (d) {
            const h = this.hist
            for (let k = 0; k < spans.length; k++) {
                const p = spans[k]
                const kind = h[p]
                const vals = [getU32(h, p + 1), getU32(h, p + 5), getU32(h, p + 9)]
                if (kind === 0) vals.push(getU32(h, p + 13))
                if (b) b[pos] = kind
                pos++
                for (let j = 0; j < vals.length; j++) pos = b ? encodeSize(vals[j], b, pos) : pos + sizeLength(vals[j])
            }
            const lits = this.dpos - ws - covered
            if (b) {
                // the window bytes outside the listed spans, oldest first
                let q = pos
                let next = ws
                const win = d.window
                const mask = d.mask
                for (let k = 0; k <= spans.length; k++) {
                    let a = this.dpos
                    let e = this.dpos
                    if (k < spans.length) {
                        a = getU32(h, spans[k] + 1)
                        e = a + getU32(h, spans[k] + 5)
                        if (a < ws) a = ws
                        if (e > this.dpos) e = this.dpos
                    }
                    for (let x = next; x < a; x++) b[q++] = win[x & mask]
                    next = e
                }
            }
            pos += lits
        }
        if (b) putU32(b, pos, crc32Update(0, b, 0, pos))
        return pos + 4
    }

    /**
     * Restore the state a checkpoint saved, on a fresh applier made with the same options (the
     * same old image; `readNew` if the checkpoint refers to written bytes). Then feed the patch
     * from `patchOffset()`; the output goes on at `position()`.
     */
    async resume(cp: Buffer): Promise<void> {
        if (this.phase !== P_HEADER || this.inPos !== 0 || this.pbase !== 0) throw new DeltaError("closed", "resume needs a fresh applier")
        const bad = (why: string) => new DeltaError("bad-checkpoint", why)
        if (cp.length < 6 || cp[0] !== CP_FORMAT) throw bad("not a checkpoint")
        const n = cp.length - 4
        if (getU32(cp, n) !== crc32Update(0, cp, 0, n)) throw bad("CRC mismatch")
        await this.budget.spend(FORCE_YIELD)
        const hdr = cp[1]
        const comp = hdr & 15
        if (hdr & 0xf0 || (comp !== COMPRESSION_NONE && comp !== COMPRESSION_HEATSHRINK)) throw bad(`header byte ${hdr}`)
        const r: SizeRead = { value: 0, end: 2 }
        const next = () => {
            if (!decodeSize(cp, r.end, n, r)) throw bad("cut short")
            return r.value
        }
        const toSize = next()
        const patchOffset = next()
        const toPos = next()
        const fromPos = next()
        const dpos = next()
        const phase = next()
        const left = next()
        if (toSize <= 0 || toSize > this.o.maxSize || toPos < 0 || toPos > toSize || phase < P_DF_SIZE || phase >= P_END || left < 0 || toPos + left > toSize || patchOffset < 2 || dpos < 0)
            throw bad("fields out of range")
        this.header = hdr
        this.compression = comp
        this.toSize = toSize
        this.toPos = toPos
        this.outAt = toPos
        this.fromPos = fromPos
        this.dpos = dpos
        this.phase = phase
        this.left = left
        this.pbase = patchOffset
        this.nextCp = this.every ? toPos + this.every : NO_CP
        if (comp === COMPRESSION_HEATSHRINK) {
            if (r.end >= n) throw bad("cut short")
            const hs = cp[r.end]
            r.end++
            const w = (hs >> 4) + 4
            const l = (hs & 15) + 3
            if (l >= w || w > (this.o.maxWindowSz2 || 10)) throw bad(`heatshrink header ${hs}`)
            const d = new HeatshrinkDecoder(w, l)
            d.state = next()
            d.acc = next()
            d.nbits = next()
            d.index = next()
            d.count = next()
            const ns = next()
            if (d.state < 0 || d.state > HS_BACKREF || d.nbits < 0 || d.nbits > 7 || d.acc < 0 || d.acc >= 1 << d.nbits || d.index < 0 || d.index > 1 << w || d.count < 0 || d.count > 1 << l || ns < 0 || ns > HIST)
                throw bad("decoder fields out of range")
            d.head = dpos & d.mask
            this.dec = d
            if (this.o.readNew) this.hist = Buffer.alloc(HIST * SPAN)
            await this.rebuildWindow(cp, r, n, ns)
        } else if (r.end !== n) throw bad("trailing bytes")
    }

    /** The window from the checkpoint's spans (read back from flash) and its literal bytes. */
    private async rebuildWindow(cp: Buffer, r: SizeRead, n: number, ns: number): Promise<void> {
        const bad = (why: string) => new DeltaError("bad-checkpoint", why)
        const d = this.dec
        const win = d.window
        const mask = d.mask
        const dpos = this.dpos
        let ws = dpos - win.length
        if (ws < 0) ws = 0
        if (ns > 0 && !this.o.readNew) throw bad("the window refers to written bytes and there is no readNew")
        const spans: number[] = []
        for (let k = 0; k < ns; k++) {
            if (r.end >= n) throw bad("cut short")
            const kind = cp[r.end]
            r.end++
            if (!decodeSize(cp, r.end, n, r)) throw bad("cut short")
            const s = r.value
            if (!decodeSize(cp, r.end, n, r)) throw bad("cut short")
            const len = r.value
            if (!decodeSize(cp, r.end, n, r)) throw bad("cut short")
            const t = r.value
            let f = 0
            if (kind === 0) {
                if (!decodeSize(cp, r.end, n, r)) throw bad("cut short")
                f = r.value
            }
            const prevEnd = spans.length ? spans[spans.length - 1] : 0
            const made = dpos - s < len ? dpos - s : len
            if (kind > 1 || len <= 0 || s < 0 || t < 0 || f < 0 || s >= dpos || s + len <= ws || s < prevEnd || t + made > this.toPos || (kind === 0 && f + len > this.o.oldSize))
                throw bad("span out of range")
            spans.push(s)
            spans.push(s + len)
            if (this.hist) {
                const p = k * SPAN
                this.hist[p] = kind
                putU32(this.hist, p + 1, s)
                putU32(this.hist, p + 5, len)
                putU32(this.hist, p + 9, t)
                putU32(this.hist, p + 13, f)
            }
        }
        this.histFirst = 0
        this.histN = ns
        let lit = r.end
        let next = ws
        for (let k = 0; k <= ns; k++) {
            let a = dpos
            let e = dpos
            if (k < ns) {
                a = spans[2 * k] < ws ? ws : spans[2 * k]
                e = spans[2 * k + 1] > dpos ? dpos : spans[2 * k + 1]
            }
            if (lit + (a - next) > n) throw bad("cut short")
            for (let x = next; x < a; x++) win[x & mask] = cp[lit++]
            if (k < ns) await this.regenerate(k, a, e)
            next = e
        }
        if (lit !== n) throw bad("trailing bytes")
    }

    /** Stream bytes [a, e) of history span k, recomputed from the target (and old) image. */
    private async regenerate(k: number, a: number, e: number): Promise<void> {
        const h = this.hist
        const p = k * SPAN
        const kind = h[p]
        const delta = a - getU32(h, p + 1)
        let t = getU32(h, p + 9) + delta
        let f = getU32(h, p + 13) + delta
        const win = this.dec.window
        const mask = this.dec.mask
        const step = this.out.length
        let x = a
        while (x < e) {
            let m = e - x
            if (m > step) m = step
            const nw = await this.o.readNew(t, m)
            if (!nw || nw.length < m) throw new DeltaError("read-failed", `${nw ? nw.length : 0} of ${m} written bytes at ${t}`)
            if (kind === 0) {
                const old = await this.o.readOld(f, m)
                if (!old || old.length < m) throw new DeltaError("read-failed", `${old ? old.length : 0} of ${m} old bytes at ${f}`)
                for (let i = 0; i < m; i++) win[(x + i) & mask] = nw[i] - old[i]
            } else for (let i = 0; i < m; i++) win[(x + i) & mask] = nw[i]
            x += m
            t += m
            f += m
            await this.budget.spend(m)
        }
    }
}
