// The OUTCOME record (issue 20): one per store, beside STATE and PROGRESS in the metadata log. It
// survives reboots, rollbacks and the log's wraps (the wrap erases the sector that held it), a power
// cut at any operation leaves the old or the new one, and the boot decision does not see it.
import { describe, expect, it } from "vitest"
import { encodeRecord } from "../../src/flash/meta-log"
import { REC_OUTCOME } from "../../src/flash/store-records"
import { OutcomeKeeper } from "../../src/flash/outcome-keeper"
import { everyCut } from "../sota/world"
import { LAYOUT, midstateFor, newStore, norFlash, provision, reboot, receive } from "./fixtures"
import { V1, V2, V3 } from "./harness"

/** Each store object keeps its own record keeper. */
const K = () => ({ outcomes: new OutcomeKeeper() })

const A = Buffer.from("outcome A: 1_0_0 -> 2_0_0 ok")
const B = Buffer.from("outcome B: 2_0_0 -> 3_0_0 self-test-failed")

describe("the OUTCOME record", () => {
    it("is none on a new store, and reads back after a reboot with its reported flag", async () => {
        const nor = norFlash()
        const s = await provision(nor, V1, K())
        expect(s.outcomes.last()).toBe(null)
        expect(s.outcomes.told()).toBe(false)
        await s.outcomes.keep(A, false)
        let r = await reboot(nor, K())
        expect(r.store.outcomes.last()).toEqual(A)
        expect(r.store.outcomes.told()).toBe(false)
        await r.store.outcomes.keep(r.store.outcomes.last(), true)
        r = await reboot(nor, K())
        expect(r.store.outcomes.last()).toEqual(A)
        expect(r.store.outcomes.told()).toBe(true)
        await r.store.outcomes.keep(B, false)
        r = await reboot(nor, K())
        expect(r.store.outcomes.last()).toEqual(B)
        expect(r.store.outcomes.told()).toBe(false)
    })

    it("refuses an empty or oversized body with a typed error", async () => {
        const s = await provision(norFlash(), V1, K())
        await expect(s.outcomes.keep(Buffer.alloc(0), false)).rejects.toMatchObject({ name: "StoreError", reason: "bad-argument" })
        await expect(s.outcomes.keep(Buffer.alloc(129, 1), false)).rejects.toMatchObject({ name: "StoreError", reason: "bad-argument" })
    })

    it("survives a rollback: a trial that is never confirmed goes back, the outcome stays", async () => {
        const nor = norFlash()
        const s = await provision(nor, V1, K())
        await receive(s, V2)
        await s.activate()
        await s.outcomes.keep(A, false)
        let r = await reboot(nor, K()) // the trial boot (one allowed)
        expect(r.boot.trial).toBe(true)
        r = await reboot(nor, K()) // not confirmed: rolled back
        expect(r.boot.rolledBack).toBe(true)
        expect(r.boot.version).toBe("1_0_0")
        expect(r.store.outcomes.last()).toEqual(A)
    })

    it("survives the log's wraps: it is written again after the STATE that opens a sector", async () => {
        const nor = norFlash()
        const s = await provision(nor, V1, K())
        await s.outcomes.keep(A, true)
        const erases0 = s.log.erases
        let store = s
        for (let i = 0; i < 6; i++) {
            await receive(store, i % 2 ? V3 : V2, { journalEvery: 1 })
            await store.markBad().catch(() => {})
            store = (await reboot(nor, K())).store
        }
        // more than one wrap of the two sectors: the sector that first held the record was erased
        let erases = 0
        for (let i = 0; i < LAYOUT.metaSectors; i++) erases += (nor as any).eraseCounts[i]
        expect(erases - erases0).toBeGreaterThanOrEqual(4)
        expect(store.outcomes.last()).toEqual(A)
        expect(store.outcomes.told()).toBe(true)
    })

    it("a power cut at any operation of a wrapping save leaves the old or the new outcome, never none", async () => {
        const nor = norFlash()
        const s = await provision(nor, V1, K())
        await s.outcomes.keep(A, false)
        // fill the current sector so that the next saves wrap
        await s.startReceive({ version: V2.version, size: V2.bytes.length })
        for (let i = 0; !(s as any).log.fits(300); i++) await s.saveJournal(0, 0, midstateFor(i))
        const snap = nor.snapshot()
        nor.resetCounters()
        const scenario = async () => {
            const st = newStore(nor, K())
            await st.mount()
            await st.outcomes.keep(B, false)
            for (let i = 0; i < 30; i++) await st.saveJournal(0, 0, midstateFor(i))
        }
        await scenario()
        const ops = nor.ops
        expect(ops).toBeGreaterThan(4)
        let sawB = 0
        for (const plan of everyCut(ops)) {
            nor.restore(snap)
            nor.resetCounters()
            nor.armCut(plan)
            await scenario().catch(e => {
                if (e.name !== "PowerCut") throw e
            })
            nor.powerOn()
            const st = newStore(nor, K())
            await st.mount()
            const o = st.outcomes.last()
            expect(o === null ? "none" : o.equals(A) || o.equals(B) ? "ok" : "garbage", `cut ${JSON.stringify(plan)}`).toBe("ok")
            if (o.equals(B)) sawB++
            // and the next wraps after the cut keep it
            const before = o
            for (let i = 0; i < 30; i++) await st.saveJournal(0, 0, midstateFor(i))
            const again = newStore(nor, K())
            await again.mount()
            expect(again.outcomes.last()).toEqual(before)
        }
        expect(sawB).toBeGreaterThan(0)
    })

    it("the boot decision ignores it: the same slot, trial and writes with or without a newest OUTCOME", async () => {
        for (const withOutcome of [false, true]) {
            const nor = norFlash()
            const s = await provision(nor, V1, K())
            await receive(s, V2)
            await s.activate()
            if (withOutcome) await s.outcomes.keep(B, false)
            // stores without a keeper (a program that keeps no outcomes) read the same log
            const r1 = await reboot(nor)
            const r2 = await reboot(nor)
            expect([r1.boot.slot, r1.boot.trial, r1.boot.rolledBack, r2.boot.slot, r2.boot.rolledBack, r2.boot.why]).toEqual([1, true, false, 0, true, 1])
        }
    })

    it("a record of a type nobody reads, newest in the log, changes nothing either (the C stage's rule too)", async () => {
        const nor = norFlash()
        const s = await provision(nor, V1, K())
        await s.outcomes.keep(A, false)
        // a future type 9 right after the outcome, written as the log would
        const log = (s as any).log
        await log.append(9, Buffer.from("from the future"), false)
        const r = await reboot(nor, K())
        expect(r.store.outcomes.last()).toEqual(A)
        expect(r.boot.version).toBe("1_0_0")
        expect(encodeRecord(REC_OUTCOME, 1, A, 8)[1]).toBe(3)
    })
})
