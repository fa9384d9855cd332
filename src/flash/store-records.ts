// The image store's two record bodies, as they go into the metadata log (meta-log.ts).
//
// STATE (type 1), a full snapshot, written on every slot state change:
//   0 active u8 (0xFF: none) | 1 format 1 | 2 security counter u16 | 4 session u32
//   8 slot 0 | slot 1 | progress
//   format 2, only while the counter is above 65 535: the counter's high u16 follows the session
//   (8 counter >> 16 u16 | 10 slot 0 | …), so bytes 0-7 mean the same in both formats.
//   slot: state u8 | bootsLeft u8 | flags u8 | verLen u8 | version[verLen]
//         | size u32 | crc32 u32 | shaLen u8 | sha256[shaLen] | md5Len u8 | md5[md5Len]
//   progress: written u32 | verified u32 | midLen u8 | midstate[midLen]
// PROGRESS (type 2), a download-journal delta, valid only when newer than the newest STATE and
// for the same receive session:
//   0 session u32 | 4 written u32 | 8 verified u32 | 12 midLen u8 | 13 midstate[midLen]
// OUTCOME (type 3), how the last upgrade attempt of this store's component ended, one per store:
//   0 flags u8 (bit 0: reported to the platform) | 1 the agent's outcome bytes (src/sota/outcome.ts's
//   encodeOutcome; opaque here, at most MAX_OUTCOME). Not part of the state: the boot decision and
//   the C boot stage skip it (a type they do not fold); the store writes it again after the STATE
//   that opens a sector, so a wrap's erase never takes the only copy.
// Digests are stored as bytes (16 for MD5, 32 for SHA-256, or none) and exposed as hex.
// Slot flags: bit 0 crc32 known | bits 1-5 why a bad slot is bad (BadWhy, store-port.ts) | bit 6
// that failure is not reported yet. Records older than the why bits read as why 0. The security
// counter (the highest SEC_CNT of a confirmed image, a u32 as MCUboot's TLV) took the reserved u16:
// older records wrote 0 there, so they read as counter 0. Its high half needs format 2, written
// only once a counter above 65 535 is confirmed: until then every record is format 1, byte for
// byte what the 16-bit builds wrote, so a rolled-back older build still reads the log (it skips a
// format 2 STATE, stateReadable, and such a counter refuses that build's images anyway).

import { getU32, putU32, toHex } from "../lib/bytes"
import { LogRecord, seqNewer } from "./meta-log"
import { DownloadJournal } from "./store-port"

export const REC_STATE = 1
export const REC_PROGRESS = 2
export const REC_OUTCOME = 3
/** Longest outcome body the store keeps (the agent's record is at most 105 bytes). */
export const MAX_OUTCOME = 128

export type SlotState = "empty" | "receiving" | "ready" | "trial" | "confirmed" | "bad"

const STATES: SlotState[] = ["empty", "receiving", "ready", "trial", "confirmed", "bad"]

export const MAX_VERSION = 32
export const MAX_MIDSTATE = 200

export interface SlotInfo {
    state: SlotState
    /** Boots a trial slot may still start before it is rolled back. */
    bootsLeft: number
    version: string
    size: number
    /** CRC-32 of the image: expected (while receiving, if known) or measured (from ready on). */
    crc32: number
    crcKnown: boolean
    /** Expected digests as bytes (32 and 16), empty when not given. */
    sha256: Buffer
    md5: Buffer
    /** Why the slot is bad (BadWhy; 0 otherwise): the last outcome, kept until the slot is reused. */
    why: number
    /** The failure has not been reported to the platform yet. */
    unreported: boolean
}

/** Download-journal progress (the plan itself is the receiving slot's version, size and digests). */
export interface Progress {
    written: number
    verified: number
    /** Opaque digest midstate of the SOTA engine, ≤ MAX_MIDSTATE bytes. */
    midstate: Buffer
}

export interface StoreState {
    /** Slot the boot decision starts from; -1 before the first image. */
    active: number
    /** Incremented by every start of a receive; binds journal deltas to their download. */
    session: number
    /** The security counter: images below it are refused; raised only by a confirm. */
    counter: number
    slots: SlotInfo[]
    progress: Progress
}

export function emptySlot(): SlotInfo {
    return {
        state: "empty",
        bootsLeft: 0,
        version: "",
        size: 0,
        crc32: 0,
        crcKnown: false,
        sha256: Buffer.alloc(0),
        md5: Buffer.alloc(0),
        why: 0,
        unreported: false,
    }
}

