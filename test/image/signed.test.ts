// Signed images (issue 17) over WHOLE images: checkImage with trusted keys refuses every broken
// image with its typed reason (a bit flipped at every byte of a small signed image, the TLV area
// truncated, TLV lengths that lie, duplicate and misplaced TLVs, a wrong key, an unsigned image, a
// lower security counter), accepts what imgtool signs, and what we sign passes `imgtool verify`
// and is imgtool's bytes. The compiled-in key module is what `npm run image -- keys` writes.
import { describe, expect, it } from "vitest"
import { generateKeyPairSync, sign } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { checkImage } from "../../src/image/check"
import type { CheckOptions } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { bufferReader } from "../../src/image/reader"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { parseVersion } from "../../src/image/version"
import { keysModule, loadPrivateKey, packSigned, rawPublicKey, readTrustedKeys, trustedKeyOf } from "../../tools/image/keys"
import { assemble, pattern, sha256 } from "./assemble"
import type { Parts, RawTlv } from "./assemble"
import { imgtool } from "./imgtool"

const DEV_KEY = "keys/dev-ed25519.TEST-KEY.pem"
const dev = loadPrivateKey(DEV_KEY)
const other = generateKeyPairSync("ed25519").privateKey
const devTrusted = trustedKeyOf(rawPublicKey(dev))
const otherTrusted = trustedKeyOf(rawPublicKey(other))
const fast = { yielder: async () => {}, chunk: 4096, budget: 1 << 30 }

async function reason(image: Buffer, o: CheckOptions = { keys: [devTrusted] }): Promise<string> {
    try {
        await checkImage(bufferReader(image), { ...fast, ...o })
        return "ok"
    } catch (e) {
        if (e instanceof ImageError) return e.reason
        throw e
    }
}

type Entry = RawTlv | "hash" | "keyhash" | "sig"

/** An image assembled field by field (assemble.ts), its plain area from `plain`: "keyhash" and "sig" are key's, over the real digest. */
function signedImage(parts: Parts, plain: Entry[] = ["hash", "keyhash", "sig"], key: KeyObject = dev): Buffer {
    const unsigned = assemble({ ...parts, plain: [] })
    const digest = sha256(unsigned.subarray(0, unsigned.length - 4 - (parts.tail?.length ?? 0)))
    const entries = plain.map(e =>
        e === "keyhash" ? { type: 0x01, value: trustedKeyOf(rawPublicKey(key)).hash } : e === "sig" ? { type: 0x24, value: sign(null, digest, key) } : e
    )
    return assemble({ ...parts, plain: entries })
}

const counter = (n: number): RawTlv => {
    const v = Buffer.alloc(4)
    v.writeUInt32LE(n)
    return { type: 0x50, value: v }
}

