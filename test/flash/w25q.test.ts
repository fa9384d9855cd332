// The W25Q driver against the command-level W25Q model: identification, page-wrap-safe programs,
// erase, busy waiting, and the typed errors for a stuck, write-protected or absent chip.
import { describe, expect, it } from "vitest"
import { FlashError } from "../../src/flash/flash"
import { W25qFlash } from "../../src/flash/w25q"
import { NorFlash, PowerCut } from "../../sim/flash/nor-flash"
import { W25qModel } from "../../sim/flash/w25q-model"
import { w25qDevice } from "./fixtures"

function chip(opts = {}, size = 32768) {
    return new W25qModel(new NorFlash({ sectorSize: 4096, programUnit: 1, size }), opts)
}

describe("W25Q driver", () => {
    it("sizes itself from the JEDEC ID", async () => {
        const f = await W25qFlash.open(chip({}, 1 << 20))
        expect(f.geometry).toEqual({ sectorSize: 4096, programUnit: 1, size: 1 << 20 })
    })

    it("refuses what is not a W25Q", async () => {
        await expect(W25qFlash.open(chip({ absent: true }))).rejects.toMatchObject({ reason: "bad-device" })
        const notWinbond = { transfer: async () => Buffer.from([0xc2, 0x20, 0x18]) }
        await expect(W25qFlash.open(notWinbond)).rejects.toBeInstanceOf(FlashError)
    })

    it("programs across page boundaries without wrapping, reads in chunks, erases", async () => {
        const { flash, nor } = await w25qDevice(1)
        const data = Buffer.alloc(1500)
        for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 5) & 0xff
        await flash.eraseSector(4096)
        await flash.program(4096 + 200, data) // starts mid-page, spans 7 pages
        expect((await flash.read(4096 + 200, data.length)).equals(data)).toBe(true)
        expect(nor.peek(4096, 200).every(b => b === 0xff)).toBe(true)
        await flash.eraseSector(4096)
        expect((await flash.read(4096, 4096)).every(b => b === 0xff)).toBe(true)
        await expect(flash.program(32768 - 4, Buffer.alloc(8))).rejects.toMatchObject({ reason: "out-of-range" })
        await expect(flash.eraseSector(100)).rejects.toMatchObject({ reason: "unaligned" })
    })

    it("the model wraps a page program like the chip (why the driver splits)", async () => {
        const m = chip()
        await m.transfer(Buffer.from([0x06]), 0)
        const tx = Buffer.concat([Buffer.from([0x02, 0, 0, 250]), Buffer.alloc(10, 0x11)])
        await m.transfer(tx, 0)
        expect(m.nor.peek(250, 6).every(b => b === 0x11)).toBe(true)
        expect(m.nor.peek(0, 4).every(b => b === 0x11)).toBe(true) // wrapped to the page start
        expect(m.nor.peek(256, 1)[0]).toBe(0xff)
        // without write enable, program is ignored
        await m.transfer(Buffer.from([0x02, 0, 16, 0, 0]), 0)
        expect(m.nor.peek(4096, 1)[0]).toBe(0xff)
    })

    it("waits while BUSY and times out on a stuck chip", async () => {
        const m = chip({ busyPolls: 3 })
        const f = await W25qFlash.open(m, { pollMs: 0 })
        await f.eraseSector(0)
        await f.program(0, Buffer.from("hello"))
        expect((await f.read(0, 5)).toString()).toBe("hello")
        expect(m.commands[0x05]).toBeGreaterThanOrEqual(2 * 4)
        // a chip stuck busy ignores even the JEDEC ID instruction
        await expect(W25qFlash.open(chip({ stuckBusy: true }))).rejects.toMatchObject({ reason: "bad-device" })
        const slow = await W25qFlash.open(chip({ busyPolls: 1_000_000 }), { pollMs: 1, eraseTimeoutMs: 15 })
        await expect(slow.eraseSector(0)).rejects.toMatchObject({ reason: "timeout" })
        const wp = await W25qFlash.open(chip({ ignoreWriteEnable: true }))
        await expect(wp.program(0, Buffer.alloc(4))).rejects.toMatchObject({ reason: "bad-device" })
    })

    it("times out when a program never finishes", async () => {
        const m = chip({ busyPolls: 1_000_000 })
        const f = await W25qFlash.open(m, { pollMs: 1, programTimeoutMs: 10 })
        await expect(f.program(0, Buffer.alloc(4, 0))).rejects.toMatchObject({ reason: "timeout" })
    })

    it("power cuts reach through the driver as PowerCut", async () => {
        const { flash, nor } = await w25qDevice(1)
        nor.armCut({ op: 1, kind: "torn", at: 0.5, seed: 1 })
        await expect(flash.eraseSector(0)).rejects.toBeInstanceOf(PowerCut)
    })
})