export function emptyProgress(): Progress {
    return { written: 0, verified: 0, midstate: Buffer.alloc(0) }
}

export function initialState(): StoreState {
    return { active: -1, session: 0, counter: 0, slots: [emptySlot(), emptySlot()], progress: emptyProgress() }
}

/**
 * A copy of the state whose slots and progress can be changed without touching `st` (digest and
 * midstate Buffers are shared: nothing changes them in place). Object.assign is native in the VM:
 * field-by-field literals cost ~300 B of bytecode.
 */
export function cloneState(st: StoreState): StoreState {
    const c: StoreState = Object.assign({}, st)
    c.slots = [Object.assign({}, st.slots[0]), Object.assign({}, st.slots[1])]
    c.progress = Object.assign({}, st.progress)
    return c
}

/**
 * A small append-only byte writer into a Buffer of the exact encoded size: a commit runs while
 * a download is being prepared, at the VM heap's peak, so no oversized scratch buffer and no
 * trimmed copy.
 */
class Writer {
    buf: Buffer
    pos: number
    constructor(size: number) {
        this.buf = Buffer.alloc(size)
        this.pos = 0
    }
    u8(v: number) {
        this.buf[this.pos++] = v & 0xff
    }
    u32(v: number) {
        putU32(this.buf, this.pos, v)
        this.pos += 4
    }
    bytes(b: Buffer) {
        for (let i = 0; i < b.length; i++) this.buf[this.pos + i] = b[i]
        this.pos += b.length
    }
    done(): Buffer {
        if (this.pos !== this.buf.length) throw new Error(`record encoder: ${this.pos} of ${this.buf.length} bytes`)
        return this.buf
    }
}

/** A reader that fails soft: any read past the end sets `bad`. */
class Reader {
    buf: Buffer
    pos: number
    bad: boolean
    constructor(buf: Buffer) {
        this.buf = buf
        this.pos = 0
        this.bad = false
    }
    need(n: number): boolean {
        if (this.pos + n > this.buf.length) this.bad = true
        return !this.bad
    }
    u8(): number {
        if (!this.need(1)) return 0
        return this.buf[this.pos++]
    }
    u32(): number {
        if (!this.need(4)) return 0
        const v = getU32(this.buf, this.pos)
        this.pos += 4
        return v
    }
    bytes(n: number): Buffer {
        if (!this.need(n)) return Buffer.alloc(0)
        const o = Buffer.alloc(n)
        for (let i = 0; i < n; i++) o[i] = this.buf[this.pos + i]
        this.pos += n
        return o
    }
}

/** Encoded size of a slot whose version is `v` (its UTF-8 bytes). */
function slotBytes(s: SlotInfo, v: Buffer): number {
    return 14 + v.length + s.sha256.length + s.md5.length
}

function writeSlot(w: Writer, s: SlotInfo, v: Buffer) {
    w.u8(STATES.indexOf(s.state))
    w.u8(s.bootsLeft)
    w.u8((s.crcKnown ? 1 : 0) | ((s.why & 31) << 1) | (s.unreported ? 64 : 0))
    w.u8(v.length)
    w.bytes(v)
    w.u32(s.size)
    w.u32(s.crc32)
    w.u8(s.sha256.length)
    w.bytes(s.sha256)
    w.u8(s.md5.length)
    w.bytes(s.md5)
}

function readSlot(r: Reader): SlotInfo {
    const st = r.u8()
    const boots = r.u8()
    const flags = r.u8()
    const verLen = r.u8()
    const version = r.bytes(verLen).toString("utf-8")
    const size = r.u32()
    const crc = r.u32()
    const sha = r.bytes(r.u8())
    const md5 = r.bytes(r.u8())
    if (st >= STATES.length || verLen > MAX_VERSION || sha.length > 32 || md5.length > 16) r.bad = true
    return {
        state: STATES[st],
        bootsLeft: boots,
        version: version,
        size: size,
        crc32: crc,
        crcKnown: (flags & 1) !== 0,
        sha256: sha,
        md5: md5,
        why: (flags >> 1) & 31,
        unreported: (flags & 64) !== 0,
    }
}

function writeProgress(w: Writer, p: Progress) {
    w.u32(p.written)
    w.u32(p.verified)
    w.u8(p.midstate.length)
    w.bytes(p.midstate)
}

function readProgress(r: Reader): Progress {
    const written = r.u32()
    const verified = r.u32()
    const mid = r.bytes(r.u8())
    return { written: written, verified: verified, midstate: mid }
}

