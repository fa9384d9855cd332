// The metadata log's windowed mount: records of every size up to the largest body, placed so
// that they straddle the scan window, are all found again; a header whose length append() could
// not have written (a flipped length, or one past the sector) is skipped, not trusted.
import { describe, expect, it } from "vitest"
import { Flash } from "../../src/flash/flash"
import { MetaLog, encodeRecord, maxRecordBody, recordSize, scanSector } from "../../src/flash/meta-log"
import { REC_STATE, encodeState, initialState, stateReadable } from "../../src/flash/store-records"
import { StepBudget } from "../../src/lib/step-budget"
import { NorFlash } from "../../sim/flash/nor-flash"
import { makeImage, norFlash, reboot, receive } from "./fixtures"
import { provisionV1 } from "./harness"

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

describe("metadata log mount cost (the figures in meta-log.ts's header)", () => {
    /** A Flash that counts the reads the mount makes and the bytes they return. */
    function counting(nor: NorFlash) {
        const c = { reads: 0, bytes: 0, peak: 0 }
        const flash: Flash = {
            geometry: nor.geometry,
            read: async (a, n) => {
                c.reads++
                c.bytes += n
                c.peak = Math.max(c.peak, n)
                return nor.read(a, n)
            },
            program: (a, d) => nor.program(a, d),
            eraseSector: a => nor.eraseSector(a),
        }
        return { flash, c }
    }

    async function measure(nor: NorFlash, what: string) {
        const { flash, c } = counting(nor)
        let checks = 0
        const log = new MetaLog(flash, 0, 2, budget())
        const t0 = performance.now()
        const newest = await log.mount((type, b) => {
            checks++
            return stateReadable(type, b)
        })
        const ms = performance.now() - t0
        let records = 0
        for (let s = 0; s < 2; s++)
            await scanSector(nor, s * SECTOR, SECTOR, 8, maxRecordBody(SECTOR, 8), budget(), () => records++)
        console.log(
            `mount cost, ${what}: ${records} record copies in 2 × 4 KB; ${c.reads} reads, ${c.bytes} bytes read ` +
                `(largest read ${c.peak}); ${checks} bodies copied and checked; ${ms.toFixed(2)} ms in Node`
        )
        return { newest, reads: c.reads, bytes: c.bytes, checks, records, peak: c.peak }
    }

    it("a full log of STATE snapshots (the worst case: every one is newer than the last), and a device's real log", async () => {
        const full = initialState()
        full.slots[0] = { ...full.slots[0], state: "confirmed", version: "1_0_0", size: 7001, sha256: Buffer.alloc(32, 1), md5: Buffer.alloc(16, 2) }
        full.slots[1] = { ...full.slots[1], state: "receiving", version: "2_0_0", size: 8192, sha256: Buffer.alloc(32, 3), md5: Buffer.alloc(16, 4) }
        full.progress = { written: 0, verified: 0, midstate: Buffer.alloc(192, 5) }
        const small = initialState()
        small.slots[0] = { ...small.slots[0], state: "confirmed", version: "1_0_0", size: 7001 }
        for (const body of [encodeState(small), encodeState(full)]) {
            const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: 4 * SECTOR })
            const log = new MetaLog(nor, 0, 2, budget())
            await log.mount()
            // fill both sectors: one wrap onto sector 1, stop before the next
            while (log.currentSector !== 1 || log.fits(body.length)) await log.append(REC_STATE, body, !log.fits(body.length))
            const worst = await measure(nor, `${body.length}-byte STATE records only`)
            expect(worst.newest[REC_STATE].body.equals(body)).toBe(true)
            // every copy 0 is newer than the newest so far (its copy 1 is not): one check per record
            expect(worst.checks).toBe(worst.records / 2)
            expect(worst.peak).toBeLessThanOrEqual(512)
            expect(worst.bytes).toBeLessThanOrEqual(3 * 2 * SECTOR)
        }

        // a device's own log: updates with a 192-byte-midstate journal record per KB
        const dev = norFlash(8)
        await provisionV1({ name: "", nor: dev, flash: dev })
        for (let i = 0; i < 3; i++) {
            const { store } = await reboot(dev)
            await receive(store, makeImage(`2_0_${i}`, 8192, i), { block: 1024, journalEvery: 1 })
            await store.activate()
            await (await reboot(dev)).store.confirm()
        }
        const real = await measure(dev, "a device's log after 3 updates with a journal per KB")
        expect(real.checks).toBeLessThanOrEqual(real.records / 2)
    })
})
