// The metadata log's windowed mount: records of every size up to the largest body, placed so
// that they straddle the scan window, are all found again; a header whose length append() could
// not have written (a flipped length, or one past the sector) is skipped, not trusted.
import { describe, expect, it } from "vitest"
import { MetaLog, encodeRecord, maxRecordBody, recordSize } from "../../src/flash/meta-log"
import { StepBudget } from "../../src/lib/step-budget"
import { NorFlash } from "../../sim/flash/nor-flash"

const SECTOR = 4096
const budget = () => new StepBudget(1 << 30, async () => {})

function body(len: number, seed: number): Buffer {
    const b = Buffer.alloc(len)
    for (let i = 0; i < len; i++) b[i] = (i * 13 + seed) & 0xff
    return b
}

describe("metadata log mount (windowed scan)", () => {
    for (const unit of [1, 8, 32]) {
        it(`finds the newest record of each type for bodies up to the largest, unit ${unit}`, async () => {
            const nor = new NorFlash({ sectorSize: SECTOR, programUnit: unit, size: 4 * SECTOR })
            const log = new MetaLog(nor, 0, 2, budget())
            await log.mount()
            const max = maxRecordBody(SECTOR, unit)
            // sizes around the 512-byte scan window and the largest body; types 1..4 in turn
            const sizes = [1, 100, 499, 500, 511, 512, 513, 700, max, 37, max - 1, 250]
            const last: Buffer[] = []
            let seed = 0
            for (const len of sizes) {
                const type = 1 + (seed % 4)
                const b = body(len, seed++)
                await log.append(type, b, !log.fits(len) || seed === 1)
                last[type] = b
            }
            const again = new MetaLog(nor, 0, 2, budget())
            const newest = await again.mount()
            for (let t = 1; t <= 4; t++) expect(newest[t].body.equals(last[t])).toBe(true)
            // and the append point is right: a new record lands after the old ones and is found
            await again.append(5, body(300, 99), !again.fits(300))
            expect((await new MetaLog(nor, 0, 2, budget()).mount())[5].body.equals(body(300, 99))).toBe(true)
        })
    }

    it("skips a header whose length is larger than any body append() writes", async () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: 4 * SECTOR })
        const log = new MetaLog(nor, 0, 2, budget())
        await log.mount()
        await log.append(1, body(40, 1), true)
        const first = recordSize(40, 8) * 2
        // a well-formed record, CRC and all, whose body is one byte longer than append() allows
        const forged = encodeRecord(2, 1000, body(maxRecordBody(SECTOR, 8) + 1, 7), 8)
        await nor.program(first, forged)
        const newest = await new MetaLog(nor, 0, 2, budget()).mount()
        expect(newest[1].body.equals(body(40, 1))).toBe(true)
        expect(newest[2]).toBeUndefined()
    })
})
