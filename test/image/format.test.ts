// The image format both ways in Node: what packImage builds, checkImage reads back with the same
// header fields and TLVs; the bytes agree with images assembled field by field (assemble.ts) and
// with node:crypto's SHA-256; the builder refuses what cannot be encoded.
import { describe, expect, it } from "vitest"
import { checkImage, readImageLayout } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { IMAGE_F_RAM_LOAD, decodeHeader, encodeHeader, flagNames } from "../../src/image/header"
import { packImage, PackOptions } from "../../src/image/pack"
import { bufferReader } from "../../src/image/reader"
import { TLV_SEC_CNT, TLV_SHA256, tlvFixedLength, tlvName } from "../../src/image/tlv"
import { assemble, pattern, sha256, u32 } from "./assemble"

const fast = { yielder: async () => {} }
const v200 = { major: 2, minor: 0, revision: 0, build: 0 }

async function reasonOf(p: Promise<unknown>): Promise<string> {
    try {
        await p
    } catch (e) {
        if (e instanceof ImageError) return e.reason
        throw e
    }
    return "ok"
}

describe("pack → check round trip", () => {
    const cases: [string, Buffer, Omit<PackOptions, "version" | "yielder">][] = [
        ["empty body, defaults", Buffer.alloc(0), {}],
        ["1 KB body, 0x200 header", pattern(1024), { headerSize: 0x200 }],
        ["odd sizes, security counter and two vendor TLVs", pattern(777), { headerSize: 36, securityCounter: 0x01020304, protectedTlvs: [{ type: 0xa0, value: Buffer.from("hello") }, { type: 0x1234, value: Buffer.alloc(0) }] }],
        ["load address, RAM_LOAD, build number", pattern(64), { loadAddr: 0x20000000, flags: IMAGE_F_RAM_LOAD }],
        ["padded to a slot with zeros", pattern(100), { padTo: 4096, erasedValue: 0 }],
    ]
    for (const [name, body, opts] of cases)
        it(name, async () => {
            const version = { major: 1, minor: 2, revision: 3, build: opts.loadAddr ? 4294967295 : 4 }
            const p = await packImage(body, { version, ...opts, ...fast })
            const c = await checkImage(bufferReader(p.image), { maxSize: opts.padTo, ...fast })
            expect(c.header).toEqual({
                loadAddr: opts.loadAddr ?? 0,
                hdrSize: opts.headerSize ?? 32,
                protTlvSize: p.header.protTlvSize,
                imgSize: body.length,
                flags: opts.flags ?? 0,
                version,
            })
            expect(c.size).toBe(p.size)
            expect(p.image.length).toBe(opts.padTo ?? p.size)
            const hashed = c.header.hdrSize + body.length + c.header.protTlvSize
            expect(c.sha256).toEqual(sha256(p.image.subarray(0, hashed)))
            expect(c.sha256).toEqual(p.sha256)
            expect(p.image.subarray(c.header.hdrSize, c.header.hdrSize + body.length)).toEqual(body)
            expect(c.securityCounter).toBe(opts.securityCounter ?? -1)
            const protTypes = c.tlvs.filter(t => t.protected).map(t => t.type)
            expect(protTypes).toEqual([...(opts.securityCounter !== undefined ? [TLV_SEC_CNT] : []), ...(opts.protectedTlvs ?? []).map(t => t.type)])
            expect(c.tlvs.filter(t => !t.protected).map(t => t.type)).toEqual([TLV_SHA256])
            for (let i = p.size; i < p.image.length; i++) if (p.image[i] !== (opts.erasedValue ?? 0xff)) throw new Error(`padding byte ${i}`)
        })

    it("is byte for byte the image assembled field by field (header padding 0xff, SEC_CNT first)", async () => {
        const body = pattern(500)
        const prot = [
            { type: TLV_SEC_CNT, value: u32(9) },
            { type: 0xa5, value: Buffer.from("0102", "hex") },
        ]
        const p = await packImage(body, { version: { major: 3, minor: 1, revision: 513, build: 77 }, headerSize: 64, securityCounter: 9, protectedTlvs: [prot[1]], ...fast })
        const raw = assemble({ body, hdrSize: 64, prot, version: [3, 1, 513, 77] })
        raw.fill(0xff, 32, 64) // imgtool --pad-header fills the header padding with the erased value
        // the hash was computed over zero padding in assemble: recompute over 0xff padding
        const hashed = 64 + 500 + p.header.protTlvSize
        sha256(raw.subarray(0, hashed)).copy(raw, hashed + 8)
        expect(p.image).toEqual(raw)
    })

    it("plain TLVs after the hash (a key hash made elsewhere) are kept and listed", async () => {
        const keyhash = pattern(32, 3)
        const p = await packImage(pattern(10), { version: v200, tlvs: [{ type: 0x01, value: keyhash }], ...fast })
        const c = await checkImage(bufferReader(p.image), fast)
        expect(c.tlvs.map(t => `${tlvName(t.type)}:${t.length}`)).toEqual(["SHA256:32", "KEYHASH:32"])
        expect(p.image.subarray(c.tlvs[1].offset, c.tlvs[1].offset + 32)).toEqual(keyhash)
    })

    it("readImageLayout lists an image whose hash is wrong without hashing it", async () => {
        const p = await packImage(pattern(50), { version: v200, ...fast })
        p.image[40] ^= 1
        const l = await readImageLayout(bufferReader(p.image))
        expect(l.header.imgSize).toBe(50)
        expect(await reasonOf(checkImage(bufferReader(p.image), fast))).toBe("hash-mismatch")
    })
})

