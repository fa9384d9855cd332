// Slot writes under NOR rules on their own (slot-io.ts): the range and alignment refusals, the
// 0xFF padding of an image's last write, a sector erased (journal rewound first) when a write
// reaches its start and only then, the mid-sector blank check after a reset, and the slot CRC.
import { describe, expect, it } from "vitest"
import { slotCrc, unknownBlank, writeSlot } from "../../src/flash/slot-io"
import { StepBudget } from "../../src/lib/step-budget"
import { crc32 } from "../../src/lib/crc32"
import { NorFlash } from "../../sim/flash/nor-flash"

const S = 4096
const BASE = 2 * S
const SIZE = 3 * S
const budget = () => new StepBudget(1 << 30, async () => {})

function setup() {
    const nor = new NorFlash({ sectorSize: S, programUnit: 8, size: 6 * S })
    const rewinds: number[] = []
    const journal = {
        rewindTo: async (o: number): Promise<void> => {
            rewinds.push(o)
        },
    }
    const blank = unknownBlank(3)
    const write = (offset: number, data: Buffer, size = SIZE) => writeSlot(nor, budget(), blank, BASE, size, offset, data, journal)
    return { nor, rewinds, blank, write }
}

const fill = (n: number, v: number) => Buffer.alloc(n, v)

describe("writeSlot", () => {
    it("unknownBlank: one unknown mark per sector", () => {
        expect(unknownBlank(3)).toEqual([-1, -1, -1])
        expect(unknownBlank(0)).toEqual([])
    })

    it("refuses writes outside the image or not in whole units (but the image's last), typed and named", async () => {
        const { write } = setup()
        await expect(write(SIZE - 8, fill(16, 1))).rejects.toMatchObject({ reason: "too-large", message: `image store: too-large: write [${SIZE - 8}, ${SIZE + 8}) past the image size ${SIZE}` })
        await expect(write(-8, fill(8, 1))).rejects.toMatchObject({ reason: "too-large" })
        await expect(write(0.5, fill(8, 1))).rejects.toMatchObject({ reason: "too-large" })
        await expect(write(4, fill(8, 1))).rejects.toMatchObject({ reason: "unaligned", message: "image store: unaligned: write of 8 at 4, unit 8" })
        await expect(write(0, fill(12, 1))).rejects.toMatchObject({ reason: "unaligned" })
        // an image of 100 bytes: its last write may end anywhere
        await write(96, fill(4, 1), 100)
    })

    it("pads the image's last write with 0xFF to the unit; the bytes after it read erased", async () => {
        const { nor, write } = setup()
        await write(0, Buffer.from([1, 2, 3, 4, 5]), 5)
        expect([...(await nor.read(BASE, 9))]).toEqual([1, 2, 3, 4, 5, 0xff, 0xff, 0xff, 0xff])
    })

    it("erases a sector when a write reaches its start, rewinding the journal to it first; never twice, never mid-sector", async () => {
        const { nor, rewinds, blank, write } = setup()
        await nor.program(BASE + 8, fill(8, 0)) // old data in sector 0, past where the write begins
        nor.resetCounters()
        await write(0, fill(S + 16, 0x11)) // sector 0 whole, then 16 bytes of sector 1
        expect(nor.eraseOps).toBe(2)
        expect(rewinds).toEqual([0, S])
        expect(blank).toEqual([S, 16, -1])
        expect([...(await nor.read(BASE + 8, 8))]).toEqual([...fill(8, 0x11)])
        await write(S + 16, fill(16, 0x22))
        expect(nor.eraseOps).toBe(2)
        expect(rewinds).toEqual([0, S])
        expect(blank).toEqual([S, 32, -1])
        // a write into sector 1 where it was already written: refused, not erased
        await expect(write(S + 8, fill(8, 0x33))).rejects.toMatchObject({ reason: "not-blank", message: `image store: not-blank: offset ${S + 8} was already written` })
        // a write at a sector start again erases it again (a restart), the journal first
        await write(S, fill(8, 0x44))
        expect(nor.eraseOps).toBe(3)
        expect(rewinds).toEqual([0, S, S])
        expect(blank).toEqual([S, 8, -1])
        expect([...(await nor.read(BASE + S + 8, 8))]).toEqual([...fill(8, 0xff)])
    })

    it("after a reset (marks unknown) a write mid-sector needs the rest of the sector erased: checked by reading, then trusted", async () => {
        const { nor, write, blank } = setup()
        await write(0, fill(S, 0x11)) // sector 0 written
        await write(S, fill(64, 0x22)) // the start of sector 1
        // the reset: marks unknown
        const b2 = unknownBlank(3)
        const journal = { rewindTo: async () => {} }
        const again = (offset: number, data: Buffer) => writeSlot(nor, budget(), b2, BASE, SIZE, offset, data, journal)
        nor.resetCounters()
        await again(S + 64, fill(64, 0x33)) // the rest of sector 1 reads erased: no erase
        expect(nor.eraseOps).toBe(0)
        expect(b2).toEqual([-1, 128, -1])
        await expect(again(S - 64, fill(64, 0x44))).rejects.toMatchObject({ reason: "not-blank", message: "image store: not-blank: sector 0 is not erased after offset 4032" })
        // a byte written far into the rest of the sector is found (the check reads the whole rest, in pieces)
        await nor.program(BASE + 2 * S + S - 8, fill(8, 0))
        await expect(again(2 * S + 8, fill(8, 0x55))).rejects.toMatchObject({ reason: "not-blank" })
        expect(blank).toEqual([S, 64, -1])
    })
})

