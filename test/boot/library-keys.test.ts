// startSota's `signatures` option with the library's SignedImages entry (issue 17): the library's agent installs only images signed by one of
// the keys with a security counter at least the store's, raises the counter when the new image
// confirms itself, and refuses an image signed by another key (unknown-key) with nothing
// activated. Without it nothing is checked (start-sota.test.ts). Virtual clock, module
// emulator, NOR model (test/sota/world.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { SignedImages } from "../../src/signatures"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { parseVersion } from "../../src/image/version"
import { packSigned } from "../../tools/image/keys"
import { devKey, untrustedKey } from "../../sim/boot/firmware-image"
import { World } from "../sota/world"
import { boot, until } from "../library/app-boot"
import type { KeyObject } from "node:crypto"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

async function image(version: string, counter: number, key: KeyObject): Promise<Buffer> {
    const body = Buffer.alloc(6000)
    for (let i = 0; i < body.length; i++) body[i] = (i * 131 + counter) & 0xff
    return (await packSigned(body, { version: parseVersion(version), securityCounter: counter, yielder: async () => {} }, key)).image
}


async function counter(w: World) {
    const s = w.newStore()
    await s.mount()
    return s.securityCounter()
}

describe("startSota({ signatures: new SignedImages(keys) })", () => {
    it("a signed image (counter 4) installs and its confirm raises the store's counter from 1 to 4", async () => {
        const factory = await image("1_0_0", 1, devKey())
        const w = new World({ image: await image("2_0_0", 4, devKey()), factoryImage: factory, slotSize: 8192 })
        await w.install()
        expect(await counter(w)).toBe(1)
        const b1 = boot(w, "1_0_0", { signatures: new SignedImages(TRUSTED_KEYS) })
        await until(() => b1.rebootAsked)
        expect(await counter(w)).toBe(1) // downloaded, activated, not confirmed: not raised
        const b2 = boot(w, "2_0_0", { signatures: new SignedImages(TRUSTED_KEYS) })
        await until(() => b2.outcomes.some(o => o.kind === "plan"))
        expect(b2.outcomes[0]).toMatchObject({ kind: "started", version: "2_0_0", result: "confirmed" })
        expect(await counter(w)).toBe(4)
    })

    it("an image signed by another key is refused (unknown-key) before it is marked ready; nothing activated", async () => {
        const factory = await image("1_0_0", 1, devKey())
        const w = new World({ image: await image("2_0_0", 4, untrustedKey()), factoryImage: factory, slotSize: 8192 })
        await w.install()
        const b = boot(w, "1_0_0", { signatures: new SignedImages(TRUSTED_KEYS) })
        await until(() => b.outcomes.some(o => o.kind === "plan"))
        expect(b.outcomes.find(o => o.kind === "plan")).toMatchObject({ result: "failed", reason: "unknown-key" })
        expect(b.rebootAsked).toBe(false)
        expect(await w.healthy()).toBe("old")
        expect(await counter(w)).toBe(1)
    })
})
