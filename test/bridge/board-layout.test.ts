// The boards' flash side without the board: the layout src/boards/common.ts uses, on the W25Q
// driver, over the command-level W25Q model, holding a DeviceScript-sized image through a full
// receive → verify → activate → trial boot → confirm cycle.
import { describe, expect, test } from "vitest"
import { boardLayout, BOARD_SLOT_SIZE } from "../../src/boards/layout"
import { ImageStore } from "../../src/flash/image-store"
import { W25qFlash } from "../../src/flash/w25q"
import { NorFlash } from "../../sim/flash/nor-flash"
import { W25qModel } from "../../sim/flash/w25q-model"
import { seeded } from "./rig"

describe("board flash layout", () => {
    test("metadata in the first two 4 KB sectors, then two 128 KB slots", () => {
        expect(boardLayout(4 << 20)).toEqual({ metaAddress: 0, metaSectors: 2, slotAddress: [8192, 8192 + 131072], slotSize: 131072 })
        expect(boardLayout(1 << 20, 60000).slotSize).toBe(61440) // rounded up to sectors
        expect(() => boardLayout(256 * 1024)).toThrow(/need 270336 bytes/)
    })

    test("a W25Q16 (2 MB) holds a 60 KB bytecode image through receive, activate, trial boot and confirm", async () => {
        const nor = new NorFlash({ sectorSize: 4096, programUnit: 1, size: 2 << 20 })
        const flash = await W25qFlash.open(new W25qModel(nor))
        expect(flash.geometry.size).toBe(2 << 20)
        const layout = boardLayout(flash.geometry.size, BOARD_SLOT_SIZE)
        const opts = { yielder: async () => {}, yieldEvery: 1 << 30 }
        const reopen = async () => {
            const s = new ImageStore(await W25qFlash.open(new W25qModel(nor)), layout, opts)
            await s.mount()
            return s
        }
        const put = async (s: ImageStore, version: string, image: Buffer) => {
            const slot = await s.startReceive({ version, size: image.length })
            for (let off = 0; off < image.length; off += 1024) await s.write(off, image.subarray(off, off + 1024))
            await s.markReady()
            return slot
        }
        // the factory image, then the update
        const factory = await reopen()
        await put(factory, "1_0_0", seeded(50 * 1024, 10))
        await factory.activate(true)
        const store = await reopen()
        expect(await store.boot()).toMatchObject({ version: "1_0_0", trial: false })
        const image = seeded(60 * 1024, 11)
        const slot = await put(store, "2_0_0", image)
        await store.activate()
        // the restart: a fresh store object over the same chip, as after ds.restart()
        const after = await reopen()
        const boot = await after.boot()
        expect(boot).toMatchObject({ slot, version: "2_0_0", trial: true })
        expect(await after.confirm()).toBe(true)
        expect((await flash.read(layout.slotAddress[slot], image.length)).equals(image)).toBe(true)
        // nothing outside the store was touched
        expect(nor.peek(layout.slotAddress[1] + layout.slotSize, 4096).every(b => b === 0xff)).toBe(true)
    })
})
