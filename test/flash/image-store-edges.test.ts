// The image store's promises that no other unit test pinned (issue 14's mutation run left them
// surviving in src/flash/image-store.ts): its defaults and options, "mount() first", the boot
// stage's rollback flag, which slot boot() checks and what it says when nothing is left, a boot
// whose record the metadata cannot take, reported(), the security counter, reject() and confirm()
// refusals, startReceive's size and record, markBad(why), the journal's small records. Each is
// asserted exactly: states, reasons, messages, and what a remount reads back.
import { describe, expect, it } from "vitest"
import { FlashError } from "../../src/flash/flash"
import { MetaLog } from "../../src/flash/meta-log"
import { BlockImageStore, ImageStore, storeState } from "../../src/flash/image-store"
import { BadWhy, BlockHasher } from "../../src/flash/store-port"
import { encodeState, MAX_STATE_BODY, REC_PROGRESS, REC_STATE, StoreState } from "../../src/flash/store-records"
import { StepBudget } from "../../src/lib/step-budget"
import { NorFlash, PowerCut } from "../../sim/flash/nor-flash"
import { FAST, FLASH_SIZE, LAYOUT, makeImage, midstateFor, newStore, norFlash, provision, reboot, receive, SECTOR } from "./fixtures"

const v1 = makeImage("1_0_0", 7001, 1)
const v2 = makeImage("2_0_0", 8192, 2)
const v3 = makeImage("3_0_0", 5003, 3)

/** slot 0 confirmed v1, slot 1 holds v2 activated on trial (not booted yet). */
async function trialPending(opts = {}) {
    const nor = norFlash()
    const s = await provision(nor, v1, opts)
    await receive(s, v2)
    await s.activate()
    return nor
}

/** slot 1 confirmed v2 (v1 before it in slot 0), slot 0 holds v3 activated on trial. */
async function trialInSlot0() {
    const nor = norFlash()
    const s = await provision(nor, v1)
    await receive(s, v2)
    await s.activate()
    const r = await reboot(nor)
    expect(r.boot).toMatchObject({ slot: 1, trial: true })
    await r.store.confirm()
    const r2 = await reboot(nor)
    expect(await receive(r2.store, v3)).toBe(0)
    await r2.store.activate()
    return nor
}

/** Flip a bit of a slot's image: its CRC no longer matches. */
function damage(nor: NorFlash, slot: number) {
    nor.flipBit(LAYOUT.slotAddress[slot] + 100, 3)
}

/** Both metadata sectors past their endurance: every record append fails with a FlashError. */
function wearOutMetadata(nor: NorFlash) {
    for (let i = 0; i < LAYOUT.metaSectors; i++) nor.eraseCounts[LAYOUT.metaAddress / SECTOR + i] = nor.endurance + 1
}

/** Append a STATE record the store would not write itself (another firmware's, or a crafted edge). */
async function writeState(nor: NorFlash, st: StoreState) {
    const log = new MetaLog(nor, LAYOUT.metaAddress, LAYOUT.metaSectors, new StepBudget(1 << 30, async () => {}))
    await log.mount()
    await log.append(REC_STATE, encodeState(st), true)
}

async function mounted(nor: NorFlash, opts = {}): Promise<ImageStore> {
    const s = newStore(nor, opts)
    await s.mount()
    return s
}

const noHasher: BlockHasher = { update: async () => {}, save: () => Buffer.alloc(0) }

