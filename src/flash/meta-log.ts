// The metadata journal: an append-only log of records over a ring of N ≥ 2 flash sectors.
//
// Record (little-endian), padded with 0xFF to the program unit:
//   0 magic 0xA5 | 1 type | 2 len u16 | 4 ~len u16 | 6 format 1 | 7 reserved 0 | 8 seq u32
//   12 body[len] | 12+len crc32 over bytes [0, 12+len)   (every field, header included)
// Each record is programmed twice, copy 0 then copy 1, as two program operations: a cut during
// copy 0 leaves the previous state in force, a cut during copy 1 leaves the new one (copy 0 is
// whole), and a single flipped bit in either copy leaves the other one valid.
//
// Reading (mount): every sector is scanned at every program-unit offset for a header whose
// magic, len/~len and format agree, whose length append() could have written, and whose CRC
// holds; a valid record is skipped whole, anything else one unit at a time, so a torn or
// flipped record never hides the records after it. The current sector is the one holding the
// valid record with the newest seq; the append point is just past its last non-0xFF byte (or
// its last valid record, whichever is later), so a torn tail is never programmed over. Units
// that are all 0xFF are never programmed (see programSkippingErased), which is what makes
// "reads 0xFF" mean "never programmed". The caller may pass a decoder check: per type, mount
// then hands over the newest record whose body the check accepts (a newest STATE that a newer
// firmware wrote in a format this one does not read gives way to the newest one it does).
//
// Sequence numbers are u32 and wrap: 0xFFFFFFFF is followed by 0, and "newer" is serial-number
// arithmetic (RFC 1982): a is newer than b when (a − b) mod 2^32 is in [1, 2^31). That holds
// because every record on the flash is recent: a sector is erased before the log reuses it, so
// the records present span at most sectors × sector size / 32 appends (two copies of ≥ 16 bytes
// each), far below 2^31. Plain integer order lost every record written after the wrap.
//
// Writing: a record goes at the append point of the current sector if both copies fit. If not,
// the log wraps: the next sector of the ring is erased and the caller's record, which must then
// be a full snapshot, is written there. The next sector never holds anything newer than the
// newest snapshot (every sector starts with a snapshot after its erase), so erasing it loses
// nothing; a cut during that erase or that write leaves the current sector, untouched, in force.
//
// Mount reads a sector through a 512-byte window, never whole (see scanSector). Sectors are
// limited to 4 KB all the same (W25Q, ESP32 and RP2040 flash all erase 4 KB): a record body is
// at most a quarter sector, and a bigger sector would only allow bigger records to hold in RAM.
// Memory while mounting: one window, one record that straddles it (≤ 1 KB), the newest body per
// type, and, with a check, one candidate body (a copy of a record newer than the type's newest so
// far, checked, then kept or dropped) and what the check allocates. Cost, measured on a full log
// of two 4 KB sectors, unit 8 (test/flash/meta-log.test.ts; the VM with GC stress on): 18 reads,
// 9216 bytes read (none larger than 512) for 112 copies of the smallest STATE (50 bytes), the
// worst case for a check, which then runs 56 times (once per record: a copy 1 is never newer than
// its copy 0); 22 reads and 9.6 KB for a device's log after three updates with a journal per KB.
// In the VM that log of 50-byte STATEs mounts in 69–115 ms without a check and 272–343 ms with
// the store's (a decode per STATE), so the store mounts without one and scans again with it only
// when the newest STATE does not decode (221–231 ms for such a mount; 75–104 ms otherwise).

import { crc32Update } from "../lib/crc32"
import { getU16, getU32, putU16, putU32 } from "../lib/bytes"
import { StepBudget } from "../lib/step-budget"
import { Flash, programSkippingErased } from "./flash"

export const RECORD_MAGIC = 0xa5
export const RECORD_FORMAT = 1
export const RECORD_HEADER = 12
/** Header + CRC: the smallest record. */
export const RECORD_OVERHEAD = RECORD_HEADER + 4
export const MAX_META_SECTOR = 4096

/** Mount's decoder check: true when this build can read a record of `type` with this body. */
export type RecordCheck = (type: number, body: Buffer) => boolean

/** Serial-number order (RFC 1982) of u32 sequence numbers: is `a` newer than `b`? */
export function seqNewer(a: number, b: number): boolean {
    let d = a - b // plain arithmetic: `%` by 2^32 is wrong in the VM
    if (d < 0) d += 0x100000000
    return d > 0 && d < 0x80000000
}

/** The sequence number after `seq` (0 follows 0xFFFFFFFF). */
export function seqNext(seq: number): number {
    return seq >= 0xffffffff ? 0 : seq + 1
}

