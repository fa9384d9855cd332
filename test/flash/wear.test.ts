// Wear per update (ota-anchors §7.9): ≤ 1 erase per sector of the receiving slot, a bounded and
// printed number of metadata erases, no write at all on a normal boot; and a worn-out sector is
// a typed error that leaves the device bootable.
import { describe, expect, it } from "vitest"
import { FlashError } from "../../src/flash/flash"
import { NorFlash } from "../../sim/flash/nor-flash"
import { FLASH_SIZE, LAYOUT, SECTOR, makeImage, newStore, receive, reboot } from "./fixtures"
import { provisionV1 } from "./harness"

const slotSectors = (slot: number) => [0, 1].map(i => LAYOUT.slotAddress[slot] / SECTOR + i)
const metaSectors = [0, 1]

async function updates(n: number, journalEvery: number) {
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
    await provisionV1({ name: "", nor, flash: nor })
    const metaPerUpdate: number[] = []
    let worstSlotErase = 0
    let normalBootOps = 0
    for (let i = 0; i < n; i++) {
        const img = makeImage(`2_0_${i}`, 8192 - (i % 5) * 700, 100 + i)
        const before = Array.from(nor.eraseCounts)
        let { store } = await reboot(nor)
        const target = await receive(store, img, { block: 1024, journalEvery })
        await store.activate()
        const r = await reboot(nor)
        expect(r.boot).toMatchObject({ slot: target, version: img.version, trial: true })
        await r.store.confirm()
        const ops = nor.ops
        const n2 = await reboot(nor)
        expect(n2.boot).toMatchObject({ slot: target, wrote: false })
        normalBootOps += nor.ops - ops
        const after = Array.from(nor.eraseCounts)
        for (const sec of slotSectors(target)) worstSlotErase = Math.max(worstSlotErase, after[sec] - before[sec])
        for (const sec of slotSectors(1 - target)) expect(after[sec]).toBe(before[sec]) // the running slot
        metaPerUpdate.push(metaSectors.reduce((a, sec) => a + after[sec] - before[sec], 0))
        store = n2.store
    }
    return { metaPerUpdate, worstSlotErase, normalBootOps, nor }
}

describe("wear", () => {
    it("per update: one erase per slot sector, bounded metadata erases, silent normal boots", async () => {
        for (const every of [1, 4, 0]) {
            const n = 40
            const r = await updates(n, every)
            const total = r.metaPerUpdate.reduce((a, b) => a + b, 0)
            const max = Math.max(...r.metaPerUpdate)
            const perSector = Math.max(...metaSectors.map(s => r.nor.eraseCounts[s])) / n
            console.log(
                `wear (8 KB images, 1 KB blocks, journal ${every ? `every ${every} KB with a 192-byte midstate` : "off"}): ` +
                    `slot sector erases per update ≤ ${r.worstSlotErase}; metadata erases per update avg ${(total / n).toFixed(2)}, max ${max}; ` +
                    `busiest metadata sector ${perSector.toFixed(2)} erases per update; normal boots wrote ${r.normalBootOps} times`
            )
            expect(r.worstSlotErase).toBe(1)
            expect(r.normalBootOps).toBe(0)
            // bound: the log bytes an update writes, over the sector size, plus one wrap
            expect(max).toBeLessThanOrEqual(every === 1 ? 3 : 2)
        }
    }, 60_000)

    it("a metadata sector past its endurance fails with a typed error and the device still boots", async () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE, endurance: 6 })
        await provisionV1({ name: "", nor, flash: nor })
        let err: unknown = null
        let done = 0
        for (let i = 0; i < 50 && !err; i++) {
            try {
                const { store } = await reboot(nor)
                await receive(store, makeImage(`2_0_${i}`, 6000, i), { block: 1024, journalEvery: 1 })
                await store.activate()
                const r = await reboot(nor)
                await r.store.confirm()
                done++
            } catch (e) {
                err = e
            }
        }
        expect(err).toBeInstanceOf(FlashError)
        expect((err as FlashError).reason).toBe("worn-out")
        expect(done).toBeGreaterThan(0)
        const s = newStore(nor)
        await s.mount()
        const b = await s.boot()
        expect(["1_0_0", `2_0_${done - 1}`, `2_0_${done}`]).toContain(b.version)
        const info = s.slotInfo(b.slot)
        const bytes = nor.peek(LAYOUT.slotAddress[b.slot], info.size)
        const { crc32 } = await import("../../src/lib/crc32")
        expect(crc32(bytes)).toBe(info.crc32)
    })
})