describe("checkImage with keys", () => {
    const good = signedImage({ body: pattern(64), prot: [counter(3)] })

    it("a signed image checks: signedBy, securityCounter; the same image without keys checks unsigned", async () => {
        const c = await checkImage(bufferReader(good), { ...fast, keys: [otherTrusted, devTrusted], minSecurityCounter: 3 })
        expect(c.signedBy).toBe(1) // rotation: the KEYHASH picks the second key
        expect(c.securityCounter).toBe(3)
        const u = await checkImage(bufferReader(good), fast)
        expect(u.signedBy).toBe(-1)
        expect(await reason(good)).toBe("ok")
    })

    it("a bit flipped at every byte (header, body, every TLV; each of its 8 bits) is refused with a typed reason", async () => {
        expect(good.length).toBe(32 + 64 + 12 + 4 + 36 + 36 + 68)
        const seen = new Map<string, number>()
        for (let i = 0; i < good.length; i++)
            for (let bit = 0; bit < 8; bit++) {
                const b = Buffer.from(good)
                b[i] ^= 1 << bit
                const r = await reason(b, { keys: [devTrusted], minSecurityCounter: 3 })
                if (r === "ok") throw new Error(`byte ${i} bit ${bit}: accepted`)
                seen.set(r, (seen.get(r) ?? 0) + 1)
            }
        // every area of the image is reached: the header, the hash, the key hash, the signature, the counter, the TLV structure
        for (const r of ["bad-magic", "hash-mismatch", "unknown-key", "bad-signature", "counter-too-low", "unsigned", "bad-tlv", "bad-tlv-length"])
            expect(seen.get(r), r).toBeGreaterThan(0)
        expect([...seen.values()].reduce((a, b) => a + b, 0)).toBe(good.length * 8)
    }, 60_000) // 2 016 checks, a few hundred of them with a verification: seconds on a loaded machine

    it("the TLV area truncated at every length is refused (truncated or a TLV error), never accepted", async () => {
        const plainStart = 32 + 64 + 12
        for (let n = plainStart; n < good.length; n++) {
            const r = await reason(good.subarray(0, n))
            expect(["truncated", "bad-tlv"]).toContain(r)
        }
    })

    const cases: [string, Buffer, CheckOptions, string][] = [
        ["unsigned (no KEYHASH, no signature)", assemble({ body: pattern(64) }), { keys: [devTrusted] }, "unsigned"],
        ["a KEYHASH without a signature", signedImage({}, ["hash", "keyhash"]), { keys: [devTrusted] }, "unsigned"],
        ["a signature without a KEYHASH", signedImage({}, ["hash", "sig"]), { keys: [devTrusted] }, "unsigned"],
        ["signed by a key the device does not trust", signedImage({}, undefined, other), { keys: [devTrusted] }, "unknown-key"],
        ["a trusted KEYHASH over another key's signature", signedImage({}, ["hash", { type: 0x01, value: devTrusted.hash }, "sig"], other), { keys: [devTrusted] }, "bad-signature"],
        ["two signatures", signedImage({}, ["hash", "keyhash", "sig", "sig"]), { keys: [devTrusted] }, "duplicate-tlv"],
        ["two key hashes", signedImage({}, ["hash", "keyhash", "keyhash", "sig"]), { keys: [devTrusted] }, "duplicate-tlv"],
        ["two security counters", signedImage({ prot: [counter(3), counter(3)] }), { keys: [devTrusted] }, "duplicate-tlv"],
        ["the counter in the unprotected area", signedImage({}, ["hash", counter(9), "keyhash", "sig"]), { keys: [devTrusted] }, "misplaced-tlv"],
        ["the KEYHASH in the protected area", signedImage({ prot: [{ type: 0x01, value: devTrusted.hash }] }, ["hash", "sig"]), { keys: [devTrusted] }, "misplaced-tlv"],
        ["a signature of 63 bytes (its length lies)", signedImage({}, ["hash", "keyhash", { type: 0x24, value: Buffer.alloc(63) }]), { keys: [devTrusted] }, "bad-tlv-length"],
        ["a key hash of 33 bytes", signedImage({}, ["hash", { type: 0x01, value: Buffer.alloc(33) }, "sig"]), { keys: [devTrusted] }, "bad-tlv-length"],
        ["a counter lower than the device's", signedImage({ prot: [counter(4)] }), { keys: [devTrusted], minSecurityCounter: 5 }, "counter-too-low"],
        ["no counter (0) when the device is at 1", signedImage({}), { keys: [devTrusted], minSecurityCounter: 1 }, "counter-too-low"],
        ["a lower counter, keys not required", assemble({ prot: [counter(1)] }), { minSecurityCounter: 2 }, "counter-too-low"],
        ["no keys trusted at all", signedImage({}), { keys: [] }, "unknown-key"],
    ]
    for (const [name, image, o, expected] of cases) it(`${name} → ${expected}`, async () => expect(await reason(image, o)).toBe(expected))

    it("TLV lengths that lie: a length past the area's end, and a plain total past the image", async () => {
        const b = Buffer.from(good)
        const sigHeader = good.length - 68 // the ED25519 entry's type and length
        b.writeUInt16LE(65, sigHeader + 2)
        expect(await reason(b)).toBe("bad-tlv")
        const c = Buffer.from(good)
        c.writeUInt16LE(good.length - (32 + 64 + 12) + 4, 32 + 64 + 12 + 2) // it_tlv_tot 4 bytes too many
        expect(await reason(c)).toBe("truncated")
        const d = Buffer.from(good)
        d.writeUInt16LE(good.length - (32 + 64 + 12) - 4, 32 + 64 + 12 + 2) // 4 too few: the signature's entry runs past
        expect(await reason(d)).toBe("bad-tlv")
    })

    it("the counter rule: equal is accepted, no counter is 0", async () => {
        expect(await reason(good, { keys: [devTrusted], minSecurityCounter: 3 })).toBe("ok")
        const none = await checkImage(bufferReader(signedImage({})), { ...fast, keys: [devTrusted], minSecurityCounter: 0 })
        expect(none.securityCounter).toBe(-1)
    })
})