describe("options", () => {
    it("a store made without options has the defaults: two trial boots, no downgrade, 4 KB checkpoints", async () => {
        const nor = norFlash()
        const s = new ImageStore(nor, LAYOUT)
        expect(s.allowDowngrade).toBe(false)
        expect(s.outcomes).toBe(null)
        await s.mount()
        expect(await s.startReceive({ version: v1.version, size: v1.bytes.length, crc32: v1.crc })).toBe(0)
        expect(s.openImage(0)).toBe(SECTOR)
        await s.write(0, v1.bytes)
        await s.markReady()
        await s.activate(true)
        const boots = []
        for (let i = 0; i < 4; i++) {
            const b = new ImageStore(nor, LAYOUT)
            await b.mount()
            boots.push(await b.boot())
            if (i === 0) {
                await expect(b.startReceive({ version: "0_9_0", size: 100 })).rejects.toMatchObject({ reason: "downgrade" })
                await receive(b, v2)
                await b.activate()
            }
        }
        expect(boots.map(b => [b.slot, b.trial, b.rolledBack])).toEqual([[0, false, false], [1, true, false], [1, true, false], [0, false, true]])
    })

    it("checkpointBytes is rounded up to whole sectors, at least one", async () => {
        for (const [asked, every] of [[undefined, SECTOR], [0, SECTOR], [1, SECTOR], [SECTOR, SECTOR], [SECTOR + 1, 2 * SECTOR], [2 * SECTOR, 2 * SECTOR]] as [number, number][]) {
            const s = await provision(norFlash(), v1, { checkpointBytes: asked })
            await s.startReceive({ version: v2.version, size: v2.bytes.length })
            expect(s.openImage(0)).toBe(every)
        }
    })

    it("a resume point is a verified mark on the checkpoint interval", async () => {
        const s = await provision(norFlash(), v1, { checkpointBytes: 2 * SECTOR })
        await s.startReceive({ version: v2.version, size: v2.bytes.length })
        await s.write(0, v2.bytes.subarray(0, SECTOR))
        await s.saveJournal(SECTOR, SECTOR, midstateFor(SECTOR))
        expect(s.resumePoint()).toBe(0) // 4 KB is no checkpoint of an 8 KB interval
        await s.write(SECTOR, v2.bytes.subarray(SECTOR))
        await s.saveJournal(2 * SECTOR, 2 * SECTOR, midstateFor(2 * SECTOR))
        expect(s.resumePoint()).toBe(2 * SECTOR)
    })

    it("yieldEvery: bytes of CRC work between yields, 1024 by default", async () => {
        const yieldsOfMarkReady = async (yieldEvery?: number) => {
            let n = 0
            const s = await provision(norFlash(), v1, { yieldEvery, yielder: async () => void n++ })
            await s.startReceive({ version: v2.version, size: v2.bytes.length })
            await s.write(0, v2.bytes)
            n = 0
            await s.markReady() // the CRC over 8 KB in 512-byte reads
            return n
        }
        expect(await yieldsOfMarkReady(undefined)).toBe(8)
        expect(await yieldsOfMarkReady(4096)).toBe(2)
        expect(await yieldsOfMarkReady(1 << 30)).toBe(0)
    })

    it("metadata sectors too small for a whole STATE record are a bad layout", () => {
        const nor = new NorFlash({ sectorSize: 1024, programUnit: 8, size: 16 * 1024 })
        const layout = { metaAddress: 0, metaSectors: 2, slotAddress: [2048, 9216], slotSize: 7168 }
        expect(() => new ImageStore(nor, layout, FAST)).toThrow(`image store: bad-layout: metadata sectors too small for a ${MAX_STATE_BODY}-byte state`)
        const fits = new NorFlash({ sectorSize: 2048, programUnit: 8, size: 16 * 2048 })
        expect(() => new ImageStore(fits, { metaAddress: 0, metaSectors: 2, slotAddress: [4096, 4096 + 7 * 2048], slotSize: 7 * 2048 }, FAST)).not.toThrow()
    })
})

describe("before mount() and before boot()", () => {
    it("every state query and change needs mount() first: a typed bad-state", async () => {
        const s = newStore(norFlash())
        const first = { reason: "bad-state", message: "image store: bad-state: mount() first" }
        await expect(s.boot()).rejects.toMatchObject(first)
        await expect(s.reported()).rejects.toMatchObject(first)
        await expect(s.startReceive({ version: "1_0_0", size: 10 })).rejects.toMatchObject(first)
        await expect(s.activate(true)).rejects.toMatchObject(first)
        await expect(s.write(0, Buffer.alloc(8))).rejects.toMatchObject(first)
        await expect(s.markReady()).rejects.toMatchObject(first)
        for (const f of [() => s.securityCounter(), () => s.journal(), () => s.interrupted(), () => s.failedTrial(), () => storeState(s), () => s.openImage(0), () => s.resumePoint()])
            expect(f).toThrow(expect.objectContaining(first))
    })

    it("the running slot's operations need boot() first: reboot-required", async () => {
        const nor = norFlash()
        await provision(nor, v1)
        const s = await mounted(nor)
        const first = { reason: "reboot-required", message: "image store: reboot-required: boot() first" }
        await expect(s.confirm()).rejects.toMatchObject(first)
        await expect(s.reject()).rejects.toMatchObject(first)
        await expect(s.readImage(false, 0, 8)).rejects.toMatchObject(first)
        expect(() => s.runningSize()).toThrow(expect.objectContaining(first))
        // once booted, slot 0 runs
        await s.boot()
        expect(s.runningSize()).toBe(v1.bytes.length)
        expect((await s.readImage(false, 0, 8)).equals(v1.bytes.subarray(0, 8))).toBe(true)
    })

    it("without a receive: no journal, no resume point, and the receive's operations say why", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        expect(s.resumePoint()).toBe(0)
        const none = { reason: "bad-state", message: "image store: bad-state: no slot is receiving" }
        await expect(s.write(0, Buffer.alloc(8))).rejects.toMatchObject(none)
        await expect(s.saveJournal(0, 0)).rejects.toMatchObject(none)
        await expect(s.markReady()).rejects.toMatchObject(none)
        await expect(s.markBad()).rejects.toMatchObject(none)
        await expect(s.readImage(true, 0, 8)).rejects.toMatchObject(none)
        expect(() => s.openBlocks(0, noHasher)).toThrow(expect.objectContaining(none))
        expect(() => s.openImage(0)).toThrow(expect.objectContaining(none))
    })
})