describe("writeSlot across sectors", () => {
    it("a write that spans a sector boundary at an offset inside the slot lands byte for byte", async () => {
        const { nor, write } = setup()
        await write(0, fill(S - 16, 1))
        await nor.program(BASE + S, fill(64, 0)) // an old image in the next sector: erased before it is written
        const data = Buffer.alloc(48)
        for (let i = 0; i < data.length; i++) data[i] = i + 1
        await write(S - 16, data) // 16 bytes in sector 0, 32 in sector 1 (erased when the write reaches it)
        expect((await nor.read(BASE + S - 16, 48)).equals(data)).toBe(true)
        expect((await nor.read(BASE + S + 32, 8)).equals(fill(8, 0xff))).toBe(true)
    })

    it("the blank check after a reset reads the rest of its own sector only, not the next one", async () => {
        const { nor, write } = setup()
        await write(0, fill(S, 0x11))
        await write(S, fill(64, 0x22))
        await write(2 * S, fill(64, 0x33)) // the next sector holds data
        const b2 = unknownBlank(3)
        const journal = { rewindTo: async (): Promise<void> => {} }
        await writeSlot(nor, budget(), b2, BASE, SIZE, S + 64, fill(64, 0x44), journal)
        expect((await nor.read(BASE + S + 64, 64)).equals(fill(64, 0x44))).toBe(true)
        expect(b2).toEqual([-1, 128, -1])
    })
})

describe("slotCrc", () => {
    it("is the CRC-32 of exactly `size` bytes at the address, read in pieces", async () => {
        const nor = new NorFlash({ sectorSize: S, programUnit: 8, size: 4 * S })
        const data = Buffer.alloc(1500)
        for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff
        await nor.program(S, Buffer.concat([data, fill(4, 0)]))
        expect(await slotCrc(nor, S, 1500, budget())).toBe(crc32(data))
        expect(await slotCrc(nor, S, 1, budget())).toBe(crc32(data.subarray(0, 1)))
        expect(await slotCrc(nor, S, 0, budget())).toBe(0)
        expect(await slotCrc(nor, S, 512, budget())).toBe(crc32(data.subarray(0, 512)))
        expect(await slotCrc(nor, S, 1024, budget())).toBe(crc32(data.subarray(0, 1024)))
    })
})