/** A valid record found by mount. */
export interface LogRecord {
    type: number
    seq: number
    body: Buffer
    /** Sector index in the ring and byte offset of this copy inside it. */
    sector: number
    offset: number
}

export function alignUp(n: number, unit: number): number {
    return Math.ceil(n / unit) * unit
}

/** Bytes one copy of a record with a `bodyLength`-byte body occupies. */
export function recordSize(bodyLength: number, unit: number): number {
    return alignUp(RECORD_OVERHEAD + bodyLength, unit)
}

/** Encode one record copy, padded to the unit with 0xFF. */
export function encodeRecord(type: number, seq: number, body: Buffer, unit: number): Buffer {
    const len = body.length
    const out = Buffer.alloc(recordSize(len, unit))
    for (let i = RECORD_HEADER + len + 4; i < out.length; i++) out[i] = 0xff
    out[0] = RECORD_MAGIC
    out[1] = type
    putU16(out, 2, len)
    putU16(out, 4, len ^ 0xffff)
    out[6] = RECORD_FORMAT
    out[7] = 0
    putU32(out, 8, seq)
    for (let i = 0; i < len; i++) out[RECORD_HEADER + i] = body[i]
    putU32(out, RECORD_HEADER + len, crc32Update(0, out, 0, RECORD_HEADER + len))
    return out
}

/** Largest record body a log over sectors of `sectorSize` accepts: both copies in a quarter sector, room left. */
export function maxRecordBody(sectorSize: number, unit: number): number {
    return Math.floor(sectorSize / 4) - RECORD_OVERHEAD - unit
}

/** Bytes the scan reads at a time: the sector is never held whole (a 4 KB read is 6 % of the VM's heap). */
const SCAN_WINDOW = 512

/**
 * Scan one sector. Calls `found` for each valid record copy (its body is buf[bodyStart, +len));
 * returns the append point (just past the last byte that is not 0xFF, rounded up to the unit,
 * or past the last valid record if that is later). Reads a window at a time, and a record that
 * does not fit in the window on its own, so the heap holds at most one window and one record:
 * a header whose length exceeds `maxBody` cannot have been written by append() and is skipped.
 */
export async function scanSector(
    flash: Flash,
    address: number,
    size: number,
    unit: number,
    maxBody: number,
    budget: StepBudget,
    found: (seq: number, type: number, buf: Buffer, bodyStart: number, len: number, offset: number) => void
): Promise<number> {
    let last = -1
    for (let end = size; end > 0 && last < 0; end -= SCAN_WINDOW) {
        const start = Math.max(0, end - SCAN_WINDOW)
        const w = await flash.read(address + start, end - start)
        for (let i = w.length - 1; i >= 0 && last < 0; i--) if (w[i] !== 0xff) last = start + i
        await budget.spend(w.length)
    }
    const tail = alignUp(last + 1, unit)
    let p = 0
    let skipped = 0
    let limit = tail
    let win: Buffer = null
    let winStart = 0
    while (p < tail) {
        if (!win || p + RECORD_HEADER > winStart + win.length) {
            winStart = p
            win = await flash.read(address + p, Math.min(SCAN_WINDOW, size - p))
        }
        const q = p - winStart
        if (q + RECORD_HEADER <= win.length && win[q] === RECORD_MAGIC && win[q + 6] === RECORD_FORMAT) {
            const len = getU16(win, q + 2)
            const end = p + RECORD_HEADER + len
            if ((len ^ 0xffff) === getU16(win, q + 4) && len <= maxBody && end + 4 <= size) {
                await budget.spend(len + RECORD_OVERHEAD)
                let buf = win
                let r = q
                if (q + RECORD_HEADER + len + 4 > win.length) {
                    buf = await flash.read(address + p, RECORD_HEADER + len + 4)
                    r = 0
                }
                if (crc32Update(0, buf, r, r + RECORD_HEADER + len) === getU32(buf, r + RECORD_HEADER + len)) {
                    found(getU32(buf, r + 8), buf[r + 1], buf, r + RECORD_HEADER, len, p)
                    p += recordSize(len, unit)
                    if (p > limit) limit = p // its last units were all 0xFF, so left unprogrammed
                    continue
                }
            }
        }
        p += unit
        skipped += unit
        if (skipped >= 256) {
            await budget.spend(skipped)
            skipped = 0
        }
    }
    return limit
}