describe("a boot stage outside the program (externalBoot): what the program's boot() learns", () => {
    async function programBoot(nor: NorFlash) {
        const p = newStore(nor, { externalBoot: true })
        await p.mount()
        return await p.boot()
    }

    it("a slot the stage's image check refused, or whose CRC failed, is this boot's rollback", async () => {
        for (const [why, hurt] of [[BadWhy.ImageCheck, false], [BadWhy.Crc, true]] as [number, boolean][]) {
            const nor = await trialPending()
            if (hurt) damage(nor, 1)
            const stage = await mounted(nor)
            expect(await stage.boot(async slot => (hurt || slot === 0 ? 0 : BadWhy.ImageCheck))).toMatchObject({ slot: 0, rolledBack: true, why })
            expect(await programBoot(nor)).toMatchObject({ slot: 0, version: v1.version, trial: false, rolledBack: true, wrote: false, why, failedVersion: v2.version })
        }
    })

    it("a failure the program itself reported (reject) is news, not a rollback of this boot", async () => {
        for (const why of [undefined, BadWhy.SelfTest, BadWhy.VersionMismatch]) {
            const nor = await trialPending()
            const stage = await mounted(nor)
            await stage.boot(async () => 0)
            const p = newStore(nor, { externalBoot: true })
            await p.mount()
            await p.boot()
            await p.reject(why)
            expect(await programBoot(nor)).toMatchObject({ slot: 0, rolledBack: false, why: why || BadWhy.SelfTest, failedVersion: v2.version })
        }
    })

    it("an active slot that is not bootable is no-image, with the stage named", async () => {
        const nor = norFlash()
        const s = await mounted(nor)
        await s.startReceive({ version: v1.version, size: v1.bytes.length })
        const st = storeState(s)
        st.active = 0 // receiving: not bootable
        await writeState(nor, st)
        await expect(programBoot(nor)).rejects.toMatchObject({ reason: "no-image", message: "image store: no-image: the boot stage left no bootable slot active" })
        await expect(programBoot(norFlash())).rejects.toMatchObject({ message: "image store: no-image: the boot stage left no bootable slot active" })
        // a confirmed slot 0 is bootable
        const ok = norFlash()
        await provision(ok, v1)
        expect(await programBoot(ok)).toMatchObject({ slot: 0, version: v1.version, trial: false, rolledBack: false, why: 0, failedVersion: "" })
    })
})

describe("boot(): which slot is checked, and what is said when nothing is left", () => {
    it("a blank device is no-image however it boots (verifyOnBoot, a stage's check)", async () => {
        const msg = { reason: "no-image", message: "image store: no-image: no bootable slot" }
        await expect((await mounted(norFlash())).boot()).rejects.toMatchObject(msg)
        await expect((await mounted(norFlash(), { verifyOnBoot: true })).boot()).rejects.toMatchObject(msg)
        let checked = 0
        await expect((await mounted(norFlash())).boot(async () => {
            checked++
            return 0
        })).rejects.toMatchObject(msg)
        expect(checked).toBe(0)
    })

    it("a trial in slot 0 is checked too: damaged, it is marked bad for its CRC and confirmed slot 1 runs", async () => {
        const nor = await trialInSlot0()
        damage(nor, 0)
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 1, version: v2.version, trial: false, rolledBack: true, wrote: true, why: BadWhy.Crc, failedVersion: v3.version })
        expect(storeState(r.store).slots[0]).toMatchObject({ state: "bad", why: BadWhy.Crc, unreported: true })
        expect(storeState(r.store).active).toBe(1)
        // and intact, it runs on trial
        const ok = await trialInSlot0()
        expect((await reboot(ok)).boot).toMatchObject({ slot: 0, version: v3.version, trial: true })
    })

    it("the only image damaged, with verifyOnBoot: no-image naming the slot, and nothing written", async () => {
        const nor = norFlash()
        await provision(nor, v1)
        damage(nor, 0)
        const s = await mounted(nor, { verifyOnBoot: true })
        const ops = nor.ops
        await expect(s.boot()).rejects.toMatchObject({ reason: "no-image", message: "image store: no-image: slot 0 fails its check and there is no fallback" })
        expect(nor.ops).toBe(ops)
        expect(storeState(s).slots[0].state).toBe("confirmed")
    })

    it("both images damaged, with verifyOnBoot: no-image, no intact slot to fall back to", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await receive(s, v2)
        await s.activate()
        damage(nor, 0)
        damage(nor, 1)
        await expect((await mounted(nor, { verifyOnBoot: true })).boot()).rejects.toMatchObject({
            reason: "no-image",
            message: "image store: no-image: no intact slot to fall back to",
        })
        // a stage's check that refuses both: the same
        const nor2 = await trialPending()
        await expect((await mounted(nor2)).boot(async () => BadWhy.ImageCheck)).rejects.toMatchObject({ message: "image store: no-image: no intact slot to fall back to" })
    })

    it("without verifyOnBoot a trial boot checks the trial only: its fallback runs unchecked", async () => {
        const nor = await trialPending()
        damage(nor, 1)
        damage(nor, 0)
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 0, version: v1.version, rolledBack: true, why: BadWhy.Crc })
    })

    it("a confirmed slot whose CRC is not known (an older record) fails verifyOnBoot's check", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await receive(s, v2)
        await s.activate(true)
        const st = storeState(s)
        st.slots[1].crcKnown = false
        await writeState(nor, st)
        expect((await reboot(nor)).boot).toMatchObject({ slot: 1, wrote: false })
        const r = await reboot(nor, { verifyOnBoot: true })
        expect(r.boot).toMatchObject({ slot: 0, rolledBack: true, why: BadWhy.Crc })
    })
})

