// Sequence numbers across the u32 wrap (issue 14, item 14): records are ordered by serial-number
// arithmetic, so 0 follows 0xFFFFFFFF and nothing written after the wrap loses at mount. The log
// is put near the wrap by re-encoding a real device's records with higher sequence numbers, in
// place (same lengths, same offsets), instead of appending four billion records.
import { describe, expect, it } from "vitest"
import { MetaLog, encodeRecord, maxRecordBody, scanSector, seqNewer, seqNext } from "../../src/flash/meta-log"
import { programSkippingErased } from "../../src/flash/flash"
import { StepBudget } from "../../src/lib/step-budget"
import { NorFlash } from "../../sim/flash/nor-flash"
import { LAYOUT, SECTOR, makeImage, norFlash, reboot, receive } from "./fixtures"
import { Device, SCENARIOS, provisionV1, sweepScenario } from "./harness"

const budget = () => new StepBudget(1 << 30, async () => {})
const U32 = 0x100000000

interface Found {
    address: number
    seq: number
    type: number
    body: Buffer
}

/** Every valid record copy of the store's metadata log, in flash order. */
async function records(nor: NorFlash): Promise<Found[]> {
    const unit = nor.geometry.programUnit
    const out: Found[] = []
    for (let s = 0; s < LAYOUT.metaSectors; s++) {
        const at = LAYOUT.metaAddress + s * SECTOR
        await scanSector(nor, at, SECTOR, unit, maxRecordBody(SECTOR, unit), budget(), (seq, type, buf, start, len, offset) =>
            out.push({ address: at + offset, seq, type, body: Buffer.from(buf.subarray(start, start + len)) })
        )
    }
    return out
}

/** Newest seq on the flash by plain integer order (what the old mount used). */
async function maxSeq(nor: NorFlash): Promise<number> {
    return Math.max(...(await records(nor)).map(r => r.seq))
}

/**
 * Re-encode every record of the log with its seq moved so that the newest becomes `newest`
 * (mod 2^32): same type, body, length and place, so the log is the same log further on in time.
 */
async function rebaseLog(nor: NorFlash, newest: number) {
    const recs = await records(nor)
    const delta = newest - Math.max(...recs.map(r => r.seq))
    for (let s = 0; s < LAYOUT.metaSectors; s++) await nor.eraseSector(LAYOUT.metaAddress + s * SECTOR)
    for (const r of recs) {
        const seq = (((r.seq + delta) % U32) + U32) % U32
        await programSkippingErased(nor, r.address, encodeRecord(r.type, seq, r.body, nor.geometry.programUnit))
    }
}

describe("sequence numbers across the u32 wrap", () => {
    it("serial-number order: 0 follows 0xFFFFFFFF, and half the space decides", () => {
        expect(seqNext(0xfffffffe)).toBe(0xffffffff)
        expect(seqNext(0xffffffff)).toBe(0)
        expect(seqNewer(0, 0xffffffff)).toBe(true)
        expect(seqNewer(0xffffffff, 0)).toBe(false)
        expect(seqNewer(5, 0xfffffff0)).toBe(true)
        expect(seqNewer(7, 7)).toBe(false)
        expect(seqNewer(0x7fffffff, 0)).toBe(true)
        expect(seqNewer(0x80000000, 0)).toBe(false)
    })

    it("the log: records written after 0xFFFFFFFF are the newest at mount, in either sector", async () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: 4 * SECTOR })
        // sector 0 ends at the top of the sequence space
        let off = 0
        for (const seq of [0xfffffffd, 0xfffffffe, 0xffffffff]) {
            const rec = encodeRecord(1, seq, Buffer.from(`state ${seq}`), 8)
            for (let copy = 0; copy < 2; copy++, off += rec.length) await nor.program(off, rec)
        }
        const log = new MetaLog(nor, 0, 2, budget())
        expect((await log.mount())[1].body.toString()).toBe(`state ${0xffffffff}`)
        expect(await log.append(1, Buffer.from("after the wrap"), true)).toBe(0)
        expect(await log.append(2, Buffer.from("progress"), false)).toBe(1)
        let newest = await new MetaLog(nor, 0, 2, budget()).mount()
        expect(newest[1].body.toString()).toBe("after the wrap")
        expect(newest[1].seq).toBe(0)
        // fill sector 0, wrap onto sector 1: the current sector is the one with the small numbers
        const again = new MetaLog(nor, 0, 2, budget())
        await again.mount()
        let last = ""
        for (let i = 0; again.currentSector === 0; i++) {
            last = `snapshot ${i}`
            await again.append(1, Buffer.from(last.padEnd(200, ".")), !again.fits(200))
        }
        const third = new MetaLog(nor, 0, 2, budget())
        newest = await third.mount()
        expect(third.currentSector).toBe(1)
        expect(newest[1].body.toString().startsWith(last + ".")).toBe(true)
        expect(newest[2].body.toString()).toBe("progress")
        expect(await third.append(3, Buffer.from("x"), false)).toBe(newest[1].seq + 1)
    })

    it("a device whose log crosses the wrap keeps every update, confirm and journal", async () => {
        const nor = norFlash(8)
        await provisionV1({ name: "", nor, flash: nor })
        await rebaseLog(nor, 0xffffffff - 3)
        expect((await reboot(nor)).boot).toMatchObject({ version: "1_0_0", wrote: false })
        let crossed = false
        for (let i = 0; i < 4; i++) {
            const img = makeImage(`2_0_${i}`, 8192, 50 + i)
            let { store } = await reboot(nor)
            // a journal record per KB: dozens of appends per update
            await receive(store, img, { block: 1024, journalEvery: 1 })
            await store.activate()
            let r = await reboot(nor)
            expect(r.boot).toMatchObject({ version: img.version, trial: true, wrote: true })
            await r.store.confirm()
            r = await reboot(nor)
            expect(r.boot).toMatchObject({ version: img.version, trial: false, wrote: false })
            // a receive interrupted mid-way resumes from its last journal record
            store = r.store
            await store.startReceive({ version: `3_0_${i}`, size: 4096 })
            await store.write(0, Buffer.alloc(1024, 7))
            await store.saveJournal(1024, 1024, Buffer.alloc(8, i))
            r = await reboot(nor)
            expect(r.store.journal()).toMatchObject({ version: `3_0_${i}`, written: 1024, verified: 1024 })
            if ((await maxSeq(nor)) >= 0xfffffff0 && (await records(nor)).some(x => x.seq < 100)) crossed = true
        }
        expect(crossed).toBe(true) // the log really held both sides of the wrap
    })

    it("power cuts at every operation of a log that wraps its sequence numbers", async () => {
        const base = SCENARIOS.find(s => s.name === "metadata log wrap-around")!
        const sc = {
            ...base,
            name: "log wrap-around across the u32 wrap",
            async setup(d: Device) {
                await base.setup(d)
                await rebaseLog(d.nor, 0xffffffff - 2)
            },
        }
        const st = await sweepScenario(() => {
            const nor = norFlash(8)
            return { name: "NOR unit 8", nor, flash: nor }
        }, sc)
        console.log(`power-cut sweep across the u32 wrap: ${st.points} points, ${st.failures.length} unrecoverable`)
        if (st.failures.length) console.log(st.failures.slice(0, 10).join("\n"))
        expect(st.failures).toEqual([])
        expect(st.points).toBeGreaterThan(100)
    }, 60_000)
})