/** Fields without `private` are still internal: mountSector (a module function) reads them. */
export class MetaLog {
    flash: Flash
    base: number
    sectors: number
    sectorSize: number
    unit: number
    budget: StepBudget
    /**
     * Ring index of the sector holding the newest record; -1 when the log is empty. Read it, never
     * write it, from outside (the outcome keeper, tests, wear figures): a field, as a getter method
     * would cost 16 B of descriptor and a prototype entry in every image.
     */
    currentSector: number
    /** Append point inside `currentSector`. */
    tail: number
    private nextSeq: number
    /** Newest seq seen by the running mount (valid once `cur` ≥ 0). */
    bestSeq: number
    /** Newest valid record per type (index = type) while mount() runs; handed to its caller. */
    newest: LogRecord[]
    /** Sector erases done by this log since construction (wear figures). */
    erases: number
    /** Record copies programmed since construction. */
    programs: number
    /** Largest body a sector can take as a snapshot: both copies, with room left for the log to move on (a field: a method costs ~40 B more). */
    readonly maxBody: number

    constructor(flash: Flash, base: number, sectors: number, budget: StepBudget) {
        this.flash = flash
        this.base = base
        this.sectors = sectors
        this.sectorSize = flash.geometry.sectorSize
        this.unit = flash.geometry.programUnit
        this.budget = budget
        this.currentSector = -1
        this.tail = 0
        this.nextSeq = 1
        this.newest = []
        this.erases = 0
        this.programs = 0
        this.bestSeq = 0
        this.maxBody = maxRecordBody(this.sectorSize, this.unit)
    }

    /**
     * Read every sector, find the append point, and return the newest valid record of each type
     * (index = type; missing types are undefined) that `check` accepts (all, without one). The
     * log keeps no record bodies after this: the caller decodes what it needs, and a device that
     * serves for weeks holds nothing twice.
     */
    async mount(check?: RecordCheck): Promise<LogRecord[]> {
        this.newest = []
        this.currentSector = -1
        this.tail = 0
        this.bestSeq = 0
        for (let s = 0; s < this.sectors; s++) await mountSector(this, s, check || null)
        this.nextSeq = this.currentSector < 0 ? 1 : seqNext(this.bestSeq)
        const found = this.newest
        this.newest = []
        return found
    }

    /** Would a record with this body fit in the current sector without wrapping? */
    fits(bodyLength: number): boolean {
        return this.currentSector >= 0 && this.tail + 2 * recordSize(bodyLength, this.unit) <= this.sectorSize
    }

    /**
     * Append a record (two copies). When it does not fit, the log wraps onto the next sector,
     * which is erased first; `snapshot` must then be true (the record must hold the full state).
     * Returns the seq written.
     */
    async append(type: number, body: Buffer, snapshot: boolean): Promise<number> {
        if (body.length > this.maxBody) throw new Error(`meta log: record of ${body.length} bytes too large`)
        if (!this.fits(body.length)) {
            if (!snapshot) throw new Error("meta log: only a snapshot may open a sector")
            const next = this.currentSector < 0 ? 0 : (this.currentSector + 1) % this.sectors
            await this.flash.eraseSector(this.base + next * this.sectorSize)
            this.erases++
            this.currentSector = next
            this.tail = 0
        }
        const seq = this.nextSeq
        const rec = encodeRecord(type, seq, body, this.unit)
        const at = this.base + this.currentSector * this.sectorSize
        const off = this.tail
        await programSkippingErased(this.flash, at + off, rec)
        this.programs++
        // copy 0 is whole: from here on the new record is in force
        this.nextSeq = seqNext(seq)
        this.tail = off + rec.length
        await programSkippingErased(this.flash, at + this.tail, rec)
        this.programs++
        this.tail += rec.length
        return seq
    }
}

/** One sector of a mount (a module function: a method costs a prototype-table entry in every image). */
async function mountSector(log: MetaLog, sector: number, check: RecordCheck) {
    const at = log.base + sector * log.sectorSize
    const tail = await scanSector(log.flash, at, log.sectorSize, log.unit, log.maxBody, log.budget, (seq, type, buf, bodyStart, len, offset) => {
        if (log.currentSector < 0 || seqNewer(seq, log.bestSeq)) {
            log.bestSeq = seq
            log.currentSector = sector
        }
        const old = log.newest[type]
        if (!old || seqNewer(seq, old.seq)) {
            const body = Buffer.alloc(len)
            for (let i = 0; i < len; i++) body[i] = buf[bodyStart + i]
            if (!check || check(type, body))
                log.newest[type] = { type: type, seq: seq, body: body, sector: sector, offset: offset }
        }
    })
    if (log.currentSector === sector) log.tail = tail
}
