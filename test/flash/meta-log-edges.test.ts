// The metadata log's checks one corruption at a time (the bit-flip sweep does all of them, but is
// too slow for mutation testing): a copy with a wrong CRC, magic, format or ~len is skipped and
// its twin used; both copies bad gives the record before; garbage after the last record moves
// the append point past it; append's own refusals; the wrap onto the next sector; the exact
// record layout.
import { describe, expect, it } from "vitest"
import { encodeRecord, maxRecordBody, MetaLog, recordSize, RECORD_HEADER, seqNewer, seqNext } from "../../src/flash/meta-log"
import { StepBudget } from "../../src/lib/step-budget"
import { crc32 } from "../../src/lib/crc32"
import { NorFlash } from "../../sim/flash/nor-flash"

const SECTOR = 4096
const UNIT = 8
const budget = () => new StepBudget(1 << 30, async () => {})

function body(len: number, seed: number): Buffer {
    const b = Buffer.alloc(len)
    for (let i = 0; i < len; i++) b[i] = (i * 13 + seed) & 0xff
    return b
}

/** A log with record A (type 1, seq 1) then B (type 1, seq 2), each two copies of a 40-byte body; returns where B's copies are. */
async function twoRecords() {
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: UNIT, size: 2 * SECTOR })
    const log = new MetaLog(nor, 0, 2, budget())
    await log.mount()
    expect(await log.append(1, body(40, 1), true)).toBe(1)
    expect(await log.append(1, body(40, 2), false)).toBe(2)
    const size = recordSize(40, UNIT)
    return { nor, size, b0: 2 * size, b1: 3 * size }
}

/** Overwrite bytes in place (the NOR model's raw image: a corruption, not a program). */
function poke(nor: NorFlash, addr: number, f: (old: number) => number) {
    const raw = nor.data
    raw[addr] = f(raw[addr]) & 0xff
}

async function newest(nor: NorFlash) {
    return (await new MetaLog(nor, 0, 2, budget()).mount())[1]
}

describe("a damaged copy is skipped, its twin used", () => {
    const fields: [string, number][] = [
        ["magic", 0],
        ["~len", 4],
        ["format", 6],
        ["a body byte (the CRC no longer holds)", RECORD_HEADER + 5],
        ["the CRC", RECORD_HEADER + 40],
        ["the seq (covered by the CRC)", 8],
        ["the type (covered by the CRC)", 1],
    ]
    for (const [what, at] of fields) {
        it(`${what} of copy 0`, async () => {
            const { nor, b0 } = await twoRecords()
            poke(nor, b0 + at, x => x ^ 0x10)
            const r = await newest(nor)
            expect(r.body.equals(body(40, 2))).toBe(true)
            expect(r.seq).toBe(2)
        })
        it(`${what} of both copies: the record before is in force`, async () => {
            const { nor, b0, b1 } = await twoRecords()
            poke(nor, b0 + at, x => x ^ 0x10)
            poke(nor, b1 + at, x => x ^ 0x10)
            const r = await newest(nor)
            expect(r.body.equals(body(40, 1))).toBe(true)
            expect(r.seq).toBe(1)
        })
    }

    it("a length and ~len that agree but point past the sector: skipped", async () => {
        const { nor, b0, b1 } = await twoRecords()
        for (const c of [b0, b1]) {
            poke(nor, c + 2, () => 0xf8)
            poke(nor, c + 3, () => 0x0f) // len 4088
            poke(nor, c + 4, () => 0x07)
            poke(nor, c + 5, () => 0xf0)
        }
        expect((await newest(nor)).seq).toBe(1)
    })
})

describe("the append point", () => {
    it("garbage after the last record (a torn program) is never programmed over: the next record goes after it", async () => {
        const { nor, b1, size } = await twoRecords()
        const end = b1 + size
        poke(nor, end + 13, () => 0x00) // one torn unit, 13 bytes in
        const log = new MetaLog(nor, 0, 2, budget())
        await log.mount()
        expect(await log.append(1, body(40, 3), false)).toBe(3)
        const r = await newest(nor)
        expect(r.body.equals(body(40, 3))).toBe(true)
        // the new copy 0 starts at the unit after the torn byte
        expect(r.offset).toBe(end + 16)
    })

    it("a valid record whose last bytes are 0xFF (left unprogrammed) still moves the append point past it", async () => {
        // unit 1, and a body whose record ends in a 0xFF CRC byte: the last programmed byte is one before its end
        let seed = 0
        while (encodeRecord(1, 1, body(40, seed), 1).at(-1) !== 0xff) seed++
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 1, size: 2 * SECTOR })
        const log = new MetaLog(nor, 0, 2, budget())
        await log.mount()
        await log.append(1, body(40, seed), true)
        const again = new MetaLog(nor, 0, 2, budget())
        await again.mount()
        await again.append(2, body(8, 1), false)
        const all = await new MetaLog(nor, 0, 2, budget()).mount()
        expect(all[1]).toMatchObject({ seq: 1, offset: 0 })
        expect(all[2]).toMatchObject({ seq: 2, offset: 2 * recordSize(40, 1) })
    })
})

