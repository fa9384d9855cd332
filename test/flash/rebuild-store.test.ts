// The store's side of a rebuild (issue 18: a delta or compressed package): the receive keeps the
// package's plan, the agent writes the image with writeImage and journals on the store's
// interval with its own midstate, reads the running slot (the base) and what it wrote, and
// markReady records the image's own size.
import { describe, expect, it } from "vitest"
import { crc32 } from "../../src/lib/crc32"
import { LAYOUT, makeImage, newStore, norFlash, provision, reboot, SECTOR } from "./fixtures"
import { storeState } from "../../src/flash/image-store"

const v1 = makeImage("1_0_0", 7001, 1)
const image = makeImage("2_0_0", 8000, 2).bytes // the rebuilt image: larger than its package
const PACKAGE = 1500 // the plan's size: the package's

async function rebuilding() {
    const nor = norFlash()
    const s = await provision(nor, v1)
    expect(await s.startReceive({ version: "2_0_0", size: PACKAGE, md5: "00".repeat(16) })).toBe(1)
    return { nor, s }
}

describe("a rebuild through the store port", () => {
    it("writes the image past the package's size, journals with the agent's midstate, and records the image's size when ready", async () => {
        const { nor, s } = await rebuilding()
        expect(s.openImage(0)).toBe(SECTOR)
        expect(s.runningSize()).toBe(v1.bytes.length)
        expect((await s.readImage(false, 0, 100)).equals(v1.bytes.subarray(0, 100))).toBe(true)
        for (let off = 0; off < image.length; off += 1024) {
            const n = Math.min(1024, image.length - off)
            await s.writeImage(off, image.subarray(off, off + n), n) // the last write, 832 bytes, is whole units
            if (off + n === SECTOR) await s.saveJournal(SECTOR, SECTOR, Buffer.from([0xd7, 1]))
        }
        expect(s.journal()).toMatchObject({ total: PACKAGE, written: SECTOR, verified: SECTOR })
        expect(s.resumePoint()).toBe(SECTOR)
        expect((await s.readImage(true, 0, image.length)).equals(image)).toBe(true)
        await s.markReady(undefined, image.length)
        expect(storeState(s).slots[1]).toMatchObject({ state: "ready", size: image.length, crc32: crc32(image), crcKnown: true })
        await s.activate()
        const r = await reboot(nor) // a trial boot checks the slot's CRC over the recorded size
        expect(r.boot).toMatchObject({ slot: 1, version: "2_0_0", trial: true })
    })

    it("pads an unaligned last write with 0xFF; nothing may follow it", async () => {
        const { s } = await rebuilding()
        s.openImage(0)
        await s.writeImage(0, image, 1001)
        expect((await s.readImage(true, 0, 1008)).subarray(1001).every(b => b === 0xff)).toBe(true)
        await expect(s.writeImage(1001, image.subarray(1001), 7)).rejects.toMatchObject({ reason: "unaligned" })
        await s.markReady(undefined, 1001)
        expect(storeState(s).slots[1]).toMatchObject({ state: "ready", size: 1001, crc32: crc32(image.subarray(0, 1001)) })
    })

    it("refuses a journal past the slot, a write past it, and an open at another point than 0 or the checkpoint", async () => {
        const { s } = await rebuilding()
        expect(() => s.openImage(SECTOR)).toThrow(/resume point/)
        s.openImage(0)
        await expect(s.saveJournal(LAYOUT.slotSize + SECTOR, LAYOUT.slotSize + SECTOR, Buffer.from([0xd7, 1]))).rejects.toMatchObject({ reason: "bad-argument" })
        await expect(s.writeImage(LAYOUT.slotSize, image, 8)).rejects.toMatchObject({ reason: "too-large" })
    })

    it("without openImage a journal past the package's size is refused, as before rebuilds", async () => {
        const { s } = await rebuilding()
        await expect(s.saveJournal(SECTOR, SECTOR, Buffer.from([0xd7, 1]))).rejects.toMatchObject({ reason: "bad-argument" })
    })

    it("resumes after a reset at the checkpoint: the sector there is erased again, whatever a cut left in it", async () => {
        const { nor, s } = await rebuilding()
        s.openImage(0)
        await s.writeImage(0, image, SECTOR)
        await s.saveJournal(SECTOR, SECTOR, Buffer.from([0xd7, 1]))
        await s.writeImage(SECTOR, Buffer.alloc(1024, 0x00), 1024) // then the power goes: zeros where the image's bytes belong
        const { store } = await reboot(nor)
        expect(store.journal()).toMatchObject({ written: SECTOR, verified: SECTOR, midstate: Buffer.from([0xd7, 1]) })
        expect(store.openImage(store.resumePoint())).toBe(SECTOR)
        await store.writeImage(SECTOR, image.subarray(SECTOR), image.length - SECTOR)
        expect((await store.readImage(true, 0, image.length)).equals(image)).toBe(true)
    })
})