describe("boot(): an empty image never runs", () => {
    it("a rebuild recorded with 0 bytes is ready, but its trial boot fails the check and rolls back", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await s.startReceive({ version: "2_0_0", size: 100 })
        s.openImage(0)
        await s.markReady(undefined, 0)
        expect(storeState(s).slots[1]).toMatchObject({ state: "ready", size: 0, crc32: 0, crcKnown: true })
        await s.activate()
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 0, rolledBack: true, why: BadWhy.Crc, failedVersion: "2_0_0" })
    })
})

describe("boot() when the metadata cannot take its record", () => {
    it("a pending trial does not run unrecorded: the confirmed slot runs and the fault is returned", async () => {
        const nor = await trialPending()
        wearOutMetadata(nor)
        const s = await mounted(nor)
        const b = await s.boot()
        expect(b).toMatchObject({ slot: 0, version: v1.version, trial: false, rolledBack: true, wrote: false, why: 0 })
        expect(b.metaFault).toBeInstanceOf(FlashError)
        expect(b.metaFault.reason).toBe("worn-out")
        expect(storeState(s).slots[1]).toMatchObject({ state: "trial", bootsLeft: 1 }) // no boot spent
        expect(await s.confirm()).toBe(false) // slot 0 runs, confirmed
    })

    it("the confirmed slot is slot 1: it runs, not the trial in slot 0", async () => {
        const nor = await trialInSlot0()
        wearOutMetadata(nor)
        const b = (await reboot(nor)).boot
        expect(b).toMatchObject({ slot: 1, version: v2.version, trial: false, rolledBack: true })
        expect(b.metaFault).toBeInstanceOf(FlashError)
    })

    it("with verifyOnBoot a damaged confirmed slot is not the way out: the checked trial runs unrecorded", async () => {
        const nor = await trialPending()
        damage(nor, 0)
        wearOutMetadata(nor)
        const s = await mounted(nor, { verifyOnBoot: true })
        const b = await s.boot()
        expect(b).toMatchObject({ slot: 1, version: v2.version, trial: true, wrote: false })
        expect(b.metaFault).toBeInstanceOf(FlashError)
        expect(storeState(s).slots[1]).toMatchObject({ state: "trial", bootsLeft: 1 })
    })

    it("with verifyOnBoot and both slots intact: the confirmed slot runs", async () => {
        const nor = await trialPending()
        wearOutMetadata(nor)
        const b = (await reboot(nor, { verifyOnBoot: true })).boot
        expect(b).toMatchObject({ slot: 0, trial: false, rolledBack: true })
        expect(b.metaFault).toBeInstanceOf(FlashError)
    })

    it("without verifyOnBoot nothing checks the confirmed slot: it runs though damaged", async () => {
        const nor = await trialPending()
        damage(nor, 0)
        wearOutMetadata(nor)
        const b = (await reboot(nor)).boot
        expect(b).toMatchObject({ slot: 0, trial: false })
        expect(b.metaFault).toBeInstanceOf(FlashError)
    })

    it("a boot that writes nothing has no fault; a power cut during the record is no fault to handle", async () => {
        const nor = norFlash()
        await provision(nor, v1)
        wearOutMetadata(nor)
        expect((await reboot(nor)).boot).toMatchObject({ slot: 0, wrote: false, metaFault: null })
        const cut = await trialPending()
        const s = await mounted(cut)
        cut.armCut({ op: 1, kind: "before" })
        await expect(s.boot()).rejects.toBeInstanceOf(PowerCut)
    })
})

