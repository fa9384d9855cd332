// Reading and programming a slot under NOR rules, apart from the store's bookkeeping: a sector is
// erased when a write first reaches its start; a write that resumes mid-sector (after a reboot)
// needs the rest of that sector to read erased, else "not-blank" (restart from the sector start);
// units whose data is all 0xFF are never programmed, so after a cut "reads erased" means "never
// programmed". Plain functions: the store keeps the per-sector blank marks.

import { Flash, programSkippingErased } from "./flash"
import { StoreError } from "./store-port"
import { StepBudget } from "../lib/step-budget"
import { allBytes } from "../lib/bytes"
import { crc32Update } from "../lib/crc32"

/** Blank checks read in pieces of this size (heap: no whole sector in RAM). */
const IO_CHUNK = 512

/** The store's journal, rewound before a sector below its mark is erased again. */
export interface JournalRewind {
    rewindTo(offset: number): Promise<void>
}

/** Blank marks for a slot of `sectors` sectors that nothing is known of. */
export function unknownBlank(sectors: number): number[] {
    const b: number[] = []
    for (let i = 0; i < sectors; i++) b.push(-1)
    return b
}

/**
 * Write `data` at `offset` of the slot at `base` holding an image of `size` bytes. Offsets and
 * lengths are multiples of the program unit, except a write that ends the image.
 * `blankFrom[sector]`: the offset from which that sector is known erased (-1: unknown).
 */
export async function writeSlot(
    flash: Flash,
    budget: StepBudget,
    blankFrom: number[],
    base: number,
    size: number,
    offset: number,
    data: Buffer,
    journal: JournalRewind
) {
    const unit = flash.geometry.programUnit
    const sectorSize = flash.geometry.sectorSize
    const end = offset + data.length
    if (!(offset >= 0 && end <= size && offset === Math.floor(offset)))
        throw new StoreError("too-large", `write [${offset}, ${end}) past the image size ${size}`)
    if (offset % unit !== 0 || (end < size && data.length % unit !== 0))
        throw new StoreError("unaligned", `write of ${data.length} at ${offset}, unit ${unit}`)
    let buf = data
    if (data.length % unit !== 0) {
        buf = Buffer.alloc(Math.ceil(data.length / unit) * unit)
        for (let i = 0; i < buf.length; i++) buf[i] = i < data.length ? data[i] : 0xff
    }
    let pos = offset
    const stop = offset + buf.length
    while (pos < stop) {
        const sec = Math.floor(pos / sectorSize)
        const secStart = sec * sectorSize
        const chunkEnd = Math.min(stop, secStart + sectorSize)
        await prepareSector(flash, budget, blankFrom, base, sec, pos - secStart, journal)
        const piece = pos === offset && chunkEnd === stop ? buf : buf.slice(pos - offset, chunkEnd - offset)
        await programSkippingErased(flash, base + pos, piece)
        blankFrom[sec] = chunkEnd - secStart
        pos = chunkEnd
    }
}

/** Make sure a program at `inSec` of sector `sec` lands on erased flash. */
async function prepareSector(
    flash: Flash,
    budget: StepBudget,
    blankFrom: number[],
    base: number,
    sec: number,
    inSec: number,
    journal: JournalRewind
) {
    const known = blankFrom[sec]
    if (known >= 0 && inSec >= known) return
    const sectorSize = flash.geometry.sectorSize
    const addr = base + sec * sectorSize
    if (inSec === 0) {
        await journal.rewindTo(sec * sectorSize)
        await flash.eraseSector(addr)
        blankFrom[sec] = 0
        return
    }
    if (known >= 0) throw new StoreError("not-blank", `offset ${sec * sectorSize + inSec} was already written`)
    for (let off = inSec; off < sectorSize; off += IO_CHUNK) {
        const n = Math.min(IO_CHUNK, sectorSize - off)
        const b = await flash.read(addr + off, n)
        if (!allBytes(b, 0, n, 0xff)) throw new StoreError("not-blank", `sector ${sec} is not erased after offset ${inSec}`)
        await budget.spend(n)
    }
    blankFrom[sec] = inSec
}

/** CRC-32 of the `size` bytes at `address`, read in small pieces with yields. */
export async function slotCrc(flash: Flash, address: number, size: number, budget: StepBudget): Promise<number> {
    let crc = 0
    for (let off = 0; off < size; off += IO_CHUNK) {
        const n = Math.min(IO_CHUNK, size - off)
        const b = await flash.read(address + off, n)
        crc = crc32Update(crc, b, 0, n)
        await budget.spend(n)
    }
    return crc
}
