// A journal is resumed only for the package it describes (src/sota/download.ts, `started`): the
// version, the length, the MD5 and the SHA-256 of the 10701 must all match the journal's, or the
// receive starts over at 0. Here the MCU is reset mid-download, then the platform replaces the plan
// with another package that shares all but one of them: the device must read the new package from
// its first byte and end running exactly its bytes; resuming would splice two packages (caught by
// the digests at the end, but as a failed plan, never a confirmed image).
// Checked by hand against the conditions: without the MD5 one, the AT+QIOTOTAREQ (no SHA-256) test fails; without
// the SHA-256 one, the MD5-collision test; without the version one both in download.ts and in engine.ts's write-ahead
// (each alone is covered by the other), the version test. A length that differs also differs in MD5 here.
import { beforeEach, describe, expect, it, vi } from "vitest"
import { makeImage } from "../../sim/device/device"
import { createHash } from "node:crypto"
import { healthy, resetMidDownload, run, runDevice, World, WorldOptions } from "./world"

beforeEach(() => {
    vi.useFakeTimers()
})

const SIZE = 27954

/** Reset the MCU after 13 blocks of the first package (a cut on its next flash write). */
async function cutMidDownload(w: World) {
    await w.install()
    const e = w.powerOn()
    await run(e.start())
    await resetMidDownload(w, e, 13)
}

/** The first block offsets the MCU read after `from` (AT+QIOTOTARD=<offset>,<length>). */
const readOffsets = (w: World, from: number) =>
    w.module.received
        .slice(from)
        .filter(c => /^AT\+QIOTOTARD=\d+,\d+$/.test(c))
        .map(c => Number(c.slice("AT+QIOTOTARD=".length).split(",")[0]))

async function replacedBy(version: string, data: Buffer, o: WorldOptions = { packageSize: SIZE }) {
    const w = new World(o)
    await cutMidDownload(w)
    w.dc.stopPlan(1)
    const pkg = w.dc.addPackage({ productKey: w.pkg.productKey, component: w.pkg.component, version, data })
    w.dc.createPlan({ packageId: pkg.id })
    const before = w.module.received.length
    const log = await runDevice(w)
    const img = await w.runningImage()
    return { w, pkg, log, img, offsets: readOffsets(w, before) }
}

describe("a journal is resumed only for its own package", () => {
    it("control: the same package after the reset resumes past offset 0", async () => {
        const w = new World({ packageSize: SIZE })
        await cutMidDownload(w)
        const before = w.module.received.length
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
        expect(readOffsets(w, before)[0]).toBeGreaterThan(0)
    })

    it("other bytes (MD5, SHA-256), same version and length: read from 0, the new bytes run", async () => {
        const { pkg, img, offsets } = await replacedBy("2_0_0", makeImage(SIZE, 8))
        expect(offsets[0]).toBe(0)
        expect(img).toMatchObject({ state: "confirmed", version: "2_0_0" })
        expect(img.bytes.equals(pkg.data)).toBe(true)
    })

    it("another version, the same bytes: read from 0, the new version runs", async () => {
        const w0 = new World({ packageSize: SIZE })
        const { pkg, img, offsets } = await replacedBy("3_0_0", w0.pkg.data)
        expect(offsets[0]).toBe(0)
        expect(img).toMatchObject({ state: "confirmed", version: "3_0_0" })
        expect(img.bytes.equals(pkg.data)).toBe(true)
    })

    it("another length (the same first bytes and version): read from 0, the new bytes run", async () => {
        const w0 = new World({ packageSize: SIZE })
        const data = w0.pkg.data.subarray(0, SIZE - 1000)
        const { pkg, img, offsets } = await replacedBy("2_0_0", data)
        expect(offsets[0]).toBe(0)
        expect(img).toMatchObject({ state: "confirmed", version: "2_0_0" })
        expect(img.bytes.equals(pkg.data)).toBe(true)
    })

    it("other bytes with no SHA-256 asked for (AT+QIOTOTAREQ, not =1): the MD5 tells them apart", async () => {
        const engine = { requestSha256: false }
        const { w, pkg, img, offsets } = await replacedBy("2_0_0", makeImage(SIZE, 8), { packageSize: SIZE, engine })
        expect(w.module.received).toContain("AT+QIOTOTAREQ") // without =1: 10701 carries no SHA-256
        expect(w.module.received).not.toContain("AT+QIOTOTAREQ=1")
        expect(offsets[0]).toBe(0)
        expect(img).toMatchObject({ state: "confirmed", version: "2_0_0" })
        expect(img.bytes.equals(pkg.data)).toBe(true)
    })

    it("an MD5 collision (the same MD5 and length, other bytes in the first block): the SHA-256 tells them apart", async () => {
        // Wang and Yu's colliding 128-byte pair (2004, published); MD5 carries a collision through any common suffix
        const a = Buffer.from(COLLISION_A, "hex")
        const b = Buffer.from(COLLISION_B, "hex")
        const rest = makeImage(SIZE - 128, 7)
        const first = Buffer.concat([a, rest])
        const second = Buffer.concat([b, rest])
        const md5 = (x: Buffer) => createHash("md5").update(x).digest("hex")
        const sha = (x: Buffer) => createHash("sha256").update(x).digest("hex")
        expect(md5(first)).toBe(md5(second))
        expect(sha(first)).not.toBe(sha(second))
        const { pkg, img, offsets } = await replacedBy("2_0_0", second, { image: first })
        expect(offsets[0]).toBe(0)
        expect(img).toMatchObject({ state: "confirmed", version: "2_0_0" })
        expect(img.bytes.equals(pkg.data)).toBe(true) // not the first package's block 0 spliced onto the second's rest
    })
})

const COLLISION_A =
    "d131dd02c5e6eec4693d9a0698aff95c2fcab58712467eab4004583eb8fb7f8955ad340609f4b30283e488832571415a085125e8f7cdc99fd91dbdf280373c5b" +
    "d8823e3156348f5bae6dacd436c919c6dd53e2b487da03fd02396306d248cda0e99f33420f577ee8ce54b67080a80d1ec69821bcb6a8839396f9652b6ff72a70"
const COLLISION_B =
    "d131dd02c5e6eec4693d9a0698aff95c2fcab50712467eab4004583eb8fb7f8955ad340609f4b30283e4888325f1415a085125e8f7cdc99fd91dbd7280373c5b" +
    "d8823e3156348f5bae6dacd436c919c6dd53e23487da03fd02396306d248cda0e99f33420f577ee8ce54b67080280d1ec69821bcb6a8839396f965ab6ff72a70"
