// SignedImages (the agent's signature check) over a receiving slot: the refusal's reason, and a
// detail that says the reason once ("unknown-key: the KEYHASH TLV names none ...", not
// "unknown-key: image: unknown-key: ..."); an image fault that is not about signatures is
// bad-image, its image reason kept once in the detail. The store is a stand-in holding one
// image (only what SignedImages reads of the port).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { SignedImages } from "../../src/sota/signed-images"
import { SotaError } from "../../src/sota/reasons"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { packImage } from "../../src/image/pack"
import { parseVersion } from "../../src/image/version"
import { errText } from "../../src/lib/err-text"
import { packSigned } from "../../tools/image/keys"
import { devKey, untrustedKey } from "../../sim/boot/firmware-image"
import type { UpgradeStore } from "../../src/flash/store-port"
import { World, once } from "./world"
import type { KeyObject } from "node:crypto"

const yielder = async () => {}

function slotHolding(image: Buffer, counter = 1): UpgradeStore {
    const s = {
        slotSize: 8192,
        securityCounter: () => counter,
        runningSize: () => image.length,
        readImage: async (receiving: boolean, off: number, len: number) => Buffer.from(image.subarray(off, off + len)),
    }
    return s as unknown as UpgradeStore
}

function body(): Buffer {
    const b = Buffer.alloc(3000)
    for (let i = 0; i < b.length; i++) b[i] = (i * 37) & 0xff
    return b
}

async function signed(key: KeyObject, counter: number): Promise<Buffer> {
    return (await packSigned(body(), { version: parseVersion("2_0_0"), securityCounter: counter, yielder }, key)).image
}

/** The refusal as the agent reports it: its reason and its detail (the engine's errText of the error). */
async function refusal(image: Buffer, counter = 1): Promise<{ reason: string; detail: string }> {
    try {
        await new SignedImages(TRUSTED_KEYS).check(slotHolding(image, counter), image.length, yielder)
    } catch (e) {
        expect(e).toBeInstanceOf(SotaError)
        return { reason: (e as SotaError).reason, detail: errText(e) }
    }
    return { reason: "accepted", detail: "" }
}

describe("SignedImages: a refusal's detail names its reason once", () => {
    it("signed by a trusted key with a counter at the store's: accepted; its counter is what a confirm raises the store's to", async () => {
        const img = await signed(devKey(), 3)
        expect(await refusal(img, 3)).toEqual({ reason: "accepted", detail: "" })
        expect(await new SignedImages(TRUSTED_KEYS).runningCounter(slotHolding(img))).toBe(3)
    })

    it("unsigned, unknown-key, counter-too-low: the reason, then what was wrong, once", async () => {
        const unsigned = (await packImage(body(), { version: parseVersion("2_0_0"), yielder })).image
        expect(await refusal(unsigned)).toEqual({ reason: "unsigned", detail: "unsigned: no KEYHASH TLV: the image is not signed with Ed25519" })
        expect(await refusal(await signed(untrustedKey(), 2))).toEqual({
            reason: "unknown-key",
            detail: "unknown-key: the KEYHASH TLV names none of the trusted keys",
        })
        expect(await refusal(await signed(devKey(), 2), 5)).toEqual({
            reason: "counter-too-low",
            detail: "counter-too-low: security counter 2, the device is at 5",
        })
    })

    it("a bit flipped in the signature: bad-signature, said once", async () => {
        const img = await signed(devKey(), 2)
        img[img.length - 1] ^= 0x01 // the ED25519 TLV is the last
        expect(await refusal(img)).toEqual({
            reason: "bad-signature",
            detail: "bad-signature: the ED25519 TLV does not verify (bad-signature)",
        })
    })

    it("an image fault that is not a signature's: bad-image, with the image's own reason once after it", async () => {
        const img = await signed(devKey(), 2)
        img[40] ^= 0x01 // a body byte: the SHA-256 TLV no longer matches
        const r = await refusal(img)
        expect(r.reason).toBe("bad-image")
        expect(r.detail).toMatch(/^bad-image: hash-mismatch: SHA-256 is [0-9a-f]{64}, the TLV says [0-9a-f]{64}$/)
    })
})

describe("the agent's refusal of a wrongly signed package: its detail says the reason once", () => {
    beforeEach(() => vi.useFakeTimers())
    afterEach(() => vi.useRealTimers())

    it("unknown-key through the download (which passes the check's error on) and the engine", async () => {
        const factory = await signed(devKey(), 1)
        const w = new World({ image: await signed(untrustedKey(), 2), factoryImage: factory, slotSize: 8192, engine: { signatures: new SignedImages(TRUSTED_KEYS) } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "failed", reason: "unknown-key", detail: "unknown-key: the KEYHASH TLV names none of the trusted keys" })
        expect(await w.healthy()).toBe("old")
    })
})
