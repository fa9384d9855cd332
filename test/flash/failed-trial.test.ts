// The store's memory of a package whose image failed its self-test (failedTrial(), failed-trial.ts):
// kept as the bad slot's why in the STATE record, so it costs no flash of its own and survives reboots;
// one package, forgotten when a different package is received; a rollback (a trial that never
// confirmed: a crash, or a power cut during the trial boot) is not remembered.
import { describe, expect, it } from "vitest"
import { decodeState, encodeState, initialState } from "../../src/flash/store-records"
import { failedTrial } from "../../src/flash/failed-trial"
import { BadWhy } from "../../src/flash/store-port"
import { makeImage, norDevice, provision, reboot, receive } from "./fixtures"
import { storeState } from "../../src/flash/image-store"

const v1 = makeImage("1_0_0", 7001, 1)
const v2 = makeImage("2_0_0", 8192, 2)
const v3 = makeImage("3_0_0", 5003, 3)

describe("failedTrial(): the package that failed its self-test", () => {
    it("is remembered from reject() on, across reboots, until another package is received into the slot", async () => {
        const { flash: f } = norDevice()
        const s = await provision(f, v1)
        expect(s.failedTrial()).toBe(null)
        await receive(s, v2)
        await s.activate()
        let r = await reboot(f)
        expect(r.store.failedTrial()).toBe(null) // on trial: not failed (yet)
        await r.store.reject()
        for (let i = 0; i < 3; i++) {
            r = await reboot(f)
            expect(r.boot).toMatchObject({ slot: 0, version: "1_0_0" })
            expect(r.store.failedTrial()).toEqual({ version: "2_0_0", size: 8192 })
        }
        // a different package reuses the slot: the memory is gone (it holds one package)
        await r.store.startReceive({ version: "3_0_0", size: v3.bytes.length })
        expect(r.store.failedTrial()).toBe(null)
        r = await reboot(f)
        expect(r.store.failedTrial()).toBe(null)
        await receive(r.store, v3)
        await r.store.activate()
        r = await reboot(f)
        await r.store.reject()
        r = await reboot(f)
        expect(r.store.failedTrial()).toEqual({ version: "3_0_0", size: 5003 })
    })

    it("a trial rolled back because it never confirmed (a crash, or a cut during the trial boot) is not remembered", async () => {
        const { flash: f } = norDevice()
        const s = await provision(f, v1)
        await receive(s, v2)
        await s.activate()
        await reboot(f) // the trial boot dies before its self-test
        const r = await reboot(f)
        expect(r.boot).toMatchObject({ slot: 0, rolledBack: true })
        expect(storeState(r.store).slots[1].state).toBe("bad")
        expect(r.store.failedTrial()).toBe(null)
    })

    it("a package the boot stage's image check refused is remembered too; a CRC failure (the flash, not the package) is not", () => {
        for (const [why, remembered] of [[BadWhy.ImageCheck, true], [BadWhy.VersionMismatch, true], [BadWhy.Crc, false], [BadWhy.Download, false]] as const) {
            const st = initialState()
            st.active = 0
            st.slots[0] = { ...st.slots[0], state: "confirmed", version: "1_0_0", size: 10, crcKnown: true }
            st.slots[1] = { ...st.slots[1], state: "bad", version: "2_0_0", size: 20, why }
            // through a record, as the next boot reads it
            const back = decodeState(encodeState(st))
            expect(failedTrial(back, 0), `why ${why}`).toEqual(remembered ? { version: "2_0_0", size: 20 } : null)
        }
        // before the boot decision nothing runs, so nothing is "the other slot"
        const st = initialState()
        st.slots[1] = { ...st.slots[1], state: "bad", version: "2_0_0", size: 20, why: BadWhy.SelfTest }
        expect(failedTrial(st, -1)).toBe(null)
    })
})