describe("interop with imgtool", () => {
    it("imgtool sign --key --security-counter N → our check accepts it (signedBy, counter); ours are imgtool's bytes and pass imgtool verify --key", async () => {
        const dir = mkdtempSync(join(tmpdir(), "signed-"))
        try {
            const body = pattern(5000, 11)
            writeFileSync(join(dir, "body.bin"), body)
            const theirs = join(dir, "imgtool.img")
            const r = imgtool(["sign", "--key", DEV_KEY, "--version", "2.0.0", "--security-counter", "7", "--header-size", "0x200", "--pad-header", "-S", "0x20000", join(dir, "body.bin"), theirs])
            expect(r.status, r.out).toBe(0)
            const img = readFileSync(theirs)
            const c = await checkImage(bufferReader(img), { ...fast, keys: [otherTrusted, devTrusted], minSecurityCounter: 7 })
            expect([c.signedBy, c.securityCounter]).toEqual([1, 7])
            expect(await reason(img, { keys: [devTrusted], minSecurityCounter: 8 })).toBe("counter-too-low")

            const ours = await packSigned(body, { version: parseVersion("2.0.0"), headerSize: 0x200, securityCounter: 7, yielder: fast.yielder }, dev)
            expect(ours.image.equals(img)).toBe(true) // Ed25519 is deterministic: the same key signs the same bytes
            const oursFile = join(dir, "ours.img")
            writeFileSync(oursFile, ours.image)
            const v = imgtool(["verify", "--key", DEV_KEY, oursFile])
            expect(v.status, v.out).toBe(0)
            expect(v.out).toContain("Image was correctly validated")
            const otherFile = join(dir, "other.pem")
            writeFileSync(otherFile, other.export({ format: "pem", type: "pkcs8" }))
            expect(imgtool(["verify", "--key", otherFile, oursFile]).status).not.toBe(0)
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })
})

describe("the compiled-in keys", () => {
    it("src/image/trusted-keys.ts is what `npm run image -- keys keys/trusted-keys.json` writes (the development TEST key)", () => {
        const keys = readTrustedKeys(["keys/trusted-keys.json"])
        expect(keysModule(keys, ["keys/trusted-keys.json"], "src/image/trusted-keys.ts")).toBe(readFileSync("src/image/trusted-keys.ts", "utf8"))
        expect(TRUSTED_KEYS.map(k => [Buffer.from(k.key).toString("hex"), Buffer.from(k.hash).toString("hex")])).toEqual([
            [devTrusted.key.toString("hex"), devTrusted.hash.toString("hex")],
        ])
        expect(readFileSync(DEV_KEY, "utf8")).toMatch(/TEST KEY.*NEVER SHIP/s)
    })
})
