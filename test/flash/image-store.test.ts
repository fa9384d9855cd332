// The image store's behaviour without faults: the update cycle, the boot decision, rollback,
// downgrade protection, the journal, typed errors, and "a normal boot writes nothing".
import { describe, expect, it } from "vitest"
import { BlockImageStore, ImageStore, storeState } from "../../src/flash/image-store"
import { StoreError } from "../../src/flash/store-port"
import { NorFlash } from "../../sim/flash/nor-flash"
import { BACKENDS, FAST, LAYOUT, makeImage, midstateFor, newStore, norFlash, provision, reboot, receive } from "./fixtures"

const v1 = makeImage("1_0_0", 7001, 1)
const v2 = makeImage("2_0_0", 8192, 2)
const v3 = makeImage("3_0_0", 5003, 3)

async function slotBytes(store: ImageStore, slot: number, len: number) {
    return await store.read(slot, 0, len)
}

describe.each(BACKENDS)("image store on %s", (_name, make) => {
    it("refuses to boot a blank device, installs a first image permanently", async () => {
        const { flash: f, nor } = await make()
        const s = newStore(f)
        await s.mount()
        await expect(s.boot()).rejects.toMatchObject({ reason: "no-image" })
        await receive(s, v1)
        await expect(s.activate()).rejects.toMatchObject({ reason: "bad-state" })
        await s.activate(true)
        const { store, boot } = await reboot(f)
        expect(boot).toMatchObject({ slot: 0, version: "1_0_0", trial: false, rolledBack: false, wrote: false })
        expect((await slotBytes(store, 0, v1.bytes.length)).equals(v1.bytes)).toBe(true)
    })

    it("update, trial boot, confirm; a normal boot writes nothing", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        const slot = await receive(s, v2)
        expect(slot).toBe(1)
        expect(storeState(s).slots[1]).toMatchObject({ state: "ready", version: "2_0_0", size: 8192, crc32: v2.crc })
        expect(await s.activate()).toBe(1)
        expect(storeState(s).slots[1].state).toBe("trial")
        let r = await reboot(f)
        expect(r.boot).toMatchObject({ slot: 1, version: "2_0_0", trial: true, wrote: true })
        expect(await r.store.confirm()).toBe(true)
        expect(await r.store.confirm()).toBe(false)
        const before = nor.ops
        r = await reboot(f)
        expect(r.boot).toMatchObject({ slot: 1, trial: false, wrote: false })
        r = await reboot(f)
        expect(nor.ops).toBe(before) // two boots, no program, no erase
        expect(storeState(r.store).slots[0]).toMatchObject({ state: "confirmed", version: "1_0_0" })
    })

    it("rolls an unconfirmed trial back after its boots", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await receive(s, v2)
        await s.activate()
        let r = await reboot(f)
        expect(r.boot.slot).toBe(1)
        r = await reboot(f) // no confirm: crashed or watchdog
        expect(r.boot).toMatchObject({ slot: 0, version: "1_0_0", rolledBack: true })
        expect(storeState(r.store).slots[1].state).toBe("bad")
        r = await reboot(f)
        expect(r.boot).toMatchObject({ slot: 0, rolledBack: false, wrote: false })
    })

    it("gives a trial maxTrialBoots boots", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1, { maxTrialBoots: 3 })
        await receive(s, v2)
        await s.activate()
        const seen: number[] = []
        for (let i = 0; i < 5; i++) seen.push((await reboot(f, { maxTrialBoots: 3 })).boot.slot)
        expect(seen).toEqual([1, 1, 1, 0, 0])
    })

    it("reject() falls back at once", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await receive(s, v2)
        await s.activate()
        const r = await reboot(f)
        await r.store.reject()
        await expect(r.store.startReceive({ version: "3_0_0", size: 10 })).rejects.toMatchObject({
            reason: "reboot-required",
        })
        const r2 = await reboot(f)
        expect(r2.boot).toMatchObject({ slot: 0, version: "1_0_0", wrote: false })
        expect(storeState(r2.store).slots[1].state).toBe("bad")
    })

    it("refuses a download while the running image is on trial, and abandons a trial not yet booted", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await receive(s, v2)
        await s.activate()
        // not rebooted yet: a newer plan replaces the pending trial, slot 0 stays active
        expect(await s.startReceive({ version: "3_0_0", size: 100 })).toBe(1)
        expect(storeState(s).active).toBe(0)
        let r = await reboot(f)
        expect(r.boot.slot).toBe(0)
        await receive(r.store, v3)
        await r.store.activate()
        r = await reboot(f)
        expect(r.boot).toMatchObject({ slot: 1, version: "3_0_0", trial: true })
        await expect(r.store.startReceive({ version: "4_0_0", size: 100 })).rejects.toMatchObject({
            reason: "trial-pending",
        })
    })

    it("downgrade protection", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v2)
        const old = makeImage("1_9_9", 3000, 9)
        await expect(receive(s, old)).rejects.toMatchObject({ reason: "downgrade" })
        expect(storeState(s).slots[1].state).toBe("empty") // nothing written
        // the rule is set once, with the store: a store that allows downgrades receives it ...
        const lenient = (await reboot(f, { allowDowngrade: true })).store
        await receive(lenient, old)
        // ... and one that does not (the same flash, power-cycled) refuses to activate it
        await expect((await reboot(f)).store.activate()).rejects.toMatchObject({ reason: "downgrade" })
        await (await reboot(f, { allowDowngrade: true })).store.activate()
        expect((await reboot(f)).boot.version).toBe("1_9_9")
    })

    it("marks a corrupt download bad and never activates it", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await s.startReceive({ version: "2_0_0", size: v2.bytes.length, crc32: v2.crc })
        const bad = Buffer.from(v2.bytes)
        bad[5000] ^= 0x10
        await s.write(0, bad)
        await expect(s.markReady()).rejects.toMatchObject({ reason: "digest-mismatch" })
        expect(storeState(s).slots[1].state).toBe("bad")
        await expect(s.activate()).rejects.toMatchObject({ reason: "bad-state" })
        // a caller whose received bytes differ from the slot's (its CRC-32 as `expected`) also marks it bad
        await s.startReceive({ version: "2_0_0", size: v2.bytes.length })
        await s.write(0, v2.bytes)
        await expect(s.markReady(v2.crc ^ 1)).rejects.toMatchObject({ reason: "flash-mismatch" })
        expect(storeState(s).slots[1].state).toBe("bad")
        // and a caller whose own check failed says so with markBad()
        await s.startReceive({ version: "2_0_0", size: v2.bytes.length })
        await s.write(0, v2.bytes)
        await s.markBad()
        expect(storeState(s).slots[1].state).toBe("bad")
        await expect(s.activate()).rejects.toBeInstanceOf(StoreError)
    })

    it("validates writes: alignment, size, overwrite, arguments", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await expect(s.write(0, Buffer.alloc(8))).rejects.toMatchObject({ reason: "bad-state" })
        await expect(s.startReceive({ version: "2_0_0", size: LAYOUT.slotSize + 1 })).rejects.toMatchObject({ reason: "too-large" })
        await expect(s.startReceive({ version: "", size: 10 })).rejects.toMatchObject({ reason: "bad-argument" })
        await expect(s.startReceive({ version: "2", size: 10, sha256: "abc" })).rejects.toMatchObject({ reason: "bad-argument" })
        await s.startReceive({ version: "2_0_0", size: 1000 })
        await expect(s.write(4, Buffer.alloc(8))).rejects.toMatchObject({ reason: "unaligned" })
        await expect(s.write(0, Buffer.alloc(12))).rejects.toMatchObject({ reason: "unaligned" })
        await expect(s.write(992, Buffer.alloc(16))).rejects.toMatchObject({ reason: "too-large" })
        await s.write(0, Buffer.alloc(16, 1))
        await expect(s.write(8, Buffer.alloc(8))).rejects.toMatchObject({ reason: "not-blank" })
        await s.write(992, Buffer.alloc(8, 2)) // the last write may be short only when it ends the image
        await expect(s.saveJournal(2000, 0)).rejects.toMatchObject({ reason: "bad-argument" })
        await expect(s.saveJournal(10, 0, Buffer.alloc(201))).rejects.toMatchObject({ reason: "bad-argument" })
    })

    it("keeps the download journal across reboots; a resumed write needs erased flash", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await s.startReceive({ version: v2.version, size: v2.bytes.length, sha256: v2.sha256, md5: v2.md5, crc32: v2.crc })
        await s.write(0, v2.bytes.subarray(0, 5120))
        await s.saveJournal(5120, 4096, midstateFor(5120))
        const r = await reboot(f)
        expect(r.boot.slot).toBe(0)
        const j = r.store.journal()
        expect(j).toMatchObject({ slot: 1, version: "2_0_0", total: 8192, sha256: v2.sha256, md5: v2.md5, written: 5120, verified: 4096 })
        expect(j.midstate.equals(midstateFor(5120))).toBe(true)
        // resume in the middle of sector 1 of the slot: the rest of it is erased, so this works
        await r.store.write(5120, v2.bytes.subarray(5120))
        await r.store.markReady()
        expect(r.store.journal()).toBe(null)
        // resuming over written bytes is refused
        const r2 = await reboot(f)
        await r2.store.startReceive({ version: "3_0_0", size: 8192 })
        await r2.store.write(0, Buffer.alloc(6144, 0))
        const r3 = await reboot(f)
        await expect(r3.store.write(4104, Buffer.alloc(8))).rejects.toMatchObject({ reason: "not-blank" })
        await r3.store.write(4096, Buffer.alloc(8)) // restarting at a sector start erases that sector
    })

    it("a journal record from an older download is not in force", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await s.startReceive({ version: "2_0_0", size: 8192 })
        await s.saveJournal(1024, 1024)
        await s.startReceive({ version: "2_0_1", size: 8192 })
        const r = await reboot(f)
        expect(r.store.journal()).toMatchObject({ version: "2_0_1", written: 0, verified: 0 })
    })

    it("verifyOnBoot falls back when the active slot's bytes are damaged", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await receive(s, v2)
        await s.activate(true)
        nor.flipBit(LAYOUT.slotAddress[1] + 100, 3)
        expect((await reboot(f)).boot.slot).toBe(1) // metadata alone cannot see it
        const r = await reboot(f, { verifyOnBoot: true })
        expect(r.boot).toMatchObject({ slot: 0, version: "1_0_0", rolledBack: true })
        expect(storeState(r.store).slots[1].state).toBe("bad")
    })

    it("a trial boot checks what it runs even without verifyOnBoot: a damaged new image never runs", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        await receive(s, v2)
        await s.activate() // on trial
        nor.flipBit(LAYOUT.slotAddress[1] + 100, 3)
        const r = await reboot(f)
        expect(r.boot).toMatchObject({ slot: 0, version: "1_0_0", rolledBack: true, trial: false })
        expect(storeState(r.store).slots[1].state).toBe("bad")
        // an intact trial image runs on trial as before
        const g = await make()
        const s2 = await provision(g.flash, v1)
        await receive(s2, v2)
        await s2.activate()
        expect((await reboot(g.flash)).boot).toMatchObject({ slot: 1, version: v2.version, trial: true })
    })

    it("rejects a bad layout", async () => {
        const { flash: f } = await make()
        expect(() => new ImageStore(f, { ...LAYOUT, metaSectors: 1 }, FAST)).toThrow(/2 sectors/)
        expect(() => new ImageStore(f, { ...LAYOUT, slotAddress: [8192, 12288] }, FAST)).toThrow(/overlap/)
        expect(() => new ImageStore(f, { ...LAYOUT, slotAddress: [8192, f.geometry.size - 4096] }, FAST)).toThrow(/past the device/)
        expect(() => new ImageStore(f, { ...LAYOUT, slotSize: 5000 }, FAST)).toThrow(/whole sectors/)
        const big = new NorFlash({ sectorSize: 65536, programUnit: 8, size: 65536 * 8 })
        expect(() => new ImageStore(big, { metaAddress: 0, metaSectors: 2, slotAddress: [131072, 262144], slotSize: 131072 }, FAST)).toThrow(/bad-layout/)
    })

    it("wears each sector of the receiving slot once per update", async () => {
        const { flash: f, nor } = await make()
        const s = await provision(f, v1)
        const before = Array.from(nor.eraseCounts)
        await receive(s, v2, { block: 512 })
        const after = Array.from(nor.eraseCounts)
        const slot1 = [4, 5]
        for (const sec of slot1) expect(after[sec] - before[sec]).toBe(1)
        for (const sec of [2, 3]) expect(after[sec]).toBe(before[sec]) // the running slot: untouched
    })
})

