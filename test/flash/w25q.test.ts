// The W25Q driver against the command-level W25Q model: identification, page-wrap-safe programs,
// erase, busy waiting, and the typed errors for a stuck, write-protected or absent chip.
import { describe, expect, it } from "vitest"
import { FlashError } from "../../src/flash/flash"
import { W25qFlash } from "../../src/flash/w25q"
import { ImageStore } from "../../src/flash/image-store"
import { NorFlash, PowerCut } from "../../sim/flash/nor-flash"
import { W25qModel } from "../../sim/flash/w25q-model"
import { FAST, makeImage, receive, w25qDevice } from "./fixtures"

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
        // generous timeouts: three polls take milliseconds, but a loaded machine delays timers
        const f = await W25qFlash.open(m, { pollMs: 0, programTimeoutMs: 5000, eraseTimeoutMs: 5000 })
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
        // the status read back, as two hex digits
        await expect(wp.eraseSector(4096)).rejects.toThrow("flash bad-device at 0x00001000: write enable did not latch (status 0x00)")
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

    // issue 14, item 10: a 32 MB part (W25Q256JV, capacity code 0x19) and a 64 MB part
    // (W25Q512JV, 0x20) need 4-byte addresses; with 3-byte commands 16 MB + x is x.
    const MB16 = 1 << 24

    it("a 32 MB part: 16 MB and above are reached with 4-byte addresses, not aliased onto the low half", async () => {
        const m = chip({}, 2 * MB16)
        const f = await W25qFlash.open(m, { pollMs: 0 })
        expect(f.geometry.size).toBe(2 * MB16)
        const data = Buffer.alloc(600)
        for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff
        const hi = MB16 + 4096
        await f.eraseSector(hi)
        await f.program(hi + 100, data)
        expect(m.nor.peek(hi + 100, data.length).equals(data)).toBe(true)
        expect(m.nor.peek(4096, 4096).every(b => b === 0xff)).toBe(true) // the alias is untouched
        expect((await f.read(hi + 100, data.length)).equals(data)).toBe(true)
        // the last sector of the part, and a read the driver splits into chunks
        const top = 2 * MB16 - 4096
        await f.eraseSector(top)
        await f.program(top, data)
        expect(m.nor.peek(top, data.length).equals(data)).toBe(true)
        expect((await f.read(top, 1500)).subarray(0, 600).equals(data)).toBe(true)
        expect(m.commands[0x13] > 0 && m.commands[0x12] > 0 && m.commands[0x21] > 0).toBe(true)
        expect(m.commands[0x03] || m.commands[0x02] || m.commands[0x20] || 0).toBe(0)
    })

    it("a 64 MB part (capacity code 0x20) opens at 64 MB and reaches its top", async () => {
        const m = chip({}, 4 * MB16)
        const f = await W25qFlash.open(m, { pollMs: 0 })
        expect(f.geometry.size).toBe(4 * MB16)
        const top = 4 * MB16 - 4096
        await f.eraseSector(top)
        await f.program(top + 8, Buffer.from("top of 64 MB"))
        expect(m.nor.peek(top + 8, 12).toString()).toBe("top of 64 MB")
        expect(m.nor.peek(top - 3 * MB16 + 8, 12).every(b => b === 0xff)).toBe(true)
        const g = await W25qFlash.open({ transfer: async () => Buffer.from([0xef, 0x40, 0x1a]) })
            .then(() => "opened", e => (e as FlashError).reason)
        expect(g).toBe("bad-device") // no W25Q has capacity code 0x1A
    })

    it("parts up to 16 MB keep the 3-byte commands", async () => {
        const m = chip({}, MB16)
        const f = await W25qFlash.open(m, { pollMs: 0 })
        await f.eraseSector(MB16 - 4096)
        await f.program(MB16 - 4096, Buffer.from("x"))
        expect((await f.read(MB16 - 4096, 1)).toString()).toBe("x")
        expect(m.commands[0x03] > 0 && m.commands[0x02] > 0 && m.commands[0x20] > 0).toBe(true)
        expect(m.commands[0x13] || m.commands[0x12] || m.commands[0x21] || 0).toBe(0)
    })

    it("an image store with its metadata low and its slots above 16 MB on a 32 MB part", async () => {
        const m = chip({}, 2 * MB16)
        const f = await W25qFlash.open(m, { pollMs: 0 })
        const layout = { metaAddress: 0, metaSectors: 2, slotAddress: [MB16, MB16 + 65536], slotSize: 16384 }
        const v1 = makeImage("1_0_0", 9000, 1)
        const v2 = makeImage("2_0_0", 12000, 2)
        let s = new ImageStore(f, layout, FAST)
        await s.mount()
        await receive(s, v1) // the slot's first erase at 16 MB must not wipe the metadata at 0
        await s.activate(true)
        s = new ImageStore(f, layout, FAST)
        await s.mount()
        expect(await s.boot()).toMatchObject({ slot: 0, version: "1_0_0" })
        await receive(s, v2)
        await s.activate()
        s = new ImageStore(f, layout, FAST)
        await s.mount()
        expect(await s.boot()).toMatchObject({ slot: 1, version: "2_0_0", trial: true })
        await s.confirm()
        expect(m.nor.peek(MB16, v1.bytes.length).equals(v1.bytes)).toBe(true)
        expect(m.nor.peek(MB16 + 65536, v2.bytes.length).equals(v2.bytes)).toBe(true)
    })
})