/** Largest STATE body: 10 (format 2) + 2 × (4 + 32 + 8 + 1 + 32 + 1 + 16) + (9 + 200). */
export const MAX_STATE_BODY = 10 + 2 * 94 + 9 + MAX_MIDSTATE

export function encodeState(st: StoreState): Buffer {
    const v0 = Buffer.from(st.slots[0].version)
    const v1 = Buffer.from(st.slots[1].version)
    const c = st.counter
    const wide = ((c >>> 16) + 0xffff) >>> 16 // 1 above 65 535 (format 2), else 0: no branch (bytecode)
    const w = new Writer(slotBytes(st.slots[0], v0) + slotBytes(st.slots[1], v1) + 17 + 2 * wide + st.progress.midstate.length)
    w.u8(st.active) // -1 (none) as 0xFF: u8 masks
    w.u8(1 + wide)
    w.u8(c)
    w.u8(c >> 8)
    w.u32(st.session)
    if (wide) {
        w.u8(c >> 16)
        w.u8(c >>> 24)
    }
    writeSlot(w, st.slots[0], v0)
    writeSlot(w, st.slots[1], v1)
    writeProgress(w, st.progress)
    return w.done()
}

/** Decode a STATE body; null when it is not well-formed (a CRC-valid record of another format). */
export function decodeState(body: Buffer): StoreState {
    const r = new Reader(body)
    const active = ((r.u8() + 1) & 0xff) - 1 // 0xFF (none) as -1; 2..0xFE stay above 1
    const format = r.u8()
    let counter = r.u8() | (r.u8() << 8)
    const session = r.u32()
    if (format === 2) counter += (r.u8() | (r.u8() << 8)) * 0x10000
    else if (format !== 1) r.bad = true
    const s0 = readSlot(r)
    const s1 = readSlot(r)
    const p = readProgress(r)
    if (r.bad || r.pos !== body.length || active > 1) return null
    return { active: active, session: session, counter: counter, slots: [s0, s1], progress: p }
}

/**
 * The store's check for the log's mount (meta-log.ts, RecordCheck): a STATE counts only when it
 * decodes, so a newest STATE in a format this build cannot read (a newer firmware's, written
 * before it was rolled back) gives way to the newest one it can. A PROGRESS is judged by the store.
 */
export function stateReadable(type: number, body: Buffer): boolean {
    return type !== REC_STATE || decodeState(body) !== null
}

/**
 * The state in force from the log's newest STATE record and newest PROGRESS record: the STATE,
 * with the progress when it is newer and of the same receive; null when there is no STATE or it
 * does not decode. `running`: the slot that runs (-1: not booted yet).
 */
export function stateInForce(rec: LogRecord, pr: LogRecord, running: number): StoreState {
    const st = rec ? decodeState(rec.body) : null
    if (st && pr && seqNewer(pr.seq, rec.seq)) {
        const d = decodeProgress(pr.body)
        if (d && d.session === st.session && slotIn(st, running, "receiving") >= 0) st.progress = d.progress
    }
    return st
}

export function encodeProgress(session: number, p: Progress): Buffer {
    const w = new Writer(13 + p.midstate.length)
    w.u32(session)
    writeProgress(w, p)
    return w.done()
}

/** Decode a PROGRESS body into its session and progress; null when malformed. */
export function decodeProgress(body: Buffer): { session: number; progress: Progress } {
    const r = new Reader(body)
    const session = r.u32()
    const p = readProgress(r)
    if (r.bad || r.pos !== body.length) return null
    return { session: session, progress: p }
}

/** The download journal of receiving slot `t`. */
export function journalOf(st: StoreState, t: number): DownloadJournal {
    const s = st.slots[t]
    const p = st.progress
    return {
        slot: t,
        version: s.version,
        total: s.size,
        sha256: toHex(s.sha256),
        md5: toHex(s.md5),
        written: p.written,
        verified: p.verified,
        midstate: Buffer.from(p.midstate), // a copy (native in the VM, as in Node)
    }
}

/** The slot in `state` other than `running` (-1: none runs yet), or -1. */
export function slotIn(st: StoreState, running: number, state: SlotState): number {
    for (let i = 0; i < 2; i++) if (st.slots[i].state === state && i !== running) return i
    return -1
}

/** An OUTCOME body: the reported flag, then the agent's bytes. */
export function encodeOutcomeRecord(outcome: Buffer, reported: boolean): Buffer {
    const w = new Writer(1 + outcome.length)
    w.u8(reported ? 1 : 0)
    w.bytes(outcome)
    return w.done()
}
