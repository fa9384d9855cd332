// The store's security counter is a u32 (MCUboot's SEC_CNT; imgtool's `auto` gives 2^24 for 1.0.0)
// in DeviceScript's own VM too, where numbers past 2^31 are doubles: the STATE record round-trips
// the counter at the format 1/2 edge and at 2^32 - 1 with the bytes Node writes, and a store that
// confirms a trial with a counter of 2^24 reads it back after a power cycle.
import { describe, expect, test } from "@devicescript/test"
import { RamFlash } from "../../src/flash/ram-flash"
import { ImageStore } from "../../src/flash/image-store"
import { StoreLayout } from "../../src/flash/store-config"
import { decodeState, encodeState, initialState } from "../../src/flash/store-records"

const SECTOR = 4096
const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 3 * SECTOR], slotSize: SECTOR }

async function powerOn(flash: RamFlash): Promise<ImageStore> {
    const s = new ImageStore(flash, LAYOUT)
    await s.mount()
    return s
}

async function receive(s: ImageStore, version: string, fill: number) {
    const img = Buffer.alloc(1000)
    for (let i = 0; i < img.length; i++) img[i] = (i * 7 + fill) & 0xff
    await s.startReceive({ version: version, size: img.length })
    await s.write(0, img)
    await s.markReady()
}

describe("the security counter in the VM", () => {
    test("a STATE record keeps 32 bits: format 1 up to 65 535, format 2 (the high half at 8-9) above", () => {
        const counters = [0, 0xffff, 0x10000, 0x1000000, 0x7fffffff, 0x80000000, 0xffffffff]
        const formats = [1, 1, 2, 2, 2, 2, 2]
        for (let i = 0; i < counters.length; i++) {
            const st = initialState()
            st.counter = counters[i]
            const b = encodeState(st)
            expect(b[1]).toBe(formats[i])
            expect(b.length).toBe(formats[i] === 1 ? 45 : 47)
            expect(b[2] | (b[3] << 8)).toBe(counters[i] & 0xffff)
            if (formats[i] === 2) {
                expect(b[8]).toBe(Math.floor(counters[i] / 0x10000) & 0xff)
                expect(b[9]).toBe(Math.floor(counters[i] / 0x1000000))
            }
            st.active = i % 3 - 1 // -1 (0xFF), 0, 1
            expect(decodeState(encodeState(st)).active).toBe(st.active)
            expect(decodeState(b).counter).toBe(counters[i])
        }
    })

    test("a confirm raises the store's counter to 2^24, then 2^32 - 1; each survives a power cycle", async () => {
        const flash = new RamFlash({ sectorSize: SECTOR, programUnit: 8, size: 4 * SECTOR })
        let s = await powerOn(flash)
        await receive(s, "0_9_0", 1)
        await s.activate(true, 1)
        s = await powerOn(flash)
        await s.boot()
        expect(s.securityCounter()).toBe(1)
        await receive(s, "1_0_0", 2)
        await s.activate()
        s = await powerOn(flash)
        expect((await s.boot()).trial).toBe(true)
        await s.confirm(0x1000000)
        s = await powerOn(flash)
        await s.boot()
        expect(s.securityCounter()).toBe(0x1000000)
        await receive(s, "255_255_65535", 3)
        await s.activate()
        s = await powerOn(flash)
        await s.boot()
        await s.confirm(0xffffffff)
        s = await powerOn(flash)
        await s.boot()
        expect(s.securityCounter()).toBe(0xffffffff)
    })
})