describe("reported()", () => {
    it("with nothing unreported it writes nothing", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        const ops = nor.ops
        await s.reported()
        expect(nor.ops).toBe(ops)
    })

    it("a failure of slot 0 is kept, no longer news, across a reboot", async () => {
        const nor = await trialInSlot0()
        let r = await reboot(nor) // trial boot of slot 0, never confirmed
        r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 1, rolledBack: true, why: BadWhy.NotConfirmed, failedVersion: v3.version })
        await r.store.reported()
        expect(storeState(r.store).slots[0]).toMatchObject({ state: "bad", why: BadWhy.NotConfirmed, unreported: false })
        r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 1, rolledBack: false, why: 0, failedVersion: "" })
        expect(storeState(r.store).slots[0]).toMatchObject({ state: "bad", why: BadWhy.NotConfirmed, unreported: false })
    })
})

describe("confirm(), reject() and the security counter", () => {
    it("confirm raises the counter to the image's, never lowers it, and keeps it to 32 bits", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        expect(s.securityCounter()).toBe(0)
        const cycle = async (img: typeof v2, counter?: number) => {
            const { store } = await reboot(nor)
            await receive(store, img)
            await store.activate()
            const r = await reboot(nor)
            expect(await r.store.confirm(counter)).toBe(true)
            return r.store.securityCounter()
        }
        expect(await cycle(makeImage("2_0_0", 4000, 20), 7)).toBe(7)
        expect((await reboot(nor)).store.securityCounter()).toBe(7)
        expect(await cycle(makeImage("3_0_0", 4000, 30), 3)).toBe(7)
        expect(await cycle(makeImage("4_0_0", 4000, 40))).toBe(7)
        expect(await cycle(makeImage("5_0_0", 4000, 50), 8)).toBe(8)
        expect(await cycle(makeImage("6_0_0", 4000, 60), 2 ** 33)).toBe(0xffffffff)
        expect((await reboot(nor)).store.securityCounter()).toBe(0xffffffff)
    })

    it("activate raises the counter only when permanent, as confirm would", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await receive(s, v2)
        await s.activate(false, 9)
        expect(s.securityCounter()).toBe(0)
        const a = norFlash()
        const sa = await provision(a, v1)
        await receive(sa, v2)
        await sa.activate(true)
        expect(sa.securityCounter()).toBe(0)
        const b = norFlash()
        const sb = await provision(b, v1)
        await receive(sb, v2)
        await sb.activate(true, 9)
        expect(sb.securityCounter()).toBe(9)
        expect((await reboot(b)).store.securityCounter()).toBe(9)
        const c = await provision(norFlash(), v1)
        await receive(c, v2)
        await c.activate(true, 2 ** 40)
        expect(c.securityCounter()).toBe(0xffffffff)
    })

    it("a rejected image is not confirmed afterwards, and reject needs a trial", async () => {
        const nor = await trialPending()
        const r = await reboot(nor)
        await r.store.reject()
        expect(storeState(r.store)).toMatchObject({ active: 0 })
        expect(storeState(r.store).slots[1]).toMatchObject({ state: "bad", why: BadWhy.SelfTest, unreported: true })
        await expect(r.store.confirm()).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: running slot 1 is bad, not on trial" })
        await expect(r.store.reject()).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: running slot 1 is bad, not on trial" })
        await expect(r.store.activate()).rejects.toMatchObject({ reason: "reboot-required", message: "image store: reboot-required: running slot is bad" })
        const c = norFlash()
        const s = await provision(c, v1)
        await expect(s.reject(BadWhy.SelfTest)).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: running slot 0 is confirmed, not on trial" })
        expect(storeState(s).slots[0].state).toBe("confirmed")
    })

    it("a trial with no confirmed image beside it cannot be rejected (nothing to fall back to)", async () => {
        const nor = norFlash()
        const s = await mounted(nor)
        await receive(s, v1)
        const st = storeState(s)
        st.active = 0
        st.slots[0].state = "trial"
        st.slots[0].bootsLeft = 2
        await writeState(nor, st)
        // before boot(): something is active, so no receive and no activation yet
        const before = await mounted(nor)
        await expect(before.startReceive({ version: "2_0_0", size: 100 })).rejects.toMatchObject({ reason: "reboot-required", message: "image store: reboot-required: boot() before receiving" })
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 0, trial: true })
        await expect(r.store.reject()).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: no confirmed slot to fall back to" })
        expect(storeState(r.store).slots[0].state).toBe("trial")
    })
})

