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
// Push API: `feed(chunk, start, end)` takes patch bytes as they arrive, in pieces of any size (one byte, a
// 1 KB block, the whole patch), and consumes every byte before it returns; `finish()` says the
// patch ended and checks that it was whole. The old image is read through `store.readImage(false,
// …)` (the running slot), the target written through `store.writeImage` (the receiving slot), in
// order, once each.
//
// Memory, allocated once: the output buffer (bufferSize, 256), the heatshrink window (2^W:
// 256 bytes for detools' default W = 8; at most 2^maxWindowSz2), and with
// a window by reference (not byValue) a 136-byte history of the last 8 chunks; plus what readImage returns per call (≤
// bufferSize bytes) and each checkpoint's bytes.
//
// One class, DeltaApplier (the SOTA agent's, src/sota/rebuild.ts): its checkpoints carry its whole
// state (below) and `resume(cp)` goes on from the checkpoint's patch offset. (Until Dec 7 the
// agent ran a SequentialApplier whose checkpoints carried nothing and whose resume replayed the
// patch from its start, for want of bytecode; the compact format below made room for this one.)
// It decodes at most 256 bytes between two payments to the opcode budget, whatever bufferSize
// (1 KB of heatshrink literals in one go panicked the VM).
//
// Checkpoints: with `checkpointEvery` (a sector) and `onCheckpoint`, every time the output
// reaches a multiple of it (not the end), the output is written up to there, the consumed patch
// bytes are tapped, and `onCheckpoint(cp, at)` gets the applier's whole state as a small Buffer
// (checkpoint format below). After a power cut, `resume(cp)` on a fresh applier restores it:
// the caller then feeds the patch again from `patchOffset()` and the output goes on at `at`, so
// at most the bytes since that checkpoint are redone. The state is exact there because the
// decoder stops the moment it has produced what was asked for, and a checkpoint is taken before
// any byte after the boundary is decoded.
//
// The heatshrink window on resume. The window is the last 2^W bytes of the decompressed stream,
// which a back-reference may read at any time, so a resume needs it exactly. Restarting the
// decompressor from a known point is not possible: detools' stream is one heatshrink stream from
// start to end, with no flush points. So the checkpoint carries the window, each part of it in
// the smaller of two forms:
//   - by value: the bytes themselves;
//   - by reference: the decompressed stream is almost all diff and extra bytes, and those are
//     functions of bytes already on flash: a diff byte at target t from old f is new[t] − old[f],
//     an extra byte is new[t]. The applier keeps the last 8 chunks' (kind, stream offset, length,
//     t, f); a checkpoint lists those that cover more than 17 bytes of the window (a listed span
//     costs 17) and carries the rest by value (the size fields, a few bytes; short chunks;
//     anything older than the history). `resume` reads the listed ranges back (readImage on the
//     receiving slot, and on the old image) and rebuilds the window. The bytes read back lie before the
//     checkpoint, which the store wrote before it saved the checkpoint; if flash changed them
//     since, the rebuilt image fails its SHA-256 check, never silently.
// With byValue the window goes by value: 2^W + 44 bytes (300 for W = 8). The agent's journal
// holds 200 bytes of midstate, 137 of them for this (rebuild.ts): a checkpoint that does not fit
// is not saved and the one before stays in force. Measured at 4 KB checkpoints: 61 bytes each (one
// span) for the simulator's firmware 1_0_0 → 2_0_0, delta and compressed (20 of 20 fit); 61–82
// for a 25-edit delta of a 40 KB image (9 of 9); 61–219 for a 600-edit one (8 of 10 fit: its
// windows hold many short chunks).
//
// Cost, measured in the VM (devs run --test, GC stress on; bench/delta.ts): 4.0–7.6 ms per KB
// of target for real firmware patches and a compressed full image, ×12–22 the 115 200-baud line
// rate for the target's bytes; the apply adds 2–2.5 KB of heap (objects, buffers, the 256-byte
// window, frames, its classes' prototypes, what readImage returns, each checkpoint).
//
// Checkpoint format (fixed width, little-endian; no detools size fields: their coder cost bytecode):
//   0   0xD2 | patch header byte | heatshrink header byte (0 without) | spans n
//   4   phase | decoder state | acc | nbits
//   8   u32: to_size, patch offset, t, f (signed), stream offset, left, decoder index, count
//   40  n × (a span: kind 0 diff / 1 extra u8 | stream offset | length | t | f, u32 each; then
//       the window bytes before it that no span covers), then the window bytes after the last
//       span; the window oldest first
//   end CRC-32 of all of the above. The fields are not range-checked one by one on resume: the
//       CRC (and the journal record's) is the check; a wrong state ends in a bad patch or a
//       rebuilt image that fails its SHA-256, never silently.

