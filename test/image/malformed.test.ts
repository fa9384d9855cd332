// Every malformed image the checker must refuse, each with its reason. Images are assembled field
// by field (assemble.ts) with a correct SHA-256 unless the case is about the hash, so each case
// breaks exactly one rule.
import { describe, expect, it } from "vitest"
import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import type { ImageReader } from "../../src/image/reader"
import { bufferReader } from "../../src/image/reader"
import { assemble, pattern, u32 } from "./assemble"
import type { Parts } from "./assemble"

const fast = { yielder: async () => {} }

async function check(img: Buffer | ImageReader, maxSize?: number): Promise<ImageError | "ok"> {
    try {
        await checkImage(Buffer.isBuffer(img) ? bufferReader(img) : img, { maxSize, ...fast })
        return "ok"
    } catch (e) {
        if (e instanceof ImageError) return e
        throw e
    }
}

async function reason(img: Buffer, maxSize?: number): Promise<string> {
    const r = await check(img, maxSize)
    return r === "ok" ? r : r.reason
}

const sec = { type: 0x50, value: u32(5) }
const vendor = { type: 0xa0, value: Buffer.from("abc") }
const hash32 = { type: 0x10, value: Buffer.alloc(32) }

describe("the assembled images themselves check (the cases below each break one thing)", () => {
    const good: [string, Parts][] = [
        ["plain", {}],
        ["protected SEC_CNT and vendor TLV", { prot: [sec, vendor] }],
        ["0x200 header, RAM_LOAD, padding after", { hdrSize: 0x200, flags: 0x20, tail: Buffer.alloc(100, 0xff) }],
        ["empty body", { body: Buffer.alloc(0) }],
        ["an empty protected area", { prot: [] }],
    ]
    for (const [name, parts] of good) it(name, async () => expect(await reason(assemble(parts))).toBe("ok"))
})

