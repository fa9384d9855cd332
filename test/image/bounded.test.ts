// The check is written for the VM and for a slot in flash: it must read in bounded pieces, never
// more than one chunk at a time, each byte once, and yield (a real sleep in the VM) every `budget`
// hashed bytes. A malformed image must fail in a few small reads, before any hashing.
import { describe, expect, it } from "vitest"
import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { packImage } from "../../src/image/pack"
import { assemble, countingYielder, loggingReader, pattern, u32 } from "./assemble"

const v = { major: 1, minor: 0, revision: 0, build: 0 }

describe("bounded reads and yields", () => {
    it("a 60 KB image: reads of at most 256 bytes, each hashed byte read once, a yield every 256 bytes", async () => {
        const p = await packImage(pattern(60 * 1024), { version: v, headerSize: 0x200, securityCounter: 3, yielder: async () => {} })
        const { reader, log } = loggingReader(p.image)
        const y = countingYielder()
        const c = await checkImage(reader, { maxSize: 64 * 1024, yielder: y.yielder })
        const hashed = c.header.hdrSize + c.header.imgSize + c.header.protTlvSize
        expect(log.maxLen).toBe(256)
        // after the structure (header, TLV infos and headers, ...) the hash reads cover [0, hashed) once, in order
        const firstHashRead = log.reads.findIndex((r, i) => i > 0 && r.offset === 0)
        const hashReads = log.reads.slice(firstHashRead)
        let next = 0
        for (const r of hashReads) {
            expect(r.offset).toBe(next)
            next += r.len
        }
        expect(next).toBe(hashed)
        // the rest: the header (32), a few 4-byte TLV infos and headers, 1 byte at the end, the counter, the hash value
        const small = log.reads.length - hashReads.length
        expect(small).toBeLessThanOrEqual(10)
        expect(log.bytes).toBeLessThan(hashed + 32 + 10 * 4 + 32 + 1)
        expect(y.count()).toBe(Math.floor(hashed / 256))
    })

    it("chunk and budget are the caller's: 64-byte reads, a yield every 128 bytes", async () => {
        const p = await packImage(pattern(4000), { version: v, yielder: async () => {} })
        const { reader, log } = loggingReader(p.image)
        const y = countingYielder()
        const c = await checkImage(reader, { chunk: 64, budget: 128, yielder: y.yielder })
        const hashed = c.header.hdrSize + c.header.imgSize
        expect(log.maxLen).toBe(64)
        expect(y.count()).toBe(Math.floor(hashed / 128))
    })

    it("a large chunk is still hashed in 256-byte steps between budget checks", async () => {
        const p = await packImage(pattern(8192), { version: v, yielder: async () => {} })
        const { reader, log } = loggingReader(p.image)
        const y = countingYielder()
        await checkImage(reader, { chunk: 4096, budget: 256, yielder: y.yielder })
        expect(log.maxLen).toBe(4096)
        expect(y.count()).toBe(Math.floor((32 + 8192) / 256))
    })

    const malformed: [string, Buffer][] = [
        ["bad magic", assemble({ magic: 0, body: pattern(50000) })],
        ["no SHA-256 TLV", assemble({ plain: [], body: pattern(50000) })],
        ["a TLV past its area", assemble({ plainTot: 50, body: pattern(50000) })],
        ["a protected size mismatch", assemble({ prot: [{ type: 0x50, value: u32(1) }], protTot: 11, body: pattern(50000) })],
    ]
    for (const [name, img] of malformed)
        it(`${name} in a 50 KB image fails in a few small reads, before hashing`, async () => {
            const { reader, log } = loggingReader(img)
            const y = countingYielder()
            await expect(checkImage(reader, { yielder: y.yielder })).rejects.toBeInstanceOf(ImageError)
            expect(log.maxLen).toBeLessThanOrEqual(32)
            expect(log.bytes).toBeLessThan(100)
            expect(y.count()).toBe(0)
        })
})
