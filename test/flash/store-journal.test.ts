// The image store's download journal and its edges, each asserted exactly: the rewind when a
// write restarts a sector below the journal's mark (what the power-cut sweep relies on), the
// resume point, openBlocks' resume check, the journal's argument checks, interrupted(), the
// block size, slot reads out of range, and which mismatch markReady() reports.
// (Mutation testing found these reached only by the long sweeps, or by no test.)
import { describe, expect, it } from "vitest"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { BlockHasher } from "../../src/flash/store-port"
import { crc32 } from "../../src/lib/crc32"
import { makeImage, midstateFor, newStore, norDevice, provision, receive, SECTOR } from "./fixtures"

const v1 = makeImage("1_0_0", 7001, 1)
const v2 = makeImage("2_0_0", 2 * SECTOR, 2)

/** A device running v1, receiving v2 into slot 1. */
async function receiving() {
    const { nor } = norDevice(8)
    const s = await provision(nor, v1)
    expect(await s.startReceive({ version: v2.version, size: v2.bytes.length, md5: v2.md5, sha256: v2.sha256, crc32: v2.crc })).toBe(1)
    return { nor, s }
}

/** The same flash after a reset: a new store object, mounted and booted (RAM marks lost). */
async function restarted(nor: any): Promise<ImageStore> {
    const s = newStore(nor)
    await s.mount()
    await s.boot()
    return s
}

const sector = (i: number) => v2.bytes.subarray(i * SECTOR, (i + 1) * SECTOR)

describe("the journal's rewind when a sector is written again", () => {
    it("a restart of the sector at the verified mark keeps the mark and its midstate; below it, both go", async () => {
        const { nor, s } = await receiving()
        await s.write(0, sector(0))
        await s.write(SECTOR, sector(1))
        await s.saveJournal(2 * SECTOR, SECTOR, midstateFor(SECTOR))
        let r = await restarted(nor)
        expect(r.journal()).toMatchObject({ written: 2 * SECTOR, verified: SECTOR })
        expect(r.resumePoint()).toBe(SECTOR)
        // sector 1 again (its start is the verified mark): written moves back, verified and the midstate stay
        await r.write(SECTOR, sector(1))
        expect(r.journal()).toMatchObject({ written: SECTOR, verified: SECTOR })
        expect(r.journal().midstate.equals(midstateFor(SECTOR))).toBe(true)
        // the rewind is a record: it holds after a reset
        r = await restarted(nor)
        expect(r.journal()).toMatchObject({ written: SECTOR, verified: SECTOR })
        expect(r.journal().midstate.equals(midstateFor(SECTOR))).toBe(true)
        // sector 0 again: below the verified mark, so the mark and its midstate go
        await r.write(0, sector(0))
        expect(r.journal()).toMatchObject({ written: 0, verified: 0 })
        expect(r.journal().midstate.length).toBe(0)
        expect(r.resumePoint()).toBe(0)
        r = await restarted(nor)
        expect(r.journal()).toMatchObject({ written: 0, verified: 0 })
    })

    it("a sector at or past the journal's mark is erased without a journal record", async () => {
        const { nor, s } = await receiving()
        await s.write(0, sector(0))
        await s.saveJournal(SECTOR, SECTOR, midstateFor(SECTOR))
        const r = await restarted(nor)
        nor.resetCounters()
        await r.write(SECTOR, sector(1)) // the sector starts exactly at `written`
        // the erase and the data only: no metadata program
        expect(nor.eraseOps).toBe(1)
        expect(r.journal()).toMatchObject({ written: SECTOR, verified: SECTOR })
        const programs = nor.programOps
        const again = norDevice(8)
        const t = await provision(again.nor, v1)
        await t.startReceive({ version: v2.version, size: v2.bytes.length })
        await t.write(0, sector(0))
        again.nor.resetCounters()
        await t.write(SECTOR, sector(1)) // a fresh receive: the same programs
        expect(programs).toBe(again.nor.programOps)
    })
})

describe("resume", () => {
    it("the resume point is the verified mark only on a checkpoint with a midstate", async () => {
        const { s } = await receiving()
        expect(s.resumePoint()).toBe(0)
        await s.write(0, sector(0))
        await s.saveJournal(SECTOR, SECTOR, Buffer.alloc(0)) // no midstate: nothing to resume the digests from
        expect(s.resumePoint()).toBe(0)
        await s.saveJournal(SECTOR, 8, midstateFor(8)) // not on a checkpoint
        expect(s.resumePoint()).toBe(0)
        await s.saveJournal(SECTOR, SECTOR, midstateFor(SECTOR))
        expect(s.resumePoint()).toBe(SECTOR)
    })

    it("openBlocks from anywhere but 0 or the resume point is refused; from the resume point the next block is there", async () => {
        const { s } = await receiving()
        await s.write(0, sector(0))
        await s.saveJournal(SECTOR, SECTOR, midstateFor(SECTOR))
        const hasher: BlockHasher = { update: async () => {}, save: () => Buffer.alloc(0) } as any
        expect(() => s.openBlocks(8, hasher)).toThrow(expect.objectContaining({ reason: "bad-argument", message: "image store: bad-argument: resume at 8" }))
        expect(() => s.openBlocks(2 * SECTOR, hasher)).toThrow(/resume at 8192/)
        s.openBlocks(SECTOR, hasher)
        expect(s.nextOffset()).toBe(SECTOR)
        s.openBlocks(0, hasher)
        expect(s.nextOffset()).toBe(0)
        expect(() => s.openImage(8)).toThrow(expect.objectContaining({ reason: "bad-argument" }))
        expect(s.openImage(SECTOR)).toBe(SECTOR)
    })

    it("no blocks before openBlocks: a typed refusal, and the offset is 0", async () => {
        const { s } = await receiving()
        expect(s.nextOffset()).toBe(0)
        await expect(s.putBlock(0, Buffer.alloc(8), 8)).rejects.toMatchObject({ reason: "bad-state", message: "image store: bad-state: openBlocks() first" })
    })

    it("the journal's own checks: verified ≤ written ≤ the image's size, a midstate of at most 200 bytes", async () => {
        const { s } = await receiving()
        const bad = (w: number, v: number, m?: Buffer) => expect(s.saveJournal(w, v, m)).rejects.toMatchObject({ reason: "bad-argument" })
        await bad(8, 16)
        await bad(2 * SECTOR + 8, 0)
        await bad(8, -8)
        await bad(8, 8, Buffer.alloc(201))
        await expect(s.saveJournal(8, 8, Buffer.alloc(201))).rejects.toThrow("journal written=8 verified=8 midstate=201")
        // the limits themselves are accepted
        await s.saveJournal(2 * SECTOR, 2 * SECTOR, Buffer.alloc(200))
        expect(s.journal()).toMatchObject({ written: 2 * SECTOR, verified: 2 * SECTOR })
        await s.saveJournal(0, 0)
        expect(s.journal()).toMatchObject({ written: 0, verified: 0 })
        expect(s.journal().midstate.length).toBe(0)
    })
})