import { crc32Update } from "../lib/crc32"
import { copyBytes, getU32, putU32 } from "../lib/bytes"
import { StepBudget, Yielder } from "../lib/step-budget"
import { DeltaError } from "./errors"
import { HeatshrinkDecoder, HS_BACKREF, HS_MAX_WINDOW } from "./heatshrink-decoder"
import { MAX_SIZE_BYTES } from "./size"

export const PATCH_TYPE_SEQUENTIAL = 0
export const COMPRESSION_NONE = 0
export const COMPRESSION_HEATSHRINK = 4

// Phases: the raw header, then the decompressed stream.
// (their order is used: a chunk's size, its bytes, then the next phase: step's ph + 1 / ph + 2, payload's phase++)
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

const CP_FORMAT = 0xd2
/** The checkpoint's fixed part: 8 bytes, 8 u32 fields. */
const CP_FIXED = 40
/** Work units that make the budget yield at once. */
const FORCE_YIELD = 1 << 30
/** nextCp when checkpoints are off: never reached. */
const NO_CP = 1e15
const HIST = 8
/** Decompressed bytes between two budget payments: the output buffer may be larger (bufferSize). */
const DECODE_SLICE = 256
const SPAN = 17

/**
 * The images the applier reads and writes: the store's port as it is (UpgradeStore's readImage and
 * writeImage), so the agent passes its store without adapter methods (each costs bytecode).
 */
export interface DeltaImages {
    /**
     * Exactly `len` bytes at `offset` of the old image (`receiving` false; never outside [0,
     * oldSize)) or of the target already written (`receiving` true: a resume rebuilding the window
     * by reference). A shorter Buffer is refused (read-failed); a failure is thrown, not returned.
     */
    readImage(receiving: boolean, offset: number, len: number): Promise<Buffer>
    /**
     * The target's bytes data[0..len) at `offset`, in order and each once (after a resume, again
     * from the checkpoint's offset). `data` is the applier's buffer: copy what you keep.
     */
    writeImage?(offset: number, data: Buffer, len: number): Promise<void>
}

