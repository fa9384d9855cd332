import { describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import { crc32 as zlibCrc32 } from "node:zlib"
import { Md5 } from "../../src/verify/md5"
import { Sha256 } from "../../src/verify/sha256"
import { DigestSet, MAX_MIDSTATE } from "../../src/verify/digest-set"
import { StepBudget } from "../../src/lib/step-budget"
import { rng } from "../helpers/rng"

const hex = (b: Buffer) => b.toString("hex")
const nodeHash = (alg: string, b: Buffer) => createHash(alg).update(b).digest("hex")
const noYield = () => new StepBudget(1 << 30, async () => {})

function md5(b: Buffer) {
    const h = new Md5()
    h.update(b, 0, b.length)
    return hex(h.digest())
}
function sha256(b: Buffer) {
    const h = new Sha256()
    h.update(b, 0, b.length)
    return hex(h.digest())
}

describe("MD5 and SHA-256: published vectors", () => {
    it("RFC 1321 test suite", () => {
        const v: [string, string][] = [
            ["", "d41d8cd98f00b204e9800998ecf8427e"],
            ["a", "0cc175b9c0f1b6a831c399e269772661"],
            ["abc", "900150983cd24fb0d6963f7d28e17f72"],
            ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
            ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
            ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
            ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
        ]
        for (const [m, d] of v) expect(md5(Buffer.from(m)), m).toBe(d)
    })

    it("FIPS 180 examples, including one million 'a'", () => {
        expect(sha256(Buffer.from("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        expect(sha256(Buffer.from(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        expect(sha256(Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        const h = new Sha256()
        const chunk = Buffer.alloc(1000, 0x61)
        for (let i = 0; i < 1000; i++) h.update(chunk, 0, 1000)
        expect(hex(h.digest())).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    })

    it("match Node's crypto on every length 0..300 and on random data split at random points", () => {
        const r = rng(42)
        for (let n = 0; n <= 300; n++) {
            const b = r.bytes(n)
            expect(md5(b), `md5 n=${n}`).toBe(nodeHash("md5", b))
            expect(sha256(b), `sha n=${n}`).toBe(nodeHash("sha256", b))
        }
        for (let k = 0; k < 200; k++) {
            const b = r.bytes(r.int(0, 5000))
            const m = new Md5()
            const s = new Sha256()
            for (let off = 0; off < b.length; ) {
                const end = Math.min(b.length, off + r.int(1, 200))
                m.update(b, off, end)
                s.update(b, off, end)
                off = end
            }
            expect(hex(m.digest())).toBe(nodeHash("md5", b))
            expect(hex(s.digest())).toBe(nodeHash("sha256", b))
        }
    })
})

describe("DigestSet", () => {
    const opts = { sha256: true, crc32: true, budget: noYield() }

    it("computes MD5, SHA-256 and CRC-32 (ISO-HDLC, as zlib) over a stream", async () => {
        const b = rng(7).bytes(27954)
        const d = new DigestSet(opts)
        for (let off = 0; off < b.length; off += 1024) await d.update(b, off, Math.min(b.length, off + 1024))
        const v = d.finish()
        expect(v).toEqual({ length: 27954, md5: nodeHash("md5", b), sha256: nodeHash("sha256", b), crc32: zlibCrc32(b) })
    })

    it("leaves out what is not configured", async () => {
        const b = Buffer.from("abc")
        const d = new DigestSet({ sha256: false, crc32: false, budget: noYield() })
        await d.update(b, 0, 3)
        expect(d.finish()).toEqual({ length: 3, md5: "900150983cd24fb0d6963f7d28e17f72", sha256: "", crc32: -1 })
    })

    it("yields between slices: a slice of the stream per budget turn", async () => {
        let yields = 0
        const d = new DigestSet({ sha256: true, crc32: true, sliceBytes: 256, budget: new StepBudget(256, async () => void yields++) })
        const b = Buffer.alloc(4096)
        await d.update(b, 0, b.length)
        expect(yields).toBe(16)
    })

    it("saves and restores its midstate at any offset, and the result is the same", async () => {
        const r = rng(3)
        const b = r.bytes(6000)
        for (const cut of [0, 1, 63, 64, 65, 1024, 1500, 4095, 5999, 6000]) {
            const first = new DigestSet(opts)
            await first.update(b, 0, cut)
            const saved = first.save()
            expect(saved.length).toBeLessThanOrEqual(MAX_MIDSTATE)
            const second = DigestSet.restore(saved, opts)
            expect(second, `cut ${cut}`).not.toBeNull()
            expect(second.md5.length).toBe(cut)
            await second.update(b, cut, b.length)
            expect(second.finish(), `cut ${cut}`).toEqual({
                length: 6000,
                md5: nodeHash("md5", b),
                sha256: nodeHash("sha256", b),
                crc32: zlibCrc32(b),
            })
        }
    })

    it("refuses a midstate that is corrupt or was made with other options", async () => {
        const d = new DigestSet(opts)
        await d.update(Buffer.alloc(100, 1), 0, 100)
        const saved = d.save()
        expect(DigestSet.restore(saved, { sha256: false, crc32: true })).toBeNull()
        expect(DigestSet.restore(saved, { sha256: true, crc32: false })).toBeNull()
        expect(DigestSet.restore(saved.subarray(0, saved.length - 1), opts)).toBeNull()
        const badVersion = Buffer.from(saved)
        badVersion[0] = 9
        expect(DigestSet.restore(badVersion, opts)).toBeNull()
        const badPending = Buffer.from(saved)
        badPending[60] = 3 // 100 % 64 = 36 pending bytes, not 3
        expect(DigestSet.restore(badPending, opts)).toBeNull()
        expect(DigestSet.restore(null, opts)).toBeNull()
        expect(DigestSet.restore(Buffer.alloc(0), opts)).toBeNull()
    })
})
