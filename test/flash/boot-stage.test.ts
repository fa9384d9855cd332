// The store's side of a boot stage outside the program (the simulator's host, a board's C stage):
// boot(check) marks a slot that fails the stage's image check bad with its why and runs the
// other; externalBoot makes the program's own boot() learn that choice without counting a
// second trial boot; the why of a bad slot is the last outcome, kept across reboots, news until
// reported().
import { describe, expect, it } from "vitest"
import { BadWhy } from "../../src/flash/store-port"
import type { StoreOptions } from "../../src/flash/store-config"
import { decodeState, encodeState } from "../../src/flash/store-records"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { FAST, LAYOUT, norFlash, newStore, makeImage, provision, receive } from "./fixtures"

const v1 = makeImage("1_0_0", 7001, 1)
const v2 = makeImage("2_0_0", 8192, 2)

async function withTrial(opts: StoreOptions = {}) {
    const f = norFlash()
    const s = await provision(f, v1, opts)
    await receive(s, v2)
    await s.activate()
    return f
}

describe("a boot stage outside the program", () => {
    it("a trial image that fails the stage's check is marked bad with its why; the confirmed image runs", async () => {
        const f = await withTrial()
        const stage = newStore(f)
        await stage.mount()
        const checked: number[] = []
        const boot = await stage.boot(async slot => {
            checked.push(slot)
            return slot === 1 ? BadWhy.ImageCheck : 0
        })
        expect(checked).toEqual([1, 0]) // the fallback is checked too
        expect(boot).toMatchObject({ slot: 0, version: "1_0_0", trial: false, rolledBack: true, why: BadWhy.ImageCheck, failedVersion: "2_0_0" })
        expect(storeState(stage).slots[1]).toMatchObject({ state: "bad", why: BadWhy.ImageCheck, unreported: true })
    })

    it("the program's boot() with externalBoot learns the stage's choice and spends no second trial boot", async () => {
        const f = await withTrial()
        const stage = newStore(f)
        await stage.mount()
        const chosen = await stage.boot(async () => 0)
        expect(chosen).toMatchObject({ slot: 1, trial: true, wrote: true })
        const left = storeState(stage).slots[1].bootsLeft
        const program = newStore(f, { externalBoot: true })
        await program.mount()
        expect(await program.boot()).toMatchObject({ slot: 1, version: "2_0_0", trial: true, rolledBack: false, wrote: false, why: 0 })
        expect(storeState(program).slots[1].bootsLeft).toBe(left)
        expect(await program.confirm()).toBe(true)
        const again = newStore(f, { externalBoot: true })
        await again.mount()
        expect(await again.boot()).toMatchObject({ slot: 1, trial: false })
    })

    it("a trial that used its boots is rolled back by the stage; the program sees the rollback once it is reported", async () => {
        const f = await withTrial()
        for (let i = 0; i < 2; i++) {
            const stage = newStore(f)
            await stage.mount()
            await stage.boot(async () => 0) // boot 1: trial (never confirmed); boot 2: rolled back
        }
        const program = newStore(f, { externalBoot: true })
        await program.mount()
        expect(await program.boot()).toMatchObject({ slot: 0, rolledBack: true, why: BadWhy.NotConfirmed, failedVersion: "2_0_0" })
        await program.reported()
        const later = newStore(f, { externalBoot: true })
        await later.mount()
        expect(await later.boot()).toMatchObject({ slot: 0, rolledBack: false, why: 0 })
        // the outcome stays on record until the slot is reused
        expect(storeState(later).slots[1]).toMatchObject({ state: "bad", why: BadWhy.NotConfirmed, unreported: false })
    })

    it("a self-test reject is news for the next boot but not a rollback of that boot", async () => {
        const f = await withTrial()
        const stage = newStore(f)
        await stage.mount()
        await stage.boot(async () => 0)
        const program = newStore(f, { externalBoot: true })
        await program.mount()
        await program.boot()
        await program.reject(BadWhy.VersionMismatch)
        const next = newStore(f)
        await next.mount()
        expect(await next.boot(async () => 0)).toMatchObject({ slot: 0, rolledBack: false, why: BadWhy.VersionMismatch, failedVersion: "2_0_0" })
    })

    it("by default a trial gets two boots: one unlucky reset does not undo a good upgrade, a second one rolls it back", async () => {
        const f = await withTrial({ maxTrialBoots: undefined }) // activated by a store with its own default
        const boots = []
        for (let i = 0; i < 3; i++) {
            const s = new ImageStore(f, LAYOUT, FAST) // the store's own defaults, not the fixture's strict one
            await s.mount()
            boots.push(await s.boot())
        }
        expect(boots.map(b => [b.slot, b.trial])).toEqual([[1, true], [1, true], [0, false]])
        expect(boots[2]).toMatchObject({ rolledBack: true, why: BadWhy.NotConfirmed })
    })

    it("externalBoot with no bootable active slot is no-image, not a guess", async () => {
        const f = norFlash()
        const s = newStore(f, { externalBoot: true })
        await s.mount()
        await expect(s.boot()).rejects.toMatchObject({ reason: "no-image" })
    })

    it("the why and the news bit round-trip through a STATE record; older records read as why 0", async () => {
        const f = await withTrial()
        const s = newStore(f)
        await s.mount()
        await s.boot(async slot => (slot === 1 ? BadWhy.ImageCheck : 0))
        const st = storeState(s)
        const back = decodeState(encodeState(st))
        expect(back.slots[1]).toMatchObject({ state: "bad", why: BadWhy.ImageCheck, unreported: true })
        const old = encodeState(st)
        // slot 0 starts at byte 8: its flags byte is byte 10; a format-1 writer before the why bits wrote 0 or 1
        old[10] = 1
        expect(decodeState(old).slots[0]).toMatchObject({ crcKnown: true, why: 0, unreported: false })
    })
})