describe("the store's other edges", () => {
    it("interrupted(): a receive that was started and not activated, receiving or ready; not after activation or with none", async () => {
        const { nor } = norDevice(8)
        const s = await provision(nor, v1)
        expect(s.interrupted()).toBe(false)
        expect(s.journal()).toBe(null)
        await s.startReceive({ version: v2.version, size: v2.bytes.length })
        expect(s.interrupted()).toBe(true)
        expect(s.journal()).toMatchObject({ slot: 1, version: "2_0_0", total: 2 * SECTOR, written: 0, md5: "", sha256: "" })
        await s.write(0, v2.bytes)
        await s.markReady()
        expect(s.interrupted()).toBe(true)
        expect(s.journal()).toBe(null)
        expect((await restarted(nor)).interrupted()).toBe(true)
        await s.activate()
        expect(s.interrupted()).toBe(false)
    })

    it("blockSize: whole program units, a block smaller than one unit as it is", async () => {
        const { s } = await receiving()
        expect(s.blockSize(1024)).toBe(1024)
        expect(s.blockSize(974)).toBe(968)
        expect(s.blockSize(9)).toBe(8)
        expect(s.blockSize(8)).toBe(8)
        expect(s.blockSize(5)).toBe(5)
    })

    it("slot reads: inside a slot only, with a typed refusal", async () => {
        const { s } = await receiving()
        expect((await s.read(0, 0, 16)).equals(v1.bytes.subarray(0, 16))).toBe(true)
        expect((await s.read(0, 2 * SECTOR - 1, 1)).length).toBe(1)
        expect((await s.read(1, 0, 0)).length).toBe(0)
        for (const [slot, off, len] of [[2, 0, 1], [-1, 0, 1], [0, -1, 1], [0, 0, -1], [0, 2 * SECTOR, 1], [1, 1, 2 * SECTOR]])
            await expect(s.read(slot, off, len)).rejects.toMatchObject({ reason: "bad-argument", message: `image store: bad-argument: read slot ${slot} [${off}, ${off + len})` })
    })

    it("markReady: the plan's CRC wrong is a digest mismatch, the caller's CRC wrong a flash mismatch; either marks the slot bad", async () => {
        const a = await receiving()
        await a.s.write(0, v2.bytes)
        await a.s.markReady(crc32(v2.bytes)) // both agree
        expect(storeState(a.s).slots[1]).toMatchObject({ state: "ready", crc32: v2.crc, crcKnown: true })

        const b = await receiving()
        await b.s.write(0, v2.bytes)
        await expect(b.s.markReady((crc32(v2.bytes) + 1) >>> 0)).rejects.toMatchObject({ reason: "flash-mismatch" })
        expect(storeState(b.s).slots[1]).toMatchObject({ state: "bad", crcKnown: false })

        const { nor } = norDevice(8)
        const c = await provision(nor, v1)
        await c.startReceive({ version: v2.version, size: v2.bytes.length, crc32: (v2.crc + 1) >>> 0 })
        await c.write(0, v2.bytes)
        await expect(c.markReady(v2.crc)).rejects.toMatchObject({ reason: "digest-mismatch", message: expect.stringContaining(`CRC-32 ${v2.crc} != expected ${(v2.crc + 1) >>> 0}`) })
        expect(storeState(c).slots[1]).toMatchObject({ state: "bad" })
    })

    it("a rebuilt image's size and CRC are recorded with it (the plan's CRC was its package's)", async () => {
        const { nor } = norDevice(8)
        const s = await provision(nor, v1)
        await s.startReceive({ version: v2.version, size: 100, crc32: 12345 })
        s.openImage(0)
        await s.writeImage(0, v2.bytes, v2.bytes.length)
        await s.markReady(undefined, v2.bytes.length)
        expect(storeState(s).slots[1]).toMatchObject({ state: "ready", size: v2.bytes.length, crc32: v2.crc, crcKnown: true })
    })
})

it("a receive after a finished one starts a new session: the old journal never applies to it", async () => {
    const { nor } = norDevice(8)
    const s = await provision(nor, v1)
    await receive(s, v2)
    const session = storeState(s).session
    await s.startReceive({ version: "3_0_0", size: SECTOR })
    expect(storeState(s).session).toBe(session + 1)
    expect(s.journal()).toMatchObject({ version: "3_0_0", written: 0, verified: 0 })
})
