// SHA-512 without 64-bit integers, against node:crypto and FIPS 180 examples, fed in random pieces.
import { describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import { sha512 as sha512Of } from "../../src/crypto/sha512"
import { newPace } from "../../src/crypto/pace"
import { rng } from "../helpers/rng"

async function sha512(parts: Buffer[]): Promise<string> {
    const pace = newPace(async () => {})
    const out = Buffer.alloc(64)
    await sha512Of(parts, out, 0, pace)
    return out.toString("hex")
}

const node = (b: Buffer) => createHash("sha512").update(b).digest("hex")

describe("SHA-512", () => {
    it("FIPS 180 examples", async () => {
        expect(await sha512([Buffer.from("abc")])).toBe(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        expect(await sha512([Buffer.alloc(0)])).toBe(
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        )
        const m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        expect(await sha512([Buffer.from(m)])).toBe(
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        )
    })

    it("agrees with node:crypto on every length 0..300, fed in random pieces", async () => {
        const r = rng(11)
        for (let n = 0; n <= 300; n++) {
            const b = r.bytes(n)
            const parts: Buffer[] = []
            for (let i = 0; i < n; ) {
                const k = r.int(0, n - i)
                parts.push(b.subarray(i, i + k))
                i += k
            }
            expect(await sha512(parts), `length ${n}`).toBe(node(b))
        }
    })

    it("agrees on long messages (many blocks, 1 MB of 'a'), yielding between blocks", async () => {
        const r = rng(12)
        for (const n of [1023, 4096, 65537]) {
            const b = r.bytes(n)
            expect(await sha512([b])).toBe(node(b))
        }
        const a = Buffer.alloc(1 << 20, 0x61)
        let yields = 0
        const pace = newPace(async () => {
            yields++
        })
        const out = Buffer.alloc(64)
        await sha512Of([a], out, 0, pace)
        expect(out.toString("hex")).toBe(node(a))
        expect(yields).toBe(8193) // one block per slice (48 000 of 65 536 opcodes): before each of the 8 193, the first too (a new pace has spent its slice)
    })
})