describe("malformed images → their reason", () => {
    const img = assemble({ prot: [sec] })
    const cases: [string, () => Buffer, string, number?][] = [
        ["bad magic", () => assemble({ magic: 0x96f3b83c }), "bad-magic"],
        ["erased flash (all 0xff)", () => Buffer.alloc(4096, 0xff), "bad-magic"],
        ["header size 0", () => assemble({ hdrSize: 0 }), "bad-header-size"],
        ["header size 31", () => assemble({ hdrSize: 31 }), "bad-header-size"],
        ["encrypted (AES-128)", () => assemble({ flags: 0x04 }), "unsupported-flags"],
        ["encrypted (AES-256)", () => assemble({ flags: 0x08 }), "unsupported-flags"],
        ["compressed (LZMA2)", () => assemble({ flags: 0x400 }), "unsupported-flags"],
        ["compressed (LZMA2 + ARM thumb)", () => assemble({ flags: 0xc00 }), "unsupported-flags"],
        ["a flag MCUboot does not define", () => assemble({ flags: 0x10000 }), "unsupported-flags"],
        ["header + body as large as the slot", () => assemble({ body: pattern(4096 - 32) }), "too-large", 4096],
        ["TLV area past the slot's end", () => assemble({ body: pattern(4096 - 32 - 20) }), "too-large", 4096],
        ["body size larger than the file", () => assemble({ imgSize: 1 << 20 }), "truncated"],
        ["body size larger than the slot", () => assemble({ imgSize: 1 << 20 }), "too-large", 8192],
        ["shorter than a header", () => img.subarray(0, 31), "truncated"],
        ["cut inside the body", () => img.subarray(0, 200), "truncated"],
        ["cut inside the protected area", () => img.subarray(0, 32 + 300 + 6), "truncated"],
        ["cut one byte before the end", () => img.subarray(0, img.length - 1), "truncated"],
        ["no TLV info after the body", () => assemble({ plainMagic: 0x1234 }), "bad-tlv-magic"],
        ["protected info magic wrong", () => assemble({ prot: [sec], protMagic: 0x6909 }), "bad-tlv-magic"],
        ["TLV info total below 4", () => assemble({ plainTot: 3 }), "bad-tlv"],
        ["plain TLV entry past its area", () => assemble({ plain: ["hash", { type: 0x01, value: Buffer.alloc(32) }], plainTot: 4 + 36 + 20 }), "bad-tlv"],
        ["plain TLV header past its area", () => assemble({ plainTot: 4 + 36 + 2, tail: Buffer.alloc(2) }), "bad-tlv"],
        ["protected TLV entry past its area (into the plain area)", () => assemble({ prot: [sec, vendor], protTot: 4 + 8 + 5, protTlvSize: 4 + 8 + 5 }), "bad-tlv"],
        ["more than 32 TLVs", () => assemble({ prot: Array.from({ length: 32 }, (_, i) => ({ type: 0xa0 + i, value: Buffer.alloc(0) })) }), "bad-tlv"],
        ["header says protected TLVs, the area is plain", () => assemble({ protTlvSize: 12 }), "bad-protected-size"],
        ["header says no protected TLVs, there are", () => assemble({ prot: [sec], protTlvSize: 0 }), "bad-protected-size"],
        ["header and protected info disagree", () => assemble({ prot: [sec], protTot: 13 }), "bad-protected-size"],
        ["protected size 2 (below its info)", () => assemble({ protTlvSize: 2 }), "bad-protected-size"],
        ["no SHA-256 TLV", () => assemble({ plain: [] }), "no-hash"],
        ["the hash TLV is a vendor type", () => assemble({ plain: [{ type: 0xa1, value: Buffer.alloc(32) }] }), "no-hash"],
        ["SHA-384 only", () => assemble({ plain: [{ type: 0x11, value: Buffer.alloc(48) }] }), "unsupported-hash"],
        ["two SHA-256 TLVs", () => assemble({ plain: ["hash", "hash"] }), "duplicate-tlv"],
        ["SHA-256 TLV of 31 bytes", () => assemble({ plain: [{ type: 0x10, value: Buffer.alloc(31) }] }), "bad-tlv-length"],
        ["SHA-256 TLV of 33 bytes", () => assemble({ plain: [{ type: 0x10, value: Buffer.alloc(33) }] }), "bad-tlv-length"],
        ["security counter of 8 bytes", () => assemble({ prot: [{ type: 0x50, value: Buffer.alloc(8) }] }), "bad-tlv-length"],
        ["SHA-256 TLV in the protected area", () => assemble({ prot: [hash32] }), "misplaced-tlv"],
        ["security counter outside the protected area", () => assemble({ plain: ["hash", sec] }), "misplaced-tlv"],
        ["two security counters", () => assemble({ prot: [sec, sec] }), "duplicate-tlv"],
        ["a wrong SHA-256 value", () => assemble({ plain: [hash32] }), "hash-mismatch"],
        ["one body bit flipped", () => flip(img, 100), "hash-mismatch"],
        ["one header bit flipped (the version)", () => flip(img, 20), "hash-mismatch"],
        ["one protected TLV bit flipped", () => flip(img, 32 + 300 + 8), "hash-mismatch"],
    ]
    for (const [name, make, expected, slot] of cases)
        it(`${name} → ${expected}`, async () => {
            const r = await check(make(), slot)
            expect(r === "ok" ? r : r.reason).toBe(expected)
            if (r !== "ok") expect(r.message.startsWith(`image: ${expected}: `)).toBe(true)
        })

    it("a bit flipped in the plain TLV area outside the hash value does not matter: it is not hashed", async () => {
        const withKey = assemble({ plain: ["hash", { type: 0x01, value: Buffer.alloc(32) }] })
        expect(await reason(flip(withKey, withKey.length - 1))).toBe("ok")
    })

    it("a reader that throws → read-failed, with what it said", async () => {
        const r = await check({
            read: async (off: number) => {
                if (off >= 32) throw new Error("flash: ECC error")
                return img.subarray(0, 32)
            },
        })
        expect(r === "ok" ? r : r.reason).toBe("read-failed")
        expect(r === "ok" ? "" : r.message).toContain("flash: ECC error")
    })
})

function flip(b: Buffer, at: number): Buffer {
    const c = Buffer.from(b)
    c[at] ^= 0x10
    return c
}
