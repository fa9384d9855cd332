// The block writer between an agent's blocks and the slot, on its own: whatever the block sizes,
// the slot gets whole program units (a short write only at the image's end), the hasher gets
// exactly the bytes written and in order, and the journal is saved exactly at every checkpoint
// (never at the end), with the hasher's state at that offset.
import { describe, expect, it } from "vitest"
import { BlockWriter, SlotSink } from "../../src/flash/block-writer"
import { BlockHasher } from "../../src/flash/store-port"

function pattern(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff
    return b
}

/** A sink and a hasher that record everything. */
function recorder() {
    const writes: [number, number][] = []
    const journals: [number, number, number][] = []
    const slot: number[] = []
    let hashed = 0
    const hashedBytes: number[] = []
    const sink: SlotSink = {
        async write(offset, data) {
            writes.push([offset, data.length])
            for (let i = 0; i < data.length; i++) slot[offset + i] = data[i]
        },
        async saveJournal(written, verified, midstate) {
            journals.push([written, verified, midstate.readUInt32LE(0)])
        },
    }
    const hasher: BlockHasher = {
        async update(b: Buffer, from: number, to: number) {
            for (let i = from; i < to; i++) hashedBytes.push(b[i])
            hashed += to - from
        },
        save() {
            const m = Buffer.alloc(4)
            m.writeUInt32LE(hashed)
            return m
        },
    } as any
    return { sink, hasher, writes, journals, slot, hashedBytes }
}

/** Feed `img` from `from` in blocks of the given sizes (cycled); returns the recorder and the put() results. */
async function feed(img: Buffer, sizes: number[], unit: number, every: number, from = 0) {
    const r = recorder()
    const w = new BlockWriter(r.sink, r.hasher, unit, img.length, from, every)
    const saved: boolean[] = []
    let off = from
    for (let i = 0; off < img.length; i++) {
        const n = Math.min(sizes[i % sizes.length], img.length - off)
        expect(w.next()).toBe(off)
        // a block in a buffer larger than its length, as the piece reader lends it
        const buf = Buffer.alloc(n + 5, 0xee)
        img.copy(buf, 0, off, off + n)
        saved.push(await w.put(off, buf, n))
        off += n
    }
    expect(w.next()).toBe(img.length)
    expect(w.written).toBe(img.length)
    return { ...r, saved }
}

describe("BlockWriter", () => {
    for (const sizes of [[1024], [974], [1000, 24, 3, 5], [4096], [5000], [1]])
        it(`blocks of ${sizes.join("/")} bytes: whole units to the slot, every byte hashed once in order, a checkpoint at every 4 KB but the end`, async () => {
            const img = pattern(10_003)
            const { writes, journals, slot, hashedBytes } = await feed(img, sizes, 8, 4096)
            expect(Buffer.from(slot).equals(img)).toBe(true)
            expect(Buffer.from(hashedBytes).equals(img)).toBe(true)
            let pos = 0
            for (const [o, n] of writes) {
                expect(o).toBe(pos)
                expect(o % 8).toBe(0)
                if (o + n < img.length) expect(n % 8).toBe(0)
                // a write never crosses a checkpoint
                expect(Math.floor(o / 4096)).toBe(Math.floor((o + n - 1) / 4096))
                pos += n
            }
            expect(pos).toBe(img.length)
            expect(journals).toEqual([
                [4096, 4096, 4096],
                [8192, 8192, 8192],
            ])
        })

    it("put() is true exactly for the block that completed a checkpoint", async () => {
        const img = pattern(3 * 1024)
        const { saved } = await feed(img, [1024], 8, 2048)
        expect(saved).toEqual([false, true, false])
    })

    it("an image that ends on a checkpoint saves no journal at its end", async () => {
        const { journals, saved } = await feed(pattern(8192), [1024], 8, 4096)
        expect(journals.map(j => j[0])).toEqual([4096])
        expect(saved.filter(x => x).length).toBe(1)
    })

    it("resumes from a checkpoint: writes and hashes from there on only", async () => {
        const img = pattern(9000)
        const { writes, journals, hashedBytes } = await feed(img, [974], 8, 4096, 4096)
        expect(writes[0][0]).toBe(4096)
        expect(Buffer.from(hashedBytes).equals(img.subarray(4096))).toBe(true)
        // the hasher's own count restarts, the journal offset does not
        expect(journals).toEqual([[8192, 8192, 4096]])
    })

    it("a block at any offset but next() is refused, and nothing is written", async () => {
        const r = recorder()
        const w = new BlockWriter(r.sink, r.hasher, 8, 4096, 0, 4096)
        await w.put(0, pattern(13), 13)
        expect(w.next()).toBe(13)
        expect(r.writes).toEqual([[0, 8]]) // 5 bytes carried
        await expect(w.put(8, pattern(8), 8)).rejects.toMatchObject({ reason: "bad-argument", message: "image store: bad-argument: block at 8, expected 13" })
        await expect(w.put(14, pattern(8), 8)).rejects.toMatchObject({ reason: "bad-argument" })
        expect(r.writes).toEqual([[0, 8]])
        // a block too small to complete a unit is carried whole
        await w.put(13, pattern(2), 2)
        expect(w.next()).toBe(15)
        expect(r.writes).toEqual([[0, 8]])
        await w.put(15, pattern(1), 1)
        expect(r.writes).toEqual([
            [0, 8],
            [8, 8],
        ])
    })

    it("unit 1 writes every block as it comes (no carry)", async () => {
        const { writes } = await feed(pattern(100), [7, 30], 1, 4096)
        expect(writes).toEqual([
            [0, 7],
            [7, 30],
            [37, 7],
            [44, 30],
            [74, 7],
            [81, 19],
        ])
    })

    it("a block exactly the caller's buffer is written as it is; a shorter length only its part", async () => {
        const r = recorder()
        const w = new BlockWriter(r.sink, r.hasher, 8, 32, 0, 4096)
        const b = pattern(16)
        b[15] = 0x42
        await w.put(0, b, 8)
        expect(r.slot.length).toBe(8)
        await w.put(8, b, 16)
        expect(r.slot[23]).toBe(0x42)
        await w.put(24, pattern(8), 8)
        expect(r.writes).toEqual([
            [0, 8],
            [8, 16],
            [24, 8],
        ])
    })
})
