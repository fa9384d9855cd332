// Ed25519 verification in DeviceScript's own VM (GC stress on): the five RFC 8032 §7.1 vectors
// pass, and a wrong signature, message or key, S + L, a small-order key and a non-canonical key
// are refused with their reasons, all without hitting the 131 072-opcode limit (a panic there
// cannot be caught, so finishing is the proof). SHA-512 is checked against FIPS 180 values, and
// MCUboot's KEYHASH of a key against node:crypto's.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { checkEd25519 } from "../../src/crypto/ed25519"
import { keyForHash, keyHash } from "../../src/crypto/ed25519-key"
import { sha512 } from "../../src/crypto/sha512"
import { newPace } from "../../src/crypto/pace"
import { toHex } from "../../src/lib/bytes"
import { RFC8032_VECTORS } from "../crypto/rfc8032-vectors"

async function sha512Hex(m: Buffer): Promise<string> {
    const out = Buffer.alloc(64)
    await sha512([m], out, 0, newPace())
    return toHex(out)
}

async function reason(key: Buffer, msg: Buffer, sig: Buffer): Promise<string> {
    const r = await checkEd25519(key, msg, sig)
    return r.ok ? "ok" : r.reason
}

const TEST1 = RFC8032_VECTORS[0]
const key1 = () => Buffer.from(TEST1.publicKey, "hex")
const sig1 = () => Buffer.from(TEST1.signature, "hex")

describe("Ed25519 in the VM", () => {
    test("SHA-512: FIPS 180 'abc' and the two-block message", async () => {
        expect(await sha512Hex(Buffer.from("abc"))).toBe(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        const two = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        expect(await sha512Hex(Buffer.from(two))).toBe(
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        )
    })

    test("the five RFC 8032 vectors verify", async () => {
        for (let i = 0; i < RFC8032_VECTORS.length; i++) {
            const v = RFC8032_VECTORS[i]
            const t0 = ds.millis()
            const r = await reason(Buffer.from(v.publicKey, "hex"), Buffer.from(v.message, "hex"), Buffer.from(v.signature, "hex"))
            console.log(`${v.name}: ${r} in ${ds.millis() - t0} ms`)
            expect(r).toBe("ok")
        }
    })

    test("a flipped bit in R, in S, in the message or in the key is refused", async () => {
        const msg = Buffer.from(RFC8032_VECTORS[2].message, "hex")
        const key = Buffer.from(RFC8032_VECTORS[2].publicKey, "hex")
        const sig = Buffer.from(RFC8032_VECTORS[2].signature, "hex")
        sig[5] ^= 0x10
        expect(await reason(key, msg, sig)).toBe("bad-signature")
        sig[5] ^= 0x10
        sig[40] ^= 0x01
        expect(await reason(key, msg, sig)).toBe("bad-signature")
        sig[40] ^= 0x01
        msg[1] ^= 0x80
        expect(await reason(key, msg, sig)).toBe("bad-signature")
        msg[1] ^= 0x80
        key[3] ^= 0x04
        const r = await reason(key, msg, sig)
        expect(r === "bad-signature" || r === "bad-point").toBe(true)
        key[3] ^= 0x04
        expect(await reason(key, msg, sig)).toBe("ok")
    })

    test("S + L, a small-order key, a non-canonical key and bad lengths are refused", async () => {
        // S + L: add L to the little-endian S of TEST 1
        const sig = sig1()
        const L = Buffer.from("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "hex")
        let c = 0
        for (let i = 0; i < 32; i++) {
            const v = sig[32 + i] + L[i] + c
            sig[32 + i] = v & 0xff
            c = v >> 8
        }
        expect(await reason(key1(), Buffer.alloc(0), sig)).toBe("non-canonical-s")
        // the neutral point (y = 1) as the key
        const neutral = Buffer.alloc(32)
        neutral[0] = 1
        expect(await reason(neutral, Buffer.alloc(0), sig1())).toBe("small-order")
        // y = p + 1 (non-canonical encoding of the neutral point)
        const big = Buffer.alloc(32)
        for (let i = 0; i < 32; i++) big[i] = 0xff
        big[0] = 0xee
        big[31] = 0x7f
        expect(await reason(big, Buffer.alloc(0), sig1())).toBe("bad-point")
        expect(await reason(Buffer.alloc(31), Buffer.alloc(0), sig1())).toBe("bad-length")
    })

    test("KEYHASH: SHA-256 of the key's SubjectPublicKeyInfo (node:crypto's value), picking one of several keys", () => {
        const hash = keyHash(key1())
        expect(toHex(hash)).toBe("06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9")
        const other = Buffer.from(RFC8032_VECTORS[1].publicKey, "hex")
        expect(toHex(keyForHash([other, key1()], hash, 0))).toBe(TEST1.publicKey)
        expect(keyForHash([other], hash, 0) === null).toBe(true)
    })
})