describe("append", () => {
    it("refuses a body larger than a quarter sector allows, and a delta that would have to open a sector", async () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: UNIT, size: 2 * SECTOR })
        const log = new MetaLog(nor, 0, 2, budget())
        await log.mount()
        const max = maxRecordBody(SECTOR, UNIT)
        expect(max).toBe(SECTOR / 4 - 16 - UNIT)
        await expect(log.append(1, Buffer.alloc(max + 1), true)).rejects.toThrow(`meta log: record of ${max + 1} bytes too large`)
        // an empty log: only a snapshot may open the first sector
        expect(log.fits(8)).toBe(false)
        await expect(log.append(2, Buffer.alloc(8), false)).rejects.toThrow("meta log: only a snapshot may open a sector")
        expect(log.currentSector).toBe(-1)
        await log.append(1, Buffer.alloc(max), true)
        expect(log.currentSector).toBe(0)
        expect(log.erases).toBe(1)
        expect(log.programs).toBe(2)
    })

    it("fills a sector exactly, then wraps onto the next (erased first) and back onto the first", async () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: UNIT, size: 2 * SECTOR })
        const log = new MetaLog(nor, 0, 2, budget())
        await log.mount()
        const len = 48 // 64 bytes a copy: exactly 32 records a sector
        expect(recordSize(len, UNIT)).toBe(64)
        let seq = 0
        for (let i = 0; i < 32; i++) {
            seq = await log.append(1, body(len, i), i === 0)
            expect(log.currentSector).toBe(0)
        }
        expect(log.fits(len)).toBe(false)
        await expect(log.append(1, body(len, 99), false)).rejects.toThrow(/only a snapshot/)
        expect(await log.append(1, body(len, 32), true)).toBe(seq + 1)
        expect(log.currentSector).toBe(1)
        expect(log.erases).toBe(2)
        // the wrapped log mounts on sector 1 with its newest record
        const m = new MetaLog(nor, 0, 2, budget())
        const r = (await m.mount())[1]
        expect(r).toMatchObject({ seq: seq + 1, sector: 1, offset: 0 })
        expect(m.currentSector).toBe(1)
        for (let i = 1; i < 32; i++) await m.append(1, body(len, 100 + i), false)
        expect(m.fits(len)).toBe(false)
        await m.append(1, body(len, 200), true)
        expect(m.currentSector).toBe(0)
        const last = (await new MetaLog(nor, 0, 2, budget()).mount())[1]
        expect(last).toMatchObject({ sector: 0, offset: 0 })
        expect(last.body.equals(body(len, 200))).toBe(true)
    })
})

describe("the record format", () => {
    it("magic, type, len, ~len, format, reserved, seq, body, CRC over all of it, 0xFF padding to the unit", () => {
        const b = body(5, 3)
        const r = encodeRecord(7, 0x01020304, b, UNIT)
        expect(r.length).toBe(24) // 12 + 5 + 4 = 21, padded to 24
        expect([...r.subarray(0, 12)]).toEqual([0xa5, 7, 5, 0, 0xfa, 0xff, 1, 0, 4, 3, 2, 1])
        expect(r.subarray(12, 17).equals(b)).toBe(true)
        expect(r.readUInt32LE(17)).toBe(crc32(r.subarray(0, 17)))
        expect([...r.subarray(21)]).toEqual([0xff, 0xff, 0xff])
        expect(encodeRecord(1, 1, Buffer.alloc(4), UNIT).length).toBe(24) // 20 → 24
        expect(encodeRecord(1, 1, Buffer.alloc(4), 4).length).toBe(20)
    })

    it("seqNext wraps to 0 after 0xFFFFFFFF only; seqNewer is serial-number order", () => {
        expect(seqNext(0)).toBe(1)
        expect(seqNext(0xfffffffe)).toBe(0xffffffff)
        expect(seqNext(0xffffffff)).toBe(0)
        expect(seqNewer(1, 0)).toBe(true)
        expect(seqNewer(0, 0)).toBe(false)
        expect(seqNewer(0, 1)).toBe(false)
        expect(seqNewer(0, 0xffffffff)).toBe(true)
        expect(seqNewer(0x7fffffff, 0)).toBe(true)
        expect(seqNewer(0x80000000, 0)).toBe(false)
    })
})
