// The store's argument checks (store-config.ts) one by one: each bad value is refused with its
// typed reason and a message that names what is wrong; each boundary value is accepted.
// (Mutation testing found most of these checks exercised by no test but the default path.)
import { describe, expect, it } from "vitest"
import { checkDowngrade, checkLayout, checkVersion, parseDigest, StoreLayout, trialBoots } from "../../src/flash/store-config"
import { MAX_VERSION } from "../../src/flash/store-records"
import { NorFlash } from "../../sim/flash/nor-flash"

const S = 4096
/** 8 sectors: meta 0-1, slot 0 at 2-3, slot 1 at 4-5, 6-7 free. */
const flash = new NorFlash({ sectorSize: S, programUnit: 8, size: 8 * S })
const GOOD: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * S, 4 * S], slotSize: 2 * S }

function refused(l: Partial<StoreLayout>, f = flash) {
    try {
        checkLayout(f, { ...GOOD, ...l })
    } catch (err: any) {
        expect(err.name).toBe("StoreError")
        expect(err.reason).toBe("bad-layout")
        return err.message as string
    }
    throw new Error(`layout accepted: ${JSON.stringify(l)}`)
}

describe("checkLayout", () => {
    it("accepts a layout that fits exactly, with regions in any order and touching", () => {
        checkLayout(flash, GOOD)
        // the last slot ends exactly at the end of the device
        checkLayout(flash, { ...GOOD, slotAddress: [2 * S, 6 * S] })
        // the slots before the metadata, touching each other and it
        checkLayout(flash, { metaAddress: 6 * S, metaSectors: 2, slotAddress: [0, 3 * S], slotSize: 3 * S })
        checkLayout(flash, { ...GOOD, metaSectors: 3, slotAddress: [3 * S, 5 * S], slotSize: S })
    })

    it("sectors larger than the metadata log can read are refused (4 KB is the limit)", () => {
        const big = new NorFlash({ sectorSize: 2 * S, programUnit: 8, size: 16 * S })
        expect(refused({ metaSectors: 2, slotAddress: [4 * S, 8 * S], slotSize: 4 * S }, big)).toMatch(/sectors of 8192 bytes \(metadata needs ≤ 4096\)/)
    })

    it("a metadata log of fewer than 2 sectors (or none given)", () => {
        expect(refused({ metaSectors: 1 })).toMatch(/at least 2 sectors/)
        expect(refused({ metaSectors: 0 })).toMatch(/at least 2 sectors/)
        expect(refused({ metaSectors: undefined })).toMatch(/at least 2 sectors/)
    })

    it("a slot size that is not whole sectors, or none", () => {
        expect(refused({ slotSize: S + 8 })).toMatch(/slot size 4104 is not whole sectors/)
        expect(refused({ slotSize: 0 })).toMatch(/slot size 0 is not whole sectors/)
        expect(refused({ slotSize: -S })).toMatch(/not whole sectors/)
    })

    it("not exactly two slots", () => {
        expect(refused({ slotAddress: [2 * S] })).toMatch(/two slots/)
        expect(refused({ slotAddress: [2 * S, 4 * S, 6 * S] })).toMatch(/two slots/)
        expect(refused({ slotAddress: undefined })).toMatch(/two slots/)
    })

    it("a region that is unaligned, negative or past the device, each region by its index", () => {
        expect(refused({ metaAddress: 8 })).toMatch(/region 0 at 8 is unaligned/)
        expect(refused({ metaAddress: -S })).toMatch(/region 0 at -4096/)
        expect(refused({ slotAddress: [2 * S + 8, 4 * S] })).toMatch(/region 1 at 8200/)
        expect(refused({ slotAddress: [2 * S, 7 * S] })).toMatch(/region 2 at 28672 is unaligned or past the device/)
        expect(refused({ metaAddress: 7 * S, slotAddress: [0, 2 * S] })).toMatch(/region 0 at 28672/)
    })

    it("overlapping regions, named by their indexes, however they overlap", () => {
        expect(refused({ slotAddress: [S, 4 * S] })).toMatch(/regions 0 and 1 overlap/)
        expect(refused({ slotAddress: [2 * S, 3 * S] })).toMatch(/regions 1 and 2 overlap/)
        expect(refused({ slotAddress: [3 * S, 2 * S] })).toMatch(/regions 1 and 2 overlap/)
        expect(refused({ slotAddress: [2 * S, 2 * S] })).toMatch(/regions 1 and 2 overlap/)
        expect(refused({ slotAddress: [2 * S, 0] })).toMatch(/regions 0 and 2 overlap/)
        // the metadata inside a slot
        expect(refused({ metaAddress: 3 * S, metaSectors: 2, slotAddress: [2 * S, 5 * S], slotSize: 3 * S })).toMatch(/regions 0 and 1 overlap/)
    })
})

describe("the other checks", () => {
    it("maxTrialBoots: 1..255, default 2", () => {
        expect(trialBoots({})).toBe(2)
        expect(trialBoots({ maxTrialBoots: 1 })).toBe(1)
        expect(trialBoots({ maxTrialBoots: 255 })).toBe(255)
        for (const n of [0, 256, -1, NaN])
            expect(() => trialBoots({ maxTrialBoots: n })).toThrow(expect.objectContaining({ reason: "bad-argument", message: `image store: bad-argument: maxTrialBoots ${n}` }))
    })

    it("a version of 1..32 bytes (UTF-8 bytes, not characters)", () => {
        checkVersion("1")
        checkVersion("x".repeat(MAX_VERSION))
        const msg = (v: string) => `image store: bad-argument: version "${v}" (1..32 bytes)`
        for (const v of ["", undefined as string, "x".repeat(MAX_VERSION + 1), "é".repeat(17)])
            expect(() => checkVersion(v)).toThrow(expect.objectContaining({ reason: "bad-argument", message: msg(v) }))
        checkVersion("é".repeat(16))
    })

    it("a digest is empty or exactly its hex length", () => {
        expect(parseDigest("", 16, "md5").length).toBe(0)
        expect(parseDigest(undefined, 16, "md5").length).toBe(0)
        expect([...parseDigest("00ff10", 3, "x")]).toEqual([0, 255, 16])
        expect(() => parseDigest("00ff1", 3, "x")).toThrow(expect.objectContaining({ reason: "bad-argument", message: "image store: bad-argument: x must be 6 hex digits" }))
        expect(() => parseDigest("00ff1011", 3, "md5")).toThrow(/md5 must be 6 hex digits/)
        expect(() => parseDigest("zz".repeat(16), 16, "md5")).toThrow(/md5 must be 32 hex digits/)
    })

    it("a lower version needs allowDowngrade; the same version or a higher one does not", () => {
        checkDowngrade(false, "2_0_0", "1_0_0")
        checkDowngrade(false, "1_0_0", "1_0_0")
        checkDowngrade(true, "1_0_0", "2_0_0")
        expect(() => checkDowngrade(false, "1_0_0", "2_0_0")).toThrow(
            expect.objectContaining({ reason: "downgrade", message: "image store: downgrade: 1_0_0 is lower than the running 2_0_0" })
        )
    })
})
