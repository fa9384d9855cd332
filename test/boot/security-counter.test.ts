// The store's security counter (issue 17): kept in the STATE record (the u16 that was reserved),
// raised only by the confirm of a trial (in the confirm's own record) or a permanent activation,
// never lowered; a trial that rolls back (used its boots, or rejected) leaves it as it was, so the
// image it falls back to still passes the counter rule (MCUboot once raised it before the revert);
// a power cut at every point of the confirm leaves either (trial, old counter) or (confirmed, new
// counter); records written before the counter existed read as 0; it is a u32 (counter-32.test.ts).
import { describe, expect, it } from "vitest"
import { ImageStore, runningSlot, storeState } from "../../src/flash/image-store"
import { BadWhy } from "../../src/flash/store-port"
import { decodeState, encodeState, initialState } from "../../src/flash/store-records"
import { PowerCut } from "../../sim/flash/nor-flash"
import { makeImage, newStore, norFlash, receive } from "../flash/fixtures"

const v1 = makeImage("1_0_0", 5000, 1)
const v2 = makeImage("2_0_0", 6000, 2)

async function mounted(f: ReturnType<typeof norFlash>, boot = true): Promise<ImageStore> {
    const s = newStore(f)
    await s.mount()
    if (boot) await s.boot()
    return s
}

/** A device with v1 confirmed at counter 3 and v2 activated on trial (not booted yet). */
async function trialOfV2() {
    const f = norFlash()
    const s = await mounted(f, false)
    await receive(s, v1)
    await s.activate(true, 3)
    const s2 = await mounted(f)
    expect(s2.securityCounter()).toBe(3)
    await receive(s2, v2)
    await s2.activate()
    return f
}

describe("the store's security counter", () => {
    it("starts at 0; a permanent activation raises it; persisted across mounts", async () => {
        const f = norFlash()
        const s = await mounted(f, false)
        expect(s.securityCounter()).toBe(0)
        await receive(s, v1)
        await s.activate(true, 3)
        expect((await mounted(f)).securityCounter()).toBe(3)
    })

    it("a confirmed trial raises it, in the confirm's record; a lower counter never lowers it", async () => {
        const f = await trialOfV2()
        const s = await mounted(f)
        expect(storeState(s).slots[runningSlot(s)].state).toBe("trial")
        expect(s.securityCounter()).toBe(3) // booting the trial did not raise it
        expect(await s.confirm(7)).toBe(true)
        expect((await mounted(f)).securityCounter()).toBe(7)
        const t = await mounted(f)
        await receive(t, makeImage("3_0_0", 4000, 3))
        await t.activate()
        const u = await mounted(f)
        await u.confirm(5)
        expect((await mounted(f)).securityCounter()).toBe(7)
    })

    it("a trial that rolls back (its boots used without a confirm) leaves the counter unchanged", async () => {
        const f = await trialOfV2()
        await mounted(f) // the trial boot: the program never confirms (a crash, a hang)
        const after = await mounted(f) // rolled back
        expect(runningSlot(after)).toBe(0)
        expect(storeState(after).slots[1]).toMatchObject({ state: "bad", why: BadWhy.NotConfirmed })
        expect(after.securityCounter()).toBe(3)
    })

    it("a trial that fails its self-test (reject) leaves the counter unchanged", async () => {
        const f = await trialOfV2()
        const s = await mounted(f)
        await s.reject()
        const after = await mounted(f)
        expect(runningSlot(after)).toBe(0)
        expect(after.securityCounter()).toBe(3)
    })

    it("a power cut at every point of the confirm: either still on trial with the old counter, or confirmed with the new", async () => {
        let points = 0
        for (const kind of ["before", "after", "torn"] as const)
            for (let op = 1; op <= 4; op++) {
                const f = await trialOfV2()
                const s = await mounted(f)
                f.armCut({ op, kind, at: 0.5, seed: op })
                let cut = false
                try {
                    await s.confirm(9)
                } catch (e) {
                    if (!(e instanceof PowerCut)) throw e
                    cut = true
                }
                f.disarm()
                f.powerOn()
                const st = storeState((await mounted(f, false)))
                const slot = st.slots[1]
                if (slot.state === "confirmed") expect(st.counter).toBe(9)
                else {
                    expect(slot.state).toBe("trial")
                    expect(st.counter).toBe(3)
                }
                if (cut) points++
            }
        expect(points).toBeGreaterThan(0)
    })

    it("the record: the counter in bytes 2–3 (u16 LE); a record from before (zeros there) reads 0; above 65 535 kept whole (format 2)", async () => {
        const st = initialState()
        st.counter = 0x1234
        const b = encodeState(st)
        expect([b[2], b[3]]).toEqual([0x34, 0x12])
        expect(decodeState(b)!.counter).toBe(0x1234)
        b[2] = 0
        b[3] = 0 // what every encoder wrote before the counter: "reserved u16"
        expect(decodeState(b)!.counter).toBe(0)
        const f = norFlash()
        const s = await mounted(f, false)
        await receive(s, v1)
        await s.activate(true, 70000)
        expect((await mounted(f)).securityCounter()).toBe(70000) // the 16-bit store kept 65 535 (test/boot/counter-32.test.ts)
        // past a u32 (no image carries one: SEC_CNT is 4 bytes) it is kept as 2^32 − 1, never wrapped to a small value
        const g = norFlash()
        const t = await mounted(g, false)
        await receive(t, v1)
        await t.activate(true, 2 ** 32 + 5)
        expect((await mounted(g)).securityCounter()).toBe(0xffffffff)
    })
})