describe("startReceive()", () => {
    it("the size is a whole number of bytes, 1 up to the slot's size", async () => {
        const s = await provision(norFlash(), v1)
        for (const size of [0, -1, 10.5, LAYOUT.slotSize + 1, NaN])
            await expect(s.startReceive({ version: "2_0_0", size })).rejects.toMatchObject({
                reason: "too-large",
                message: `image store: too-large: image of ${size} bytes, slots hold ${LAYOUT.slotSize}`,
            })
        expect(storeState(s).slots[1].state).toBe("empty")
        expect(await s.startReceive({ version: "2_0_0", size: LAYOUT.slotSize })).toBe(1)
        expect(await s.startReceive({ version: "2_0_0", size: 1 })).toBe(1)
    })

    it("the receiving record: the plan, nothing else of the slot's past, and no progress; a remount reads it back", async () => {
        const nor = await trialPending()
        let r = await reboot(nor)
        await r.store.reject(BadWhy.VersionMismatch) // slot 1: bad, unreported, with a why
        r = await reboot(nor)
        const plan = { version: "3_0_0", size: 5003, sha256: v3.sha256, md5: v3.md5, crc32: 0xfedcba98 }
        expect(await r.store.startReceive(plan)).toBe(1)
        const want = {
            state: "receiving",
            bootsLeft: 0,
            version: "3_0_0",
            size: 5003,
            crc32: 0xfedcba98,
            crcKnown: true,
            sha256: Buffer.from(v3.sha256, "hex"),
            md5: Buffer.from(v3.md5, "hex"),
            why: 0,
            unreported: false,
        }
        expect(storeState(r.store).slots[1]).toEqual(want)
        expect(storeState(r.store).progress).toEqual({ written: 0, verified: 0, midstate: Buffer.alloc(0) })
        const back = await reboot(nor)
        expect(back.boot).toMatchObject({ slot: 0, why: 0, failedVersion: "" }) // the reused slot's failure is gone
        expect(storeState(back.store).slots[1]).toEqual(want)
        // no CRC in the plan: none known, 0 recorded
        await back.store.startReceive({ version: "3_0_0", size: 100 })
        expect(storeState(back.store).slots[1]).toMatchObject({ crc32: 0, crcKnown: false, sha256: Buffer.alloc(0), md5: Buffer.alloc(0) })
        // a CRC of 0 is a CRC
        await back.store.startReceive({ version: "3_0_0", size: 100, crc32: 0 })
        expect(storeState(back.store).slots[1]).toMatchObject({ crc32: 0, crcKnown: true })
    })

    it("a download that fails its checks is recorded bad for the download, and is no boot news", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await s.startReceive({ version: "2_0_0", size: v2.bytes.length, crc32: (v2.crc ^ 1) >>> 0 })
        await s.write(0, v2.bytes)
        await s.saveJournal(4096, 4096, midstateFor(4096))
        await expect(s.markReady()).rejects.toMatchObject({ reason: "digest-mismatch" })
        const want = { state: "bad", size: v2.bytes.length, crc32: v2.crc, crcKnown: false, why: BadWhy.Download, unreported: false }
        expect(storeState(s).slots[1]).toMatchObject(want)
        expect(storeState(s).progress).toEqual({ written: 0, verified: 0, midstate: Buffer.alloc(0) })
        expect(s.nextOffset()).toBe(0)
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 0, why: 0, failedVersion: "", rolledBack: false })
        expect(storeState(r.store).slots[1]).toMatchObject(want)
        expect(r.store.failedTrial()).toBe(null)
        // markBad() of a receive: the same record, its CRC unmeasured
        await r.store.startReceive({ version: "2_0_0", size: 100, crc32: 5 })
        await r.store.markBad()
        expect(storeState(r.store).slots[1]).toMatchObject({ state: "bad", size: 100, crc32: 0, crcKnown: false, why: BadWhy.Download, unreported: false })
    })
})

describe("markBad(why): a verified image its application refused", () => {
    it("the ready slot becomes bad with that why, news for the next boot; without a ready slot it is refused", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await expect(s.markBad(BadWhy.ImageCheck)).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: no slot is ready" })
        await receive(s, v2)
        await s.markBad(BadWhy.ImageCheck)
        expect(storeState(s).slots[1]).toMatchObject({ state: "bad", why: BadWhy.ImageCheck, unreported: true, version: v2.version })
        expect(s.interrupted()).toBe(false)
        await expect(s.activate()).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: slot 1 is bad, not ready" })
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: 0, why: BadWhy.ImageCheck, failedVersion: v2.version, rolledBack: false })
    })
})

describe("activate()", () => {
    it("says which slot is not ready, and that a first image must be permanent", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await expect(s.activate()).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: slot 1 is empty, not ready" })
        await s.startReceive({ version: "2_0_0", size: 100 })
        await expect(s.activate(true)).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: slot 1 is receiving, not ready" })
        const blank = await mounted(norFlash())
        await receive(blank, v1)
        await expect(blank.activate()).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: a first image has no fallback: activate it permanent" })
        expect(await blank.activate(true)).toBe(0)
        expect(storeState(blank)).toMatchObject({ active: 0 })
        expect(storeState(blank).slots[0]).toMatchObject({ state: "confirmed", bootsLeft: 0 })
    })

    it("a trial gets maxTrialBoots boots, recorded", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1, { maxTrialBoots: 5 })
        await receive(s, v2)
        expect(await s.activate()).toBe(1)
        expect(storeState(s).slots[1]).toMatchObject({ state: "trial", bootsLeft: 5 })
        expect(storeState((await reboot(nor)).store).slots[1]).toMatchObject({ state: "trial", bootsLeft: 4 })
    })
})