export interface DeltaOptions {
    /** The old image (read), the target (written, and read back by a resume unless byValue). */
    store: DeltaImages
    /** Size of the old image: a diff outside it is refused (from-out-of-range). */
    oldSize: number
    /** Largest target accepted (the receiving slot): a bigger to_size is refused (too-large) before any write. */
    maxSize: number
    /** Output bytes between checkpoints (a flash sector, e.g. 4096), each to onCheckpoint (then required); 0 or absent: none. */
    checkpointEvery?: number
    /**
     * A checkpoint at output offset `at` (every byte before it written, every patch byte consumed
     * tapped): save it with the journal. `cp` is the applier's state.
     */
    onCheckpoint?(cp: Buffer, at: number): Promise<void>
    /** Checkpoints carry the window by value only, never reading back the target (store.readImage(true, …)). */
    byValue?: boolean
    /**
     * Patch bytes data[start..end) as they are consumed, in order and each once: before every
     * checkpoint and at the end of every feed, so a digest of the patch fed from here is exactly
     * at the checkpoint's patch offset when `onCheckpoint` runs.
     */
    digests?: { update(data: Buffer, start: number, end: number): Promise<void> }
    /** Largest heatshrink window accepted, as its exponent (default 10, 1 KB of RAM). */
    maxWindowSz2?: number
    /** Output buffer size (default 256); also the largest readImage and writeImage. */
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

export class DeltaApplier {
    // The state's fields are not `private`: the steps below, module functions, read and write them.
    o: DeltaOptions
    phase: number
    header: number
    toSize: number
    dec: HeatshrinkDecoder
    out: Buffer
    outFill: number
    outAt: number
    /** Target and old offsets of the next byte; stream offset (decompressed bytes so far); bytes left in the chunk. */
    toPos: number
    fromPos: number
    dpos: number
    left: number
    /** A size field being read: value so far, multiplier of the next group, sign, bytes read. */
    vVal: number
    vMul: number
    vNeg: boolean
    vBytes: number
    nextCp: number
    budget: StepBudget
    inBuf: Buffer
    inPos: number
    inEnd: number
    tapFrom: number
    /** Patch offset of inBuf[0] (may be negative when a feed starts inside its buffer). */
    pbase: number
    failed: DeltaError
    /** The last HIST chunks, chunk k in slot k % HIST: kind u8 | stream offset u32 | length u32 | t u32 | f u32 (hist starts undefined). */
    hist: Buffer
    /** Chunks started so far (by reference and with heatshrink). */
    histN: number

    // Fields a step always sets before it reads them (header, toSize, dec, left, the
    // size field's vVal, vMul and vNeg, the input's inBuf, inEnd and tapFrom, failed) start
    // undefined: every initialisation is bytecode, every field heap, and the simulator's firmware
    // is at the VM's limit of function bytecode (docs/ARCHITECTURE.md, "Delta packages").
    constructor(o: DeltaOptions) {
        this.o = o
        this.phase = P_HEADER
        this.out = Buffer.alloc(o.bufferSize || 256)
        this.outFill = 0
        this.toPos = 0
        this.fromPos = 0
        this.dpos = 0
        this.vBytes = 0
        this.outAt = 0
        this.nextCp = o.checkpointEvery || NO_CP
        this.budget = new StepBudget(o.yieldEvery || 128, o.yielder)
        this.inPos = 0
        this.pbase = 0
        this.histN = 0
    }

    /** Patch bytes consumed so far: where to feed from after `resume`. */
    patchOffset(): number {
        return this.pbase + this.inPos
    }

    /** Take patch bytes chunk[start..end). Throws DeltaError on a bad patch (and for good: every later call throws it again). */
    async feed(chunk: Buffer, start: number, end: number): Promise<void> {
        if (this.failed) throw this.failed
        this.pbase = this.pbase + this.inPos - start
        this.inBuf = chunk
        this.inPos = start
        this.inEnd = end
        this.tapFrom = start
        try {
            while (await step(this)) {}
            await tapNow(this)
        } catch (err) {
            if (err instanceof DeltaError) this.failed = err
            throw err
        }
        // the input is used up (inPos === inEnd): pbase + inPos stays the patch offset until the
        // next feed rebases it; the chunk is not kept
        this.inBuf = null
    }

    /** The patch has ended: checks that it was whole and everything is written; returns the target's size. */
    async finish(): Promise<number> {
        if (this.failed) throw this.failed
        if (this.phase !== P_END) {
            this.failed = new DeltaError("truncated", `the patch ended with ${this.toPos} target bytes out`)
            throw this.failed
        }
        await flush(this)
        // every later call throws this (one sticky error instead of a flag checked apart)
        this.failed = new DeltaError("closed", "the apply has finished")
        return this.toSize
    }

