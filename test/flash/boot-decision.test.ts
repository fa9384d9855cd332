// The pure boot decision (boot-decision.ts), case by case: every branch of decideBoot and
// unrecordedBoot with the exact state it hands back, so that a boot stage in another language
// (boot/, the C stage) has a specification it can be held to, and mutants of the rules die here
// rather than only in the long sweeps.
import { describe, expect, it } from "vitest"
import { confirmedSlot, decideBoot, unrecordedBoot } from "../../src/flash/boot-decision"
import { BadWhy } from "../../src/flash/store-port"
import { emptySlot, initialState, SlotState, StoreState } from "../../src/flash/store-records"

function st(active: number, s0: [SlotState, number?], s1: [SlotState, number?]): StoreState {
    const s = initialState()
    s.active = active
    const slots: [SlotState, number?][] = [s0, s1]
    slots.forEach(([state, boots], i) => (s.slots[i] = { ...emptySlot(), state, bootsLeft: boots ?? 0, version: `${i + 1}_0_0`, size: 100 }))
    return s
}

describe("confirmedSlot", () => {
    it("is the first confirmed slot, or -1", () => {
        expect(confirmedSlot(st(0, ["confirmed"], ["confirmed"]))).toBe(0)
        expect(confirmedSlot(st(0, ["trial", 1], ["confirmed"]))).toBe(1)
        expect(confirmedSlot(st(0, ["trial", 1], ["ready"]))).toBe(-1)
    })
})

describe("decideBoot", () => {
    it("a confirmed active slot: nothing changes, nothing to write", () => {
        const s = st(1, ["bad"], ["confirmed"])
        expect(decideBoot(s, -1)).toMatchObject({ slot: 1, changed: false, rolledBack: false, trial: false, why: "" })
    })

    it("a trial with boots left spends one and runs on trial", () => {
        const d = decideBoot(st(1, ["confirmed"], ["trial", 2]), -1)
        expect(d).toMatchObject({ slot: 1, changed: true, rolledBack: false, trial: true, why: "" })
        expect(d.next.slots[1]).toMatchObject({ state: "trial", bootsLeft: 1 })
        expect(d.next.active).toBe(1)
    })

    it("a trial with no boots left rolls back to the confirmed slot, marked bad as not confirmed, news", () => {
        const s = st(1, ["confirmed"], ["trial", 0])
        const d = decideBoot(s, -1)
        expect(d).toMatchObject({ slot: 0, changed: true, rolledBack: true, trial: false, why: "" })
        expect(d.next.active).toBe(0)
        expect(d.next.slots[1]).toMatchObject({ state: "bad", why: BadWhy.NotConfirmed, unreported: true })
        expect(s.slots[1].state).toBe("trial") // the input is not touched
    })

    it("the same rollback from slot 0 to slot 1", () => {
        const d = decideBoot(st(0, ["trial", 0], ["confirmed"]), -1)
        expect(d).toMatchObject({ slot: 1, changed: true, rolledBack: true, trial: false })
        expect(d.next.slots[0]).toMatchObject({ state: "bad", why: BadWhy.NotConfirmed })
    })

    it("a trial with no boots left and no confirmed fallback still runs, on trial, and spends nothing", () => {
        const d = decideBoot(st(0, ["trial", 0], ["empty"]), -1)
        expect(d).toMatchObject({ slot: 0, changed: false, rolledBack: false, trial: true })
        expect(d.next.slots[0]).toMatchObject({ state: "trial", bootsLeft: 0 })
    })

    it("a slot that failed its check is marked bad (image check, news) and the confirmed one runs", () => {
        const d = decideBoot(st(1, ["confirmed"], ["trial", 1]), 1)
        expect(d).toMatchObject({ slot: 0, changed: true, rolledBack: true, trial: false, why: "" })
        expect(d.next.active).toBe(0)
        expect(d.next.slots[1]).toMatchObject({ state: "bad", why: BadWhy.ImageCheck, unreported: true, bootsLeft: 1 })
    })

    it("a confirmed slot that failed its check gives way to the other confirmed slot", () => {
        const d = decideBoot(st(0, ["confirmed"], ["confirmed"]), 0)
        expect(d).toMatchObject({ slot: 1, changed: true, rolledBack: true })
        expect(d.next.active).toBe(1)
    })

    it("a failing slot with nothing to fall back to: no slot, and why", () => {
        const d = decideBoot(st(0, ["trial", 1], ["empty"]), 0)
        expect(d).toMatchObject({ slot: -1, why: "slot 0 fails its check and there is no fallback" })
    })

    it("nothing bootable: no slot, and why", () => {
        expect(decideBoot(st(-1, ["empty"], ["receiving"]), -1)).toMatchObject({ slot: -1, why: "no bootable slot", trial: false })
        expect(decideBoot(st(0, ["ready"], ["bad"]), -1)).toMatchObject({ slot: -1, why: "no bootable slot" })
    })

    it("an active slot that cannot boot (ready, bad, receiving) gives way to the confirmed one", () => {
        for (const bad of ["ready", "bad", "receiving", "empty"] as SlotState[]) {
            const d = decideBoot(st(0, [bad], ["confirmed"]), -1)
            expect(d, bad).toMatchObject({ slot: 1, changed: true, rolledBack: false, trial: false })
            expect(d.next.active).toBe(1)
        }
    })

    it("no active slot yet: the confirmed one is chosen and recorded", () => {
        const d = decideBoot(st(-1, ["empty"], ["confirmed"]), -1)
        expect(d).toMatchObject({ slot: 1, changed: true })
        expect(d.next.active).toBe(1)
    })
})

describe("unrecordedBoot (the metadata cannot take the decision)", () => {
    it("runs the confirmed slot, records nothing, spends no trial boot", () => {
        const s = st(1, ["confirmed"], ["trial", 2])
        const d = decideBoot(s, -1)
        const u = unrecordedBoot(s, d, -1)
        expect(u).toMatchObject({ slot: 0, changed: false, rolledBack: true, trial: false, why: "" })
        expect(u.next).toBe(s)
        expect(s.slots[1].bootsLeft).toBe(2)
    })

    it("the decision's own slot when the confirmed one is to be avoided (it failed its check), on trial as the state has it", () => {
        const s = st(1, ["confirmed"], ["trial", 2])
        const u = unrecordedBoot(s, decideBoot(s, -1), 0)
        expect(u).toMatchObject({ slot: 1, trial: true, rolledBack: false })
    })

    it("without a confirmed slot, the decision's own slot", () => {
        const s = st(0, ["trial", 1], ["empty"])
        expect(unrecordedBoot(s, decideBoot(s, -1), -1)).toMatchObject({ slot: 0, trial: true, rolledBack: false, changed: false })
    })

    it("without a confirmed slot, the decision's own slot even when a slot is to be avoided", () => {
        const s = st(0, ["trial", 1], ["empty"])
        expect(unrecordedBoot(s, decideBoot(s, -1), 1)).toMatchObject({ slot: 0, trial: true })
        expect(unrecordedBoot(s, decideBoot(s, -1), 0)).toMatchObject({ slot: 0, trial: true })
    })

    it("a rollback the decision made stays a rollback", () => {
        const s = st(1, ["confirmed"], ["trial", 0])
        const d = decideBoot(s, -1)
        expect(unrecordedBoot(s, d, -1)).toMatchObject({ slot: 0, rolledBack: true, trial: false })
    })
})
