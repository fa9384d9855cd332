// Interop with imgtool (MCUboot's image tool, pinned in .venv): an image it signs with an Ed25519
// key carries SHA256 (0x10), KEYHASH (0x01) and ED25519 (0x24) TLVs; the signature verifies with
// checkEd25519 over the 32-byte digest, the key hash is keyHash() of the key, and keys imgtool
// generates load in node:crypto (PEM PKCS#8 / SubjectPublicKeyInfo, as `npm run image -- keygen` will write).
import { describe, expect, it } from "vitest"
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { checkEd25519 } from "../../src/crypto/ed25519"
import { keyForHash, keyHash, publicKeyFromSpki, spkiOf } from "../../src/crypto/ed25519-key"
import { imgtool, imgtoolCreate, imgtoolDump } from "../image/imgtool"

const rawPublic = (pem: string) => publicKeyFromSpki(createPublicKey(pem).export({ format: "der", type: "spki" }) as Buffer)

describe("Ed25519 with imgtool", () => {
    it("an image imgtool signs verifies: ED25519 TLV over the SHA256 TLV, KEYHASH = keyHash(key)", async () => {
        const dir = mkdtempSync(join(tmpdir(), "ed25519-imgtool-"))
        try {
            const { privateKey, publicKey } = generateKeyPairSync("ed25519")
            const keyFile = join(dir, "key.pem")
            writeFileSync(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }))
            const body = Buffer.alloc(3000)
            for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff
            writeFileSync(join(dir, "body.bin"), body)
            const img = join(dir, "signed.img")
            imgtoolCreate(["--key", keyFile, "--version", "1.2.3", "--header-size", "0x200", "--pad-header", "--slot-size", "0x4000", join(dir, "body.bin"), img])
            const tlvs = imgtoolDump(img).tlv_area.tlvs
            const tlv = (type: number) => Buffer.from(tlvs.find(t => t.type === type)!.data.replace(/^0x/, ""), "hex")
            const digest = tlv(0x10)
            const sig = tlv(0x24)
            const raw = publicKeyFromSpki(publicKey.export({ format: "der", type: "spki" }) as Buffer)
            expect(digest.length).toBe(32)
            expect(sig.length).toBe(64)
            expect(tlv(0x01).equals(keyHash(raw))).toBe(true)
            expect(await checkEd25519(raw, digest, sig, async () => {})).toEqual({ ok: true })
            // rotation: of several keys, the KEYHASH picks this one
            const other = publicKeyFromSpki(generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }) as Buffer)
            expect(keyForHash([other, raw], tlv(0x01), 0)!.equals(raw)).toBe(true)
            expect(keyForHash([other], tlv(0x01), 0)).toBeNull()
            // the image's own bytes changed: the digest no longer matches what was signed
            digest[0] ^= 1
            expect(await checkEd25519(raw, digest, sig, async () => {})).toEqual({ ok: false, reason: "bad-signature" })
            expect(await checkEd25519(other, tlv(0x10), sig, async () => {})).toEqual({ ok: false, reason: "bad-signature" })
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })

    it("imgtool's own Ed25519 keys load in node:crypto, and their signatures verify here", async () => {
        const dir = mkdtempSync(join(tmpdir(), "ed25519-keygen-"))
        try {
            const keyFile = join(dir, "k.pem")
            expect(imgtool(["keygen", "-k", keyFile, "-t", "ed25519"]).status).toBe(0)
            const pubFile = join(dir, "k.pub.pem")
            expect(imgtool(["getpub", "-k", keyFile, "-e", "pem", "-o", pubFile]).status).toBe(0)
            const raw = rawPublic(readFileSync(pubFile, "utf8"))
            expect(raw!.length).toBe(32)
            expect(spkiOf(raw!).equals(createPublicKey(readFileSync(pubFile, "utf8")).export({ format: "der", type: "spki" }) as Buffer)).toBe(true)
            const digest = Buffer.alloc(32, 0x5a)
            const sig = sign(null, digest, createPrivateKey(readFileSync(keyFile, "utf8")))
            expect(await checkEd25519(raw!, digest, sig, async () => {})).toEqual({ ok: true })
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })

    it("publicKeyFromSpki refuses anything but a 44-byte Ed25519 SubjectPublicKeyInfo", () => {
        const raw = Buffer.alloc(32, 1)
        expect(publicKeyFromSpki(spkiOf(raw))!.equals(raw)).toBe(true)
        const bad = spkiOf(raw)
        bad[8] ^= 1 // another algorithm OID
        expect(publicKeyFromSpki(bad)).toBeNull()
        expect(publicKeyFromSpki(spkiOf(raw).subarray(0, 43))).toBeNull()
    })
})