    /**
     * Restore the state a checkpoint saved, on a fresh applier made with the same options (the
     * same old image; not byValue if the checkpoint refers to written bytes). Then feed the patch
     * from `patchOffset()`; the output goes on at the checkpoint's offset. The checkpoint is
     * trusted as far as its CRC and its layout: its fields are not range-checked one by one (a
     * wrong state ends in a bad patch or a rebuilt image that fails its SHA-256, never silently).
     */
    async resume(cp: Buffer): Promise<void> {
        // both are >= 0: their sum is 0 only when both are
        if (this.phase + this.patchOffset() !== 0) throw new DeltaError("closed", "resume needs a fresh applier")
        const n = cp.length - 4
        if (n < CP_FIXED || cp[0] !== CP_FORMAT || getU32(cp, n) !== crc32Update(0, cp, 0, n)) throw new DeltaError("bad-checkpoint", "not a checkpoint, or its CRC fails")
        await this.budget.spend(FORCE_YIELD)
        this.header = cp[1]
        this.toSize = getU32(cp, 8)
        this.pbase = getU32(cp, 12)
        const at = getU32(cp, 16)
        this.toPos = at
        this.outAt = at
        this.fromPos = getU32(cp, 20) | 0 // f may be negative between chunks (x | 0 wraps to int32 in the VM too: checked)
        const dpos = getU32(cp, 24)
        this.dpos = dpos
        this.left = getU32(cp, 28)
        this.phase = cp[4]
        this.nextCp = at + (this.o.checkpointEvery || NO_CP)
        const ns = cp[3]
        let q = CP_FIXED
        if ((cp[1] & 15) === COMPRESSION_HEATSHRINK) {
            const d = new HeatshrinkDecoder((cp[2] >> 4) + 4, (cp[2] & 15) + 3)
            d.state = cp[5]
            d.acc = cp[6]
            d.nbits = cp[7]
            d.index = getU32(cp, 32)
            d.count = getU32(cp, 36)
            d.head = dpos & d.mask
            this.dec = d
            if (!this.o.byValue) this.hist = Buffer.alloc(HIST * SPAN)
            if (ns > 0) if (ns > HIST || !this.hist) throw new DeltaError("bad-checkpoint", "the window refers to written bytes and the applier is byValue")
            let ws = dpos - d.window.length
            if (ws < 0) ws = 0
            q = await window(this, cp, null, ns, ws)
            this.histN = ns
        }
        if (q !== n) throw new DeltaError("bad-checkpoint", "its length")
    }
}

// ---- the state machine ----
// The applier's steps are module functions taking it, not private methods: a method costs a
// prototype-table entry (13–15 B) in the image, a function does not. `a.f = a.f + n`, never
// `a.f += n` or `a.f++`: on a parameter the compound form first copies it to a local (4 B).

/**
 * One bounded piece of work; false when it needs more input. The raw header, a checkpoint, a
 * payload (diff or extra bytes), a size field's bytes and what each size means, a chunk's start
 * are written out here rather than as functions of their own: each has this one caller, and a
 * function costs a 16 B descriptor and its call (measured: each one written in saved 28 B).
 * Fields read more than once are read once into locals (a field read is ~4 B more than a local's).
 */
async function step(a: DeltaApplier): Promise<boolean> {
    const ph = a.phase
    // the target offset (step changes it only at the end of a payload)
    const t = a.toPos
    if (ph === P_END) {
        if (a.inPos < a.inEnd) throw new DeltaError("trailing-data", "bytes after the end of the patch")
        return false
    }
    let b: number
    if (ph < P_DF_SIZE) {
        // the raw header: type and compression, to_size, heatshrink's parameters
        const i = a.inPos
        if (i >= a.inEnd) return false
        a.inPos = i + 1
        b = a.inBuf[i]
        if (ph === P_HEADER) {
            if (b & 0x80) throw new DeltaError("bad-header", `header byte ${b}`)
            // type (bits 6..4) 0 and compression (bits 3..0) 0 or 4: no bit of 0x7B set
            if (b & 0x7b) throw new DeltaError("unsupported", `header byte ${b}: only sequential patches (type 0), compression none (0) or heatshrink (4)`)
            a.header = b
            a.phase = P_TO_SIZE
            return true
        }
        if (ph === P_HS_HEADER) {
            // w >= 4 (HS_MIN_WINDOW) and l >= 3 (HS_MIN_LOOKAHEAD) by construction
            const w = (b >> 4) + 4
            const l = (b & 15) + 3
            const maxW = a.o.maxWindowSz2 || 10
            if (l >= w) throw new DeltaError("bad-header", `heatshrink header ${b}`)
            if (w > maxW || w > HS_MAX_WINDOW) throw new DeltaError("unsupported", `a heatshrink window of 2^${w} bytes`)
            a.dec = new HeatshrinkDecoder(w, l)
            if (!a.o.byValue) a.hist = Buffer.alloc(HIST * SPAN)
            a.phase = P_DF_SIZE
            return true
        }
    } else {
        if (t === a.nextCp)
            if (t < a.toSize) {
                // a checkpoint at the output's current offset: everything before it written, the
                // consumed patch bytes tapped, then the applier's whole state (the format in this
                // file's header) to onCheckpoint
                await flush(a)
                await tapNow(a)
                a.nextCp = t + a.o.checkpointEvery
                // encoding a window by value and its CRC is up to ~60 K opcodes for a 1 KB window: start on a fresh slice
                await a.budget.spend(FORCE_YIELD)
                const d = a.dec
                const h = a.hist
                const dpos = a.dpos
                // the window: stream bytes [ws, dpos); none without heatshrink
                let ws = dpos
                const spans: number[] = []
                let covered = 0
                if (d) {
                    ws = dpos - d.window.length
                    if (ws < 0) ws = 0
                    // the history's last HIST chunks (none when byValue)
                    let k = a.histN - HIST
                    if (k < 0) k = 0
                    if (h)
                        for (; k < a.histN; k++) {
                            const p = (k % HIST) * SPAN
                            const s = getU32(h, p + 1)
                            const e = s + getU32(h, p + 5)
                            // by reference only where that is smaller than the bytes themselves
                            const c = (e < dpos ? e : dpos) - (s > ws ? s : ws)
                            if (c > SPAN) {
                                spans.push(p)
                                covered += c
                            }
                        }
                }
                const n = spans.length
                const cp = Buffer.alloc(CP_FIXED + n * SPAN + dpos - ws - covered + 4)
                cp[0] = CP_FORMAT
                cp[1] = a.header
                cp[3] = n
                cp[4] = ph
                if (d) {
                    cp[2] = ((d.windowSz2 - 4) << 4) | (d.lookaheadSz2 - 3)
                    cp[5] = d.state
                    cp[6] = d.acc
                    cp[7] = d.nbits
                    putU32(cp, 32, d.index)
                    putU32(cp, 36, d.count)
                }
                putU32(cp, 8, a.toSize)
                putU32(cp, 12, a.pbase + a.inPos)
                putU32(cp, 16, t)
                putU32(cp, 20, a.fromPos)
                putU32(cp, 24, dpos)
                putU32(cp, 28, a.left)
                const q = d ? await window(a, cp, spans, n, ws) : CP_FIXED
                putU32(cp, q, crc32Update(0, cp, 0, q))
                await a.o.onCheckpoint(cp, t)
                return true
            }
        const out = a.out
        const at = a.outFill
        if ((ph | 2) === P_EXTRA) {
            // P_DIFF or P_EXTRA (ph is 3..8 here): diff or extra bytes, decoded straight into
            // the output buffer, up to the next checkpoint
            let n = out.length - at
            if (n > a.left) n = a.left
            if (a.nextCp - t < n) n = a.nextCp - t
            // decoded a slice at a time, each paid for (a 1 KB buffer of heatshrink literals in one
            // go panicked the VM); the old image is then read for the whole run at once
            let got = 0
            while (got < n) {
                const k = decode(a, out, at + got, n - got < DECODE_SLICE ? n - got : DECODE_SLICE)
                if (k === 0) break
                got += k
                await a.budget.spend(k)
            }
            n = got
            if (n === 0) return false
            if (ph === P_DIFF) {
                const old = await a.o.store.readImage(false, a.fromPos, n)
                if (old.length < n) throw new DeltaError("read-failed", "old bytes cut short")
                // Buffer stores wrap mod 256 in both runtimes: no mask needed.
                for (let i = 0; i < n; i++) {
                    const x = at + i
                    out[x] = out[x] + old[i]
                }
                a.fromPos = a.fromPos + n
            }
            a.outFill = at + n
            a.toPos = t + n
            a.dpos = a.dpos + n
            const left = a.left - n
            a.left = left
            // the chunk's end: a diff's is the extra size, an extra's the adjustment (the next phases)
            if (left === 0) a.phase = ph + 1
            if (at + n === out.length) await flush(a)
            await a.budget.spend(n)
            return true
        }
        // a size field's byte, decoded into the output buffer's free space (never full between steps)
        if (decode(a, out, at, 1) === 0) return false
        a.dpos = a.dpos + 1
        b = out[at]
    }
    // a byte of a size field (to_size, or one in the stream); its value in vVal when complete
    if (a.vBytes === 0) {
        a.vNeg = (b & 0x40) !== 0
        a.vVal = b & 0x3f
        a.vMul = 64
    } else {
        a.vVal = a.vVal + (b & 0x7f) * a.vMul
        a.vMul = a.vMul * 128
    }
    a.vBytes = a.vBytes + 1
    if (b & 0x80) {
        if (a.vBytes >= MAX_SIZE_BYTES) throw new DeltaError("bad-size", "a size field too long")
        return true
    }
    a.vBytes = 0
    if (a.vNeg) a.vVal = -a.vVal
    const v = a.vVal
    const f = a.fromPos
    if (ph === P_TO_SIZE) {
        if (v < 0) throw new DeltaError("bad-size", "a negative target size")
        if (v > a.o.maxSize) throw new DeltaError("too-large", `a target of ${v} bytes`)
        a.toSize = v
        // the header's compression is 0 or 4 (checked): heatshrink's header next, or the data-format size
        if (v === 0) a.phase = P_END
        else a.phase = P_DF_SIZE - (a.header >> 2)
        return true
    }
    if (ph === P_DF_SIZE) {
        if (v !== 0) throw new DeltaError("unsupported", "a data-format section")
        a.phase = P_DIFF_SIZE
    } else if (ph !== P_ADJUST) {
        // a diff or an extra chunk's size; the phase after it: its bytes, or the next size
        const diff = ph === P_DIFF_SIZE
        if (v < 0) throw new DeltaError("bad-size", "a negative chunk size")
        if (t + v > a.toSize) throw new DeltaError(diff ? "diff-too-long" : "extra-too-long", `${v} bytes at ${t}`)
        if (diff)
            if (v > 0)
                if (f < 0 || f + v > a.o.oldSize) throw new DeltaError("from-out-of-range", `${v} diff bytes from ${f}`)
        // the chunk starts at the stream's current offset: kept in the history (kind 0 diff,
        // 1 extra: (ph - P_DIFF_SIZE) >> 1), for checkpoints that carry the window by reference
        a.left = v
        const h = a.hist
        if (h)
            if (v > 0) {
                const k = a.histN
                a.histN = k + 1
                const p = (k % HIST) * SPAN
                h[p] = (ph - P_DIFF_SIZE) >> 1
                putU32(h, p + 1, a.dpos)
                putU32(h, p + 5, v)
                putU32(h, p + 9, t)
                putU32(h, p + 13, f < 0 ? 0 : f)
            }
        a.phase = v > 0 ? ph + 1 : ph + 2
    } else {
        a.fromPos = f + v
        if (t === a.toSize) {
            // a back-reference still yielding is decompressed data after the end (the bits
            // left in the last byte, at most 7, cannot hold a whole item)
            const d = a.dec
            if (d)
                if (d.state === HS_BACKREF)
                    if (d.count > 0) throw new DeltaError("trailing-data", "decompressed bytes after the end of the patch")
            a.phase = P_END
            await flush(a)
        } else a.phase = P_DIFF_SIZE
    }
    await a.budget.spend(8)
    return true
}

/** Decompressed bytes into out[off..off+max); how many (0: the input is used up). */
function decode(a: DeltaApplier, out: Buffer, off: number, max: number): number {
    const d = a.dec
    if (d) {
        const n = d.poll(out, off, max, a.inBuf, a.inPos, a.inEnd)
        a.inPos = d.inPos
        return n
    }
    const i = a.inPos
    let n = a.inEnd - i
    if (n > max) n = max
    copyBytes(out, off, a.inBuf, i, i + n)
    a.inPos = i + n
    return n
}

async function flush(a: DeltaApplier): Promise<void> {
    const n = a.outFill
    if (n === 0) return
    a.outFill = 0
    await a.o.store.writeImage(a.outAt, a.out, n)
    a.outAt = a.outAt + n
}

async function tapNow(a: DeltaApplier): Promise<void> {
    const g = a.o.digests
    const i = a.inPos
    const f = a.tapFrom
    if (g) if (i > f) await g.update(a.inBuf, f, i)
    a.tapFrom = i
}

// ---- checkpoints ----

/**
 * The window's part of a checkpoint, both ways (one walk instead of one each): each span (a
 * history record, 17 bytes), then the window bytes before it that no span covers; then the
 * bytes after the last span; the window is stream bytes [ws, dpos), oldest first. Saving
 * (`spans` given), the n spans are the history's records at `spans`; resuming (`spans` null),
 * the n records are read into the history's first slots and their window bytes recomputed
 * from the target (and old) image. Returns the checkpoint offset after the window.
 */
async function window(ap: DeltaApplier, cp: Buffer, spans: number[], n: number, ws: number): Promise<number> {
    const h = ap.hist
    const d = ap.dec
    const win = d.window
    const mask = d.mask
    const dpos = ap.dpos
    const save = spans !== null
    let q = CP_FIXED
    let next = ws
    for (let k = 0; k <= n; k++) {
        const p = save ? spans[k] : k * SPAN
        let a = dpos
        let e = dpos
        if (k < n) {
            if (save) copyBytes(cp, q, h, p, p + SPAN)
            else copyBytes(h, p, cp, q, q + SPAN)
            q += SPAN
            a = getU32(h, p + 1)
            e = a + getU32(h, p + 5)
            if (a < ws) a = ws
            if (e > dpos) e = dpos
        }
        if (q + a - next > cp.length - 4) throw new DeltaError("bad-checkpoint", "cut short")
        for (let x = next; x < a; x++) {
            if (save) cp[q++] = win[x & mask]
            else win[x & mask] = cp[q++]
        }
        next = e
        if (save) continue
        if (k === n) continue
        // resuming: the span's window bytes [a, e), recomputed from the images
        const delta = a - getU32(h, p + 1)
        let t = getU32(h, p + 9) + delta
        let from = getU32(h, p + 13) + delta
        while (a < e) {
            let m = e - a
            if (m > ap.out.length) m = ap.out.length
            const nw = await ap.o.store.readImage(true, t, m)
            const old = h[p] === 0 ? await ap.o.store.readImage(false, from, m) : null
            if (nw.length < m) throw new DeltaError("read-failed", "window bytes cut short")
            if (old) if (old.length < m) throw new DeltaError("read-failed", "window bytes cut short")
            for (let i = 0; i < m; i++) win[(a + i) & mask] = old ? nw[i] - old[i] : nw[i]
            a += m
            t += m
            from += m
            await ap.budget.spend(m)
        }
    }
    return q
}

