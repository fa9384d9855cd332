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
import { hex } from "../lib/hex"
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

/**
 * A blank device's state (no active slot, both slots empty, no progress), as its STATE record:
 * decoding 45 constant bytes costs less bytecode than building the objects field by field.
 */
const BLANK_STATE = hex`ff 01 0000 00000000  00 00 00 00 00000000 00000000 00 00  00 00 00 00 00000000 00000000 00 00  00000000 00000000 00`

export function initialState(): StoreState {
    return decodeState(BLANK_STATE)
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

// The records as field layouts, one character per field, walked by one codec (codeFields, both
// directions) instead of a hand-written pair per record (bytecode: every function and
// method costs a descriptor; the layout strings cost nothing against the VM's code limit):
//   "1" u8 | "4" u32 LE | "b" u8 length + that many bytes (a Buffer)
//   "-" a value that takes no bytes in this format (the wide counter's high half in format 1)
const SLOT_FIELDS = "111b44bb" // state, bootsLeft, flags, version, size, crc32, sha256, md5
const PROGRESS_FIELDS = "44b" // written, verified, midstate
/** active, format, counter low u16, session, counter high u16 (format 2 only), slot 0, slot 1, progress. */
const STATE_FORMAT_1 = "11114--" + SLOT_FIELDS + SLOT_FIELDS + PROGRESS_FIELDS
const STATE_FORMAT_2 = "1111411" + SLOT_FIELDS + SLOT_FIELDS + PROGRESS_FIELDS
/** Field index of slot 0's and slot 1's first field in a STATE, and of the progress's (literals: a computed constant costs bytecode at start-up). */
const STATE_SLOT0 = 7
const STATE_SLOT1 = 15
const STATE_PROGRESS = 23

/**
 * Encode `values` (one per layout character), or with `values` null decode `body`: one walk of
 * the layout for both (bytecode: a second function would repeat the loop and cost a descriptor).
 * Encoding returns a Buffer of the exact encoded size (a commit runs while a download is being
 * prepared, at the VM heap's peak, so no oversized scratch buffer): the walk runs twice, the
 * first only counts the bytes (no buffer yet), the second writes them. Decoding returns the
 * values, or null when `body` is shorter or longer: a field past the end reads as garbage
 * (undefined bytes: NaN, or 0 when stored) and leaves `pos` past the end, so the one check at
 * the end refuses it: no check per field.
 */
function codeFields(layout: string, values: any[], body: Buffer): any {
    const decoding = !values
    if (decoding) values = []
    let buf = body // the bytes read (decoding) or written (encoding, second walk)
    for (;;) {
        let pos = 0
        for (let i = 0; i < layout.length; i++) {
            const k = layout[i]
            let v: any = decoding ? 0 : values[i]
            if (k === "1") {
                if (decoding) v = buf[pos]
                else if (buf) buf[pos] = v & 0xff
                pos++
            } else if (k === "4") {
                if (decoding) v = getU32(buf, pos)
                else if (buf) putU32(buf, pos, v)
                pos += 4
            } else if (k === "b") {
                const n = decoding ? (pos < buf.length ? buf[pos] : 0) : v.length
                if (decoding) v = Buffer.alloc(n)
                else if (buf) buf[pos] = n
                if (buf)
                    for (let j = 0; j < n; j++) {
                        if (decoding) v[j] = buf[pos + 1 + j]
                        else buf[pos + 1 + j] = v[j]
                    }
                pos += 1 + n
            }
            values[i] = v
        }
        if (decoding) return pos === buf.length ? values : null
        if (buf) return buf
        buf = Buffer.alloc(pos)
    }
}

/** Append a slot's values in SLOT_FIELDS order. */
function pushSlot(values: any[], s: SlotInfo) {
    values.push(STATES.indexOf(s.state), s.bootsLeft, (s.crcKnown ? 1 : 0) | ((s.why & 31) << 1) | (s.unreported ? 64 : 0), Buffer.from(s.version), s.size, s.crc32, s.sha256, s.md5)
}

/** The slot whose SLOT_FIELDS start at values[i]; null when out of the format's bounds. */
function slotAt(values: any[], i: number): SlotInfo {
    const st: number = values[i]
    const flags: number = values[i + 2]
    const version: Buffer = values[i + 3]
    const sha: Buffer = values[i + 6]
    const md5: Buffer = values[i + 7]
    if (st >= STATES.length || version.length > MAX_VERSION || sha.length > 32 || md5.length > 16) return null
    return {
        state: STATES[st],
        bootsLeft: values[i + 1],
        version: version.toString("utf-8"),
        size: values[i + 4],
        crc32: values[i + 5],
        crcKnown: (flags & 1) !== 0,
        sha256: sha,
        md5: md5,
        why: (flags >> 1) & 31,
        unreported: (flags & 64) !== 0,
    }
}

/** Largest STATE body: 10 (format 2) + 2 × (4 + 32 + 8 + 1 + 32 + 1 + 16) + (9 + 200). */
export const MAX_STATE_BODY = 10 + 2 * 94 + 9 + MAX_MIDSTATE

export function encodeState(st: StoreState): Buffer {
    const c = st.counter
    const wide = c > 0xffff // format 2 only then: below, every record is byte for byte format 1
    const p = st.progress
    const values: any[] = [st.active, wide ? 2 : 1, c, c >> 8, st.session, c >> 16, c >>> 24] // active -1 (none) as 0xFF: u8 masks
    pushSlot(values, st.slots[0])
    pushSlot(values, st.slots[1])
    values.push(p.written, p.verified, p.midstate)
    return codeFields(wide ? STATE_FORMAT_2 : STATE_FORMAT_1, values, null)
}

/** Decode a STATE body; null when it is not well-formed (a CRC-valid record of another format). */
export function decodeState(body: Buffer): StoreState {
    const f: any[] = codeFields(body[1] === 2 ? STATE_FORMAT_2 : STATE_FORMAT_1, null, body)
    if (!f || f[1] < 1 || f[1] > 2) return null // format 1 or 2 only
    const active = ((f[0] + 1) & 0xff) - 1 // 0xFF (none) as -1; 2..0xFE stay above 1
    const s0 = slotAt(f, STATE_SLOT0)
    const s1 = slotAt(f, STATE_SLOT1)
    if (!s0 || !s1 || active > 1) return null
    const q = STATE_PROGRESS
    return {
        active: active,
        session: f[4],
        counter: (f[2] | (f[3] << 8)) + (f[5] | (f[6] << 8)) * 0x10000,
        slots: [s0, s1],
        progress: { written: f[q], verified: f[q + 1], midstate: f[q + 2] },
    }
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

const PROGRESS_RECORD = "4" + PROGRESS_FIELDS // session, then the progress

export function encodeProgress(session: number, p: Progress): Buffer {
    return codeFields(PROGRESS_RECORD, [session, p.written, p.verified, p.midstate], null)
}

/** Decode a PROGRESS body into its session and progress; null when malformed. */
export function decodeProgress(body: Buffer): { session: number; progress: Progress } {
    const f: any[] = codeFields(PROGRESS_RECORD, null, body)
    return f ? { session: f[0], progress: { written: f[1], verified: f[2], midstate: f[3] } } : null
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
    const b = Buffer.alloc(1 + outcome.length)
    b[0] = reported ? 1 : 0
    for (let i = 0; i < outcome.length; i++) b[1 + i] = outcome[i]
    return b
}
