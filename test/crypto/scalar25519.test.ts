// Scalars mod L against BigInt: the S < L check at its edges, the reduction of 64-byte hashes,
// and the NAF read from the top (digits in {-1, 0, 1}, never two nonzero in a row, sum = k).
import { describe, expect, it } from "vitest"
import { nafDigit, scalarIsCanonical, scalarReduce, scalarTriple } from "../../src/crypto/scalar25519"
import { L, fromLE, toLE } from "./bigint"
import { rng } from "../helpers/rng"

describe("scalars mod L", () => {
    it("S < L: L - 1 and below pass, L and above (up to 2^256 - 1) fail", () => {
        for (const [x, ok] of [
            [0n, true],
            [L - 1n, true],
            [L, false],
            [L + 1n, false],
            [2n ** 253n, false],
            [2n ** 256n - 1n, false],
            [L - 2n ** 200n, true],
        ] as [bigint, boolean][])
            expect(scalarIsCanonical(toLE(x), 0), x.toString(16)).toBe(ok)
        const r = rng(21)
        for (let n = 0; n < 300; n++) {
            const b = r.bytes(32)
            b[31] &= r.pick([0x0f, 0x1f, 0xff])
            expect(scalarIsCanonical(b, 0)).toBe(fromLE(b) < L)
        }
    })

    it("reduces 64-byte values mod L (random, all-ones, multiples of L)", () => {
        const r = rng(22)
        const cases = [Buffer.alloc(64, 0xff), toLE(L, 64), toLE(L * 7n + 5n, 64), toLE(L - 1n, 64), Buffer.alloc(64)]
        for (let n = 0; n < 500; n++) cases.push(r.bytes(64))
        for (const h of cases) {
            const k = Buffer.alloc(32)
            scalarReduce(k, h, 0)
            expect(fromLE(k)).toBe(fromLE(h) % L)
        }
    })

    it("NAF digits from 3k sum back to k and are non-adjacent", () => {
        const r = rng(23)
        const cases = [toLE(L - 1n), toLE(0n), toLE(1n), toLE(2n ** 252n), toLE((2n ** 253n - 1n) / 3n)]
        for (let n = 0; n < 300; n++) {
            const b = r.bytes(32)
            b[31] &= 0x0f
            cases.push(b)
        }
        for (const k of cases) {
            const k3 = Buffer.alloc(32)
            scalarTriple(k3, k, 0)
            const digits: number[] = []
            for (let j = 253; j >= 0; j--) digits.push(nafDigit(k3, k, 0, j))
            expect(digits.every(d => d === -1 || d === 0 || d === 1)).toBe(true)
            expect(digits.some((d, i) => d !== 0 && digits[i + 1] !== 0 && i + 1 < digits.length)).toBe(false)
            expect(digits.reduce((v, d) => 2n * v + BigInt(d), 0n)).toBe(fromLE(k))
        }
    })
})
