// The image store in DeviceScript's own VM, over the portable RAM-backed NOR flash (nothing
// persists under `devs run --test`, and GC stress is on, so it stays small): CRC-32 and version
// checks, NOR rules, then a fresh device through install → update → trial → confirm → silent
// boot → update → unconfirmed trial → rollback, with a journal and the typed errors on the way.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { crc32, crc32Update } from "../../src/lib/crc32"
import { compareVersions } from "../../src/lib/version"
import { FlashError } from "../../src/flash/flash"
import { RamFlash } from "../../src/flash/ram-flash"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { StoreLayout } from "../../src/flash/store-config"
import { StoreError } from "../../src/flash/store-port"

const SECTOR = 4096
const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 3 * SECTOR], slotSize: SECTOR }

/** CRC-32 of a whole image, 1 KB per VM turn (one call over 4 KB would exceed the step limit). */
async function crcOf(img: Buffer): Promise<number> {
    let crc = 0
    for (let off = 0; off < img.length; off += 1024) {
        crc = crc32Update(crc, img, off, Math.min(off + 1024, img.length))
        await ds.sleep(0)
    }
    return crc
}

async function image(size: number, seed: number): Promise<Buffer> {
    const b = Buffer.alloc(size)
    let x = seed
    for (let i = 0; i < size; i++) {
        x = (x * 75 + 74) % 65537
        b[i] = x & 0xff
        if ((i & 1023) === 1023) await ds.sleep(0) // the VM's step budget
    }
    return b
}

function newFlash() {
    return new RamFlash({ sectorSize: SECTOR, programUnit: 8, size: 4 * SECTOR })
}

async function powerOn(flash: RamFlash): Promise<ImageStore> {
    const s = new ImageStore(flash, LAYOUT)
    await s.mount()
    return s
}

async function receive(s: ImageStore, version: string, img: Buffer) {
    const slot = await s.startReceive({ version: version, size: img.length, crc32: await crcOf(img) })
    for (let off = 0; off < img.length; off += 1024) {
        const end = Math.min(off + 1024, img.length)
        await s.write(off, img.slice(off, end))
        await s.saveJournal(end, end)
    }
    await s.markReady()
    return slot
}

async function reasonOf(f: () => Promise<void>): Promise<string> {
    try {
        await f()
    } catch (e) {
        if (e instanceof StoreError) return (e as StoreError).reason
        if (e instanceof FlashError) return (e as FlashError).reason
        return "other"
    }
    return "none"
}

describe("flash basics in the VM", () => {
    test("crc32 check value and version order", () => {
        expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926)
        expect(compareVersions("1_10_0", "1_9_0")).toBe(1)
        expect(compareVersions("V1_0", "1_0_0")).toBe(0)
        expect(compareVersions("1_0_0", "2_0_0")).toBe(-1)
    })
    test("NOR rules on the RAM flash", async () => {
        const f = newFlash()
        await f.program(0, Buffer.from("0123456789abcdef"))
        expect(await reasonOf(async () => { await f.program(8, Buffer.alloc(8)) })).toBe("not-erased")
        expect(await reasonOf(async () => { await f.program(4, Buffer.alloc(8)) })).toBe("unaligned")
        expect(await reasonOf(async () => { await f.read(4 * SECTOR - 4, 8) })).toBe("out-of-range")
        await f.eraseSector(0)
        expect((await f.read(0, 2)).toString("hex")).toBe("ffff")
    })
})

describe("image store in the VM", () => {
    test("install, update, trial, confirm, silent boot, rollback", async () => {
        const t0 = ds.millis()
        const flash = newFlash()
        const v1 = await image(3001, 1)
        const v2 = await image(4096, 2)
        const v3 = await image(2500, 3)

        let s = await powerOn(flash)
        expect(await reasonOf(async () => { await s.boot() })).toBe("no-image")
        await receive(s, "1_0_0", v1)
        await s.activate(true)

        s = await powerOn(flash)
        let b = await s.boot()
        expect(b.slot).toBe(0)
        expect(b.version).toBe("1_0_0")
        expect(await reasonOf(async () => { await s.startReceive({ version: "0_9", size: 10 }) })).toBe("downgrade")
        expect(await receive(s, "2_0_0", v2)).toBe(1)
        await s.activate()

        s = await powerOn(flash)
        b = await s.boot()
        expect(b.slot).toBe(1)
        expect(b.trial).toBe(true)
        expect(await s.confirm()).toBe(true)

        const ops = flash.programOps + flash.eraseOps
        s = await powerOn(flash)
        b = await s.boot()
        expect(b.wrote).toBe(false)
        expect(flash.programOps + flash.eraseOps).toBe(ops)

        expect(await receive(s, "3_0_0", v3)).toBe(0)
        await s.activate()
        s = await powerOn(flash)
        b = await s.boot()
        expect(b.version).toBe("3_0_0")
        expect(await reasonOf(async () => { await s.startReceive({ version: "4_0_0", size: 10 }) })).toBe("trial-pending")
        s = await powerOn(flash) // no confirm: the second of its two trial boots (the default)
        b = await s.boot()
        expect(b.version).toBe("3_0_0")
        expect(b.trial).toBe(true)
        s = await powerOn(flash) // still no confirm: rolled back
        b = await s.boot()
        expect(b.slot).toBe(1)
        expect(b.version).toBe("2_0_0")
        expect(b.rolledBack).toBe(true)
        expect(storeState(s).slots[0].state).toBe("bad")
        expect(await crcOf(await s.read(1, 0, v2.length))).toBe(await crcOf(v2))
        console.log(`flash vm cycle: ${ds.millis() - t0} ms, metadata erases ${s.log.erases}`)
    })

    test("journal survives a reboot mid-download", async () => {
        const flash = newFlash()
        let s = await powerOn(flash)
        const v1 = await image(2000, 5)
        await receive(s, "1_0_0", v1)
        await s.activate(true)
        s = await powerOn(flash)
        await s.boot()
        const v2 = await image(4000, 6)
        await s.startReceive({ version: "2_0_0", size: v2.length, crc32: await crcOf(v2) })
        await s.write(0, v2.slice(0, 2048))
        await s.saveJournal(2048, 1024, Buffer.from("midstate"))
        s = await powerOn(flash)
        await s.boot()
        const j = s.journal()
        expect(j.written).toBe(2048)
        expect(j.verified).toBe(1024)
        expect(j.midstate.toString("utf-8")).toBe("midstate")
        await s.write(2048, v2.slice(2048, v2.length))
        await s.markReady()
        expect(storeState(s).slots[1].state).toBe("ready")
    })
})