describe("before the first boot()", () => {
    it("a device with a confirmed image refuses a receive and an activation until it boots; a blank one takes its first image", async () => {
        const nor = norFlash()
        await provision(nor, v1)
        const s = newStore(nor)
        await s.mount()
        await expect(s.startReceive({ version: "2_0_0", size: 100 })).rejects.toThrow("image store: reboot-required: boot() before receiving")
        await expect(s.activate(true)).rejects.toThrow("image store: reboot-required: boot() before activating")
        const blank = newStore(norFlash())
        await blank.mount()
        expect(await blank.startReceive({ version: "1_0_0", size: 100 })).toBe(0)
    })
})

describe("BlockImageStore (the boards' store: ImageStore without the rebuild path)", () => {
    it("has no openImage, writeImage or state(); a block download, activation, trial boot and confirm work as with ImageStore", async () => {
        const nor = norFlash()
        await provision(nor, v1)
        const s = new BlockImageStore(nor, LAYOUT, FAST)
        const methods = s as unknown as Record<string, unknown>
        expect([methods.openImage, methods.writeImage, methods.state]).toEqual([undefined, undefined, undefined])
        await s.mount()
        expect(await s.boot()).toMatchObject({ slot: 0, version: "1_0_0", trial: false })
        expect(await receive(s, v2)).toBe(1)
        expect(await s.activate()).toBe(1)
        const b = new BlockImageStore(nor, LAYOUT, FAST)
        await b.mount()
        expect(await b.boot()).toMatchObject({ slot: 1, version: "2_0_0", trial: true })
        expect(await b.confirm()).toBe(true)
        const { store, boot } = await reboot(nor)
        expect(boot).toMatchObject({ slot: 1, version: "2_0_0", trial: false, wrote: false })
        expect(storeState(store).slots[1]).toMatchObject({ state: "confirmed", version: "2_0_0" })
    })
})
