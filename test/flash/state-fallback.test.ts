// A newest STATE record whose CRC holds but whose body this build cannot decode (issue 14, item
// 2: a format a newer firmware wrote before it was rolled back) gives way to the newest STATE
// that decodes; it never turns into "no image" with both images intact.
import { describe, expect, it } from "vitest"
import { MetaLog } from "../../src/flash/meta-log"
import { REC_PROGRESS, REC_STATE, encodeState, initialState } from "../../src/flash/store-records"
import { StepBudget } from "../../src/lib/step-budget"
import { NorFlash } from "../../sim/flash/nor-flash"
import { LAYOUT, SECTOR, newStore, norFlash, reboot, receive } from "./fixtures"
import { V1, V2, liveness, provisionV1 } from "./harness"
import { storeState } from "../../src/flash/image-store"

const budget = () => new StepBudget(1 << 30, async () => {})

/** A STATE body as a newer firmware might write it: format 2, one more field, CRC and all valid. */
function futureState(): Buffer {
    const st = initialState()
    st.active = 1
    const b = Buffer.concat([encodeState(st), Buffer.from("v2 field")])
    b[1] = 2
    return b
}

/** The store's log, mounted, for appending records the store itself would not write. */
async function storeLog(nor: NorFlash): Promise<MetaLog> {
    const log = new MetaLog(nor, LAYOUT.metaAddress, LAYOUT.metaSectors, budget())
    await log.mount()
    return log
}

async function trialPending(nor: NorFlash) {
    await provisionV1({ name: "", nor, flash: nor })
    const { store } = await reboot(nor)
    await receive(store, V2)
    await store.activate()
}

describe("a newest STATE that does not decode", () => {
    it("the log hands over the newest record the caller's check accepts, in either sector", async () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: 4 * SECTOR })
        const log = new MetaLog(nor, 0, 2, budget())
        await log.mount()
        const good = (t: string) => Buffer.from(`good ${t}`)
        const check = (type: number, body: Buffer) => type !== 1 || body.toString().startsWith("good")
        await log.append(1, good("a"), true)
        await log.append(2, Buffer.from("delta"), false)
        await log.append(1, good("b"), false)
        await log.append(1, Buffer.from("unreadable 1"), false)
        await log.append(1, Buffer.from("unreadable 2"), false)
        let all = await new MetaLog(nor, 0, 2, budget()).mount()
        expect(all[1].body.toString()).toBe("unreadable 2") // without a check: the newest, as before
        let ok = await new MetaLog(nor, 0, 2, budget()).mount(check)
        expect(ok[1].body.toString()).toBe("good b")
        expect(ok[2].body.toString()).toBe("delta")
        // the unreadable records open the next sector; the readable one is only in the other
        const unreadable = Buffer.from("unreadable 3")
        while (log.fits(unreadable.length)) await log.append(9, Buffer.alloc(unreadable.length, 9), false)
        await log.append(1, unreadable, true)
        expect(log.currentSector).toBe(1)
        const again = new MetaLog(nor, 0, 2, budget())
        ok = await again.mount(check)
        expect(ok[1].body.toString()).toBe("good b")
        expect(again.currentSector).toBe(1)
        // the next record follows the newest of all, readable or not
        const seq = await again.append(1, good("c"), false)
        all = await new MetaLog(nor, 0, 2, budget()).mount()
        expect(all[1].seq).toBe(seq)
        expect(all[1].body.toString()).toBe("good c")
    })

    it("a confirmed device boots its image, not no-image, and keeps taking updates", async () => {
        const nor = norFlash(8)
        await provisionV1({ name: "", nor, flash: nor })
        await (await storeLog(nor)).append(REC_STATE, futureState(), true)
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 0, version: V1.version, trial: false, wrote: false })
        expect(storeState(r.store).slots[0]).toMatchObject({ state: "confirmed", version: V1.version })
        // what this build writes from here on is newer than the record it could not read
        expect(await liveness({ name: "", nor, flash: nor })).toBe("")
    })

    it("a pending trial still boots on trial and is confirmed or rolled back as before", async () => {
        for (const confirm of [true, false]) {
            const nor = norFlash(8)
            await trialPending(nor)
            await (await storeLog(nor)).append(REC_STATE, futureState(), true)
            let r = await reboot(nor)
            expect(r.boot).toMatchObject({ slot: 1, version: V2.version, trial: true, wrote: true })
            if (confirm) await r.store.confirm()
            r = await reboot(nor)
            expect(r.boot).toMatchObject(confirm ? { version: V2.version, trial: false } : { version: V1.version, rolledBack: true })
        }
    })

    it("the readable STATE is in the other sector: the log wrapped onto the unreadable one", async () => {
        const nor = norFlash(8)
        await trialPending(nor)
        const log = await storeLog(nor)
        const before = log.currentSector
        const future = futureState()
        // fill the current sector with a record type this build ignores, then wrap onto the other
        while (log.fits(future.length)) await log.append(9, Buffer.alloc(future.length, 9), false)
        await log.append(REC_STATE, future, true)
        expect(log.currentSector).toBe(1 - before)
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 1, version: V2.version, trial: true, wrote: true })
        await r.store.confirm()
        expect((await reboot(nor)).boot).toMatchObject({ version: V2.version, trial: false, wrote: false })
    })

    it("a download journal after the readable STATE still resumes; nothing readable at all is a blank device", async () => {
        const nor = norFlash(8)
        await provisionV1({ name: "", nor, flash: nor })
        const { store } = await reboot(nor)
        await store.startReceive({ version: "2_0_0", size: 8192 })
        await store.write(0, Buffer.alloc(4096, 1))
        await store.saveJournal(4096, 4096, Buffer.alloc(16, 2))
        await (await storeLog(nor)).append(REC_STATE, futureState(), true)
        const r = await reboot(nor)
        expect(r.store.journal()).toMatchObject({ version: "2_0_0", written: 4096, verified: 4096 })
        // only unreadable STATE records: no state this build can trust
        const blank = norFlash(8)
        const log = await storeLog(blank)
        await log.append(REC_STATE, futureState(), true)
        await log.append(REC_PROGRESS, Buffer.alloc(13), false)
        const s = newStore(blank)
        await s.mount()
        await expect(s.boot()).rejects.toMatchObject({ reason: "no-image" })
    })
})