describe("TLV lengths", () => {
    it("tlvFixedLength: the lengths a SHA-256 image fixes (its table), -1 for every other type", () => {
        const fixed: Record<number, number> = { 0x01: 32, 0x10: 32, 0x11: 48, 0x12: 64, 0x24: 64, 0x50: 4, 0x40: 12, 0x74: 16, 0x75: 16, 0x25: 1 }
        for (let t = 0; t < 0x10000; t++) expect(tlvFixedLength(t), `type ${t}`).toBe(t in fixed ? fixed[t] : -1)
    })
})

describe("header", () => {
    it("refuses a header whose hashed areas pass 32 bits", () => {
        const h = { loadAddr: 0, hdrSize: 0x100, protTlvSize: 0, imgSize: 0xffffff00, flags: 0, version: v200 }
        expect(() => encodeHeader(h)).toThrow(/too-large/)
    })

    it("encodes and decodes every field, u32 extremes included", () => {
        const h = { loadAddr: 0xffffffff, hdrSize: 0xffff, protTlvSize: 0xffff, imgSize: 0xfffe0000, flags: 0x131, version: { major: 255, minor: 255, revision: 65535, build: 0xffffffff } }
        const b = encodeHeader(h)
        expect(b.length).toBe(32)
        expect(b.readUInt32LE(0)).toBe(0x96f3b83d)
        expect(b.readUInt32LE(28)).toBe(0)
        expect(decodeHeader(b)).toEqual(h)
    })

    it("names the flags, MCUboot's and unknown bits", () => {
        expect(flagNames(0)).toEqual([])
        expect(flagNames(0x131)).toEqual(["PIC", "NON_BOOTABLE", "RAM_LOAD", "ROM_FIXED"])
        expect(flagNames(0x80000404)).toEqual(["ENCRYPTED_AES128", "COMPRESSED_LZMA2", "0x80000000"])
    })
})

describe("the builder refuses what cannot be encoded", () => {
    const cases: [string, Partial<PackOptions>, string][] = [
        ["header size below 32", { headerSize: 31 }, "bad-header-size"],
        ["header size over 16 bits", { headerSize: 0x10000 }, "bad-header-size"],
        ["major 256", { version: { major: 256, minor: 0, revision: 0, build: 0 } }, "bad-version"],
        ["fractional revision", { version: { major: 1, minor: 0, revision: 1.5, build: 0 } }, "bad-version"],
        ["negative load address", { loadAddr: -1 }, "bad-argument"],
        ["security counter over 32 bits", { securityCounter: 2 ** 32 }, "bad-argument"],
        ["a SHA-256 TLV given by the caller", { tlvs: [{ type: 0x10, value: Buffer.alloc(32) }] }, "bad-argument"],
        ["a security counter as a plain TLV", { tlvs: [{ type: 0x50, value: Buffer.alloc(4) }] }, "bad-argument"],
        ["a key hash of 31 bytes", { tlvs: [{ type: 0x01, value: Buffer.alloc(31) }] }, "bad-argument"],
        ["TLV type 0xffff", { protectedTlvs: [{ type: 0xffff, value: Buffer.alloc(1) }] }, "bad-argument"],
        ["a TLV value over 65535 bytes", { protectedTlvs: [{ type: 0xa0, value: Buffer.alloc(65536) }] }, "bad-argument"],
        ["more TLVs than the checker reads", { protectedTlvs: Array.from({ length: 32 }, (_, i) => ({ type: 0xa0 + i, value: Buffer.alloc(1) })) }, "bad-argument"],
        ["erased value 0x55", { erasedValue: 0x55 }, "bad-argument"],
        ["pad-to smaller than the image", { padTo: 100 }, "too-large"],
    ]
    for (const [name, opts, reason] of cases)
        it(`${name} → ${reason}`, async () => {
            expect(await reasonOf(packImage(pattern(200), { version: v200, ...opts, ...fast }))).toBe(reason)
        })
})
