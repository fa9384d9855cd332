// The simulator's boot stage with signatures (issue 17): with the compiled-in keys it launches
// only images signed by one of them whose security counter is at least the store's; a trial
// image that fails (unsigned, another key, a lower counter) is marked bad with BadWhy.ImageCheck
// and the confirmed image runs, byte-identical; the counter the stage compares against rises only
// when a trial is confirmed, so a trial that rolls back still falls back to its older image, and
// after a confirm the older image no longer passes.
import { describe, expect, it, vi } from "vitest"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { BadWhy } from "../../src/flash/store-port"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { runBootStage, imageSecurityCounter } from "../../sim/boot/boot-stage"
import { firmwareImage } from "../../sim/boot/firmware-image"
import type { BadImageKind } from "../../sim/boot/firmware-image"
import { NorFlash } from "../../sim/flash/nor-flash"
import { SECTOR, layoutFor } from "../../sim/device/device"

const root = new URL("../..", import.meta.url).pathname
const FAST = { yielder: async () => {}, yieldEvery: 1 << 30 }
vi.setConfig({ testTimeout: 180_000 }) // the first run builds the firmware programs

async function put(store: ImageStore, img: Buffer, version: string) {
    await store.startReceive({ version, size: img.length })
    for (let off = 0; off < img.length; off += 4096) await store.write(off, img.subarray(off, Math.min(off + 4096, img.length)))
    await store.markReady()
}

/** A device with the signed 1_0_0 factory image confirmed (counter 1) and `next` activated on trial. */
async function device(next: Buffer) {
    const factory = await firmwareImage(root, "1_0_0")
    const layout = layoutFor(Math.max(factory.length, next.length))
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: layout.slotAddress[1] + layout.slotSize })
    const s = new ImageStore(nor, layout, FAST)
    await s.mount()
    await put(s, factory, "1_0_0")
    await s.activate(true, await imageSecurityCounter(factory))
    const s2 = new ImageStore(nor, layout, FAST)
    await s2.mount()
    await s2.boot()
    await put(s2, next, "2_0_0")
    await s2.activate()
    return { nor, layout, factory }
}

const stage = (d: { nor: NorFlash; layout: ReturnType<typeof layoutFor> }) => runBootStage(d.nor, d.layout, { keys: TRUSTED_KEYS })

async function stateOf(d: { nor: NorFlash; layout: ReturnType<typeof layoutFor> }) {
    const s = new ImageStore(d.nor, d.layout, FAST)
    await s.mount()
    return storeState(s)
}

describe("the boot stage with the compiled-in keys", () => {
    it("the simulator's images are signed with the TEST key and carry their major version as security counter", async () => {
        const img = await firmwareImage(root, "2_0_0")
        expect(await imageSecurityCounter(img)).toBe(2)
        const d = await device(img)
        expect((await stateOf(d)).counter).toBe(1) // the factory's
        const l = await stage(d)
        expect(l).toMatchObject({ slot: 1, version: "2_0_0", trial: true, signedBy: 0, securityCounter: 2, refused: [] })
        expect((await stateOf(d)).counter).toBe(1) // launching a trial raises nothing
    })

    const bad: [BadImageKind, string][] = [
        ["unsigned", "unsigned"],
        ["wrong-key", "unknown-key"],
        ["lower-counter", "counter-too-low"],
    ]
    for (const [kind, reason] of bad)
        it(`bad:${kind}: refused (${reason}), marked bad, the factory image runs byte-identical`, async () => {
            const d = await device(await firmwareImage(root, "2_0_0", { bad: kind }))
            const before = d.nor.peek(d.layout.slotAddress[0], d.factory.length)
            const l = await stage(d)
            expect(l).toMatchObject({ slot: 0, version: "1_0_0", signedBy: 0, securityCounter: 1, rolledBack: true, why: BadWhy.ImageCheck })
            expect(l.refused).toHaveLength(1)
            expect(l.refused[0].reason).toContain(`image: ${reason}: `)
            expect((await stateOf(d)).slots[1]).toMatchObject({ state: "bad", why: BadWhy.ImageCheck })
            expect(d.nor.peek(d.layout.slotAddress[0], d.factory.length).equals(before)).toBe(true)
            expect(before.equals(d.factory)).toBe(true)
        })

    it("a trial that rolls back leaves the counter at the factory's, so the factory boots; after a confirm the factory no longer passes", async () => {
        const d = await device(await firmwareImage(root, "2_0_0"))
        await stage(d) // the trial boot, never confirmed (default: two trial boots)
        await stage(d)
        const back = await stage(d)
        expect(back).toMatchObject({ slot: 0, version: "1_0_0", rolledBack: true })
        expect((await stateOf(d)).counter).toBe(1)

        const e = await device(await firmwareImage(root, "2_0_0"))
        const l = await stage(e)
        const program = new ImageStore(e.nor, e.layout, { ...FAST, externalBoot: true })
        await program.mount()
        await program.boot()
        await program.confirm(l.securityCounter)
        expect((await stateOf(e)).counter).toBe(2)
        // slot 1 (2_0_0) broken: the older factory image has counter 1 < 2 and is refused too
        e.nor.flipBit(e.layout.slotAddress[1] + 100, 0)
        await expect(stage(e)).rejects.toMatchObject({ reason: "no-image" })
    })

    it("without keys (the C stage's vectors) the same unsigned image boots", async () => {
        const d = await device(await firmwareImage(root, "2_0_0", { bad: "unsigned" }))
        expect(await runBootStage(d.nor, d.layout)).toMatchObject({ slot: 1, signedBy: -1 })
    })
})