describe("the journal's records", () => {
    it("a save is one small PROGRESS record while the sector has room, a STATE when it has not; every save reads back", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        const newest = async () => {
            const recs = await new MetaLog(nor, LAYOUT.metaAddress, LAYOUT.metaSectors, new StepBudget(1 << 30, async () => {})).mount()
            return recs[REC_PROGRESS] && recs[REC_PROGRESS].seq > recs[REC_STATE].seq ? "progress" : "state"
        }
        // a run of saves: small records, and a STATE (which wraps the log) only when one does not fit
        await s.startReceive({ version: v2.version, size: v2.bytes.length })
        nor.resetCounters()
        const kinds: string[] = []
        for (let i = 1; i <= 60; i++) {
            await s.saveJournal(8 * i, 8 * i, midstateFor(i))
            kinds.push(await newest())
            expect(s.journal()).toMatchObject({ written: 8 * i, verified: 8 * i })
        }
        const states = kinds.filter(k => k === "state").length
        expect(states).toBeGreaterThan(0)
        expect(states).toBe(nor.eraseOps)
        expect(kinds.length - states).toBeGreaterThan(50)
        expect(nor.eraseOps).toBeGreaterThan(0)
        const r = await reboot(nor)
        expect(r.store.journal()).toMatchObject({ written: 480, verified: 480 })
        expect(r.store.journal().midstate.equals(midstateFor(60))).toBe(true)
    })

    it("a first image is received into slot 0, and its journal is slot 0's", async () => {
        const nor = norFlash()
        const s = await mounted(nor)
        expect(await s.startReceive({ version: v1.version, size: v1.bytes.length, md5: v1.md5 })).toBe(0)
        await s.write(0, v1.bytes.subarray(0, SECTOR))
        await s.saveJournal(SECTOR, SECTOR, midstateFor(SECTOR))
        const j = { slot: 0, version: v1.version, total: v1.bytes.length, md5: v1.md5, written: SECTOR, verified: SECTOR }
        expect(s.journal()).toMatchObject(j)
        expect(s.interrupted()).toBe(true)
        const again = await mounted(nor)
        expect(again.journal()).toMatchObject(j)
        expect(again.resumePoint()).toBe(SECTOR)
    })

    it("the midstate is copied: the caller may reuse its buffer", async () => {
        const s = await provision(norFlash(), v1)
        await s.startReceive({ version: v2.version, size: v2.bytes.length })
        const m = midstateFor(1)
        await s.saveJournal(8, 8, m)
        m.fill(0)
        expect(s.journal().midstate.equals(midstateFor(1))).toBe(true)
    })

    it("openBlocks after openImage is a block download again: the journal is bound by the package's size", async () => {
        const s = await provision(norFlash(), v1)
        await s.startReceive({ version: "2_0_0", size: 1000 })
        s.openImage(0)
        await s.saveJournal(SECTOR, SECTOR) // a rebuild may pass the package's size
        s.openBlocks(0, noHasher)
        await expect(s.saveJournal(SECTOR, SECTOR)).rejects.toMatchObject({ reason: "bad-argument", message: "image store: bad-argument: journal written=4096 verified=4096 midstate=0" })
        await s.saveJournal(1000, 1000)
        // and a new receive after a rebuild is a block download until openImage
        s.openImage(0)
        await s.startReceive({ version: "2_0_1", size: 1000 })
        await expect(s.saveJournal(SECTOR, SECTOR)).rejects.toMatchObject({ reason: "bad-argument" })
    })
})

describe("BlockImageStore and ImageStore share one state", () => {
    it("storeState is a copy: changing it changes nothing in the store", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        const st = storeState(s)
        st.slots[0].state = "bad"
        st.active = 1
        expect(storeState(s)).toMatchObject({ active: 0 })
        expect(storeState(s).slots[0].state).toBe("confirmed")
        const b = new BlockImageStore(nor, LAYOUT, FAST)
        await b.mount()
        expect((await b.boot()).slot).toBe(0)
    })
})

describe("a record keeper beside the state (StoreOptions.outcomes)", () => {
    /** A keeper that only records what the store tells it. */
    function spy() {
        const calls: string[] = []
        const states: StoreState[] = []
        const keeper = {
            mounted(log: any, rec: any, st: StoreState) {
                calls.push(`mounted ${rec ? rec.type : "none"}`)
                expect(log).toBeInstanceOf(MetaLog)
                states.push(st)
            },
            async committed(st: StoreState) {
                calls.push("committed")
                states.push(st)
            },
            last: (): Buffer => null,
            told: () => false,
            keep: async () => {},
        }
        return { keeper: keeper as any, calls, states }
    }

    it("is told of every mount with the state in force, and of every STATE record, not of journal deltas", async () => {
        const nor = norFlash()
        const { keeper, calls, states } = spy()
        const s = new ImageStore(nor, LAYOUT, { ...FAST, outcomes: keeper })
        expect(s.outcomes).toBe(keeper)
        await s.mount()
        expect(calls).toEqual(["mounted none"])
        expect(states[0]).toEqual(storeState(s))
        await s.startReceive({ version: v1.version, size: v1.bytes.length })
        await s.write(0, v1.bytes)
        await s.saveJournal(SECTOR, SECTOR, midstateFor(1)) // a PROGRESS delta: the sector has room
        await s.markReady()
        await s.activate(true)
        expect(calls.map(c => c.split(" ")[0])).toEqual(["mounted", "committed", "committed", "committed"])
        expect(states.slice(1).map(st => st.slots[0].state)).toEqual(["receiving", "ready", "confirmed"])
        expect(states[3]).toEqual(storeState(s))
        const again = new ImageStore(nor, LAYOUT, { ...FAST, outcomes: keeper })
        await again.mount()
        expect(calls[4]).toBe("mounted none")
        expect(states[4]).toEqual(storeState(again))
    })
})

describe("more edges the mutation run found", () => {
    it("a first image ready in slot 0: interrupted, refusable with markBad(why), and its why is 0 while ready", async () => {
        const s = await mounted(norFlash())
        await receive(s, v1)
        expect(storeState(s).slots[0]).toMatchObject({ state: "ready", why: 0 })
        expect(s.interrupted()).toBe(true)
        await s.markBad(BadWhy.ImageCheck)
        expect(storeState(s).slots[0]).toMatchObject({ state: "bad", why: BadWhy.ImageCheck })
    })

    it("after a reset mid-receive the journal is a block download's until openImage", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await s.startReceive({ version: "2_0_0", size: 1000 })
        const r = await reboot(nor)
        await expect(r.store.saveJournal(SECTOR, SECTOR)).rejects.toMatchObject({ reason: "bad-argument" })
        r.store.openImage(0)
        await r.store.saveJournal(SECTOR, SECTOR)
    })

    it("openImage(0) restarts a rebuild even past a checkpoint", async () => {
        const s = await provision(norFlash(), v1)
        await s.startReceive({ version: "2_0_0", size: 1000 })
        s.openImage(0)
        await s.saveJournal(SECTOR, SECTOR, midstateFor(1))
        expect(s.resumePoint()).toBe(SECTOR)
        expect(s.openImage(0)).toBe(SECTOR)
    })

    it("a sector written from the journal's mark on leaves the log as it was", async () => {
        const nor = norFlash()
        const s = await provision(nor, v1)
        await s.startReceive({ version: v2.version, size: v2.bytes.length })
        await s.write(0, v2.bytes.subarray(0, SECTOR))
        await s.saveJournal(SECTOR, SECTOR, midstateFor(1))
        const r = await reboot(nor)
        const seq = async () => {
            const recs = await new MetaLog(nor, LAYOUT.metaAddress, LAYOUT.metaSectors, new StepBudget(1 << 30, async () => {})).mount()
            return Math.max(...recs.filter(x => x).map(x => x.seq))
        }
        const before = await seq()
        await r.store.write(SECTOR, v2.bytes.subarray(SECTOR))
        expect(await seq()).toBe(before)
    })

    it("a mount reads the log once when its newest STATE decodes", async () => {
        const nor = norFlash()
        await provision(nor, v1)
        nor.resetCounters()
        await new MetaLog(nor, LAYOUT.metaAddress, LAYOUT.metaSectors, new StepBudget(1 << 30, async () => {})).mount()
        const once = nor.readOps
        nor.resetCounters()
        await mounted(nor)
        expect(nor.readOps).toBe(once)
    })

    it("the messages name the digest and the pending trial", async () => {
        const nor = await trialPending()
        const r = await reboot(nor)
        await expect(r.store.startReceive({ version: "3_0_0", size: 10 })).rejects.toMatchObject({ reason: "trial-pending", message: "image store: trial-pending: confirm or reject the running image first" })
        await r.store.confirm()
        await expect(r.store.startReceive({ version: "3_0_0", size: 10, sha256: "ab" })).rejects.toMatchObject({ message: "image store: bad-argument: sha256 must be 64 hex digits" })
        await expect(r.store.startReceive({ version: "3_0_0", size: 10, md5: "ab" })).rejects.toMatchObject({ message: "image store: bad-argument: md5 must be 32 hex digits" })
    })
})
