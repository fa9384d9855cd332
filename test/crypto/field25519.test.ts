// Field arithmetic mod 2^255 - 19 against BigInt: multiplication at the documented input bound
// (limbs up to 2^22 in magnitude, signed), canonical packing at the edges, the exponentiations.
import { describe, expect, it } from "vitest"
import { Fe, INVERT, POW22523, fe, fePack, fePow, feUnpack, LIMBS } from "../../src/crypto/field25519"
import { mul } from "../../src/crypto/field-mul"
import { newPace } from "../../src/crypto/pace"
import { P, fromLE, mod, pow, toLE } from "./bigint"
import { rng } from "../helpers/rng"

const value = (a: Fe) => a.reduce((s, l, i) => s + BigInt(l) * 2n ** BigInt(17 * i), 0n)
const packed = (a: Fe) => {
    const out = Buffer.alloc(32)
    fePack(out, 0, [...a])
    return fromLE(out)
}
const noYield = () => newPace(async () => {})

function randomFe(r: ReturnType<typeof rng>, bound: number): Fe {
    const a = fe()
    for (let i = 0; i < LIMBS; i++) a[i] = r.int(-bound, bound)
    return a
}

describe("field mod 2^255 - 19", () => {
    it("unpack then pack is the identity below p and reduces 2^255 - 19 .. 2^255 - 1", () => {
        const r = rng(1)
        for (let n = 0; n < 300; n++) {
            const b = Buffer.from(r.bytes(32))
            b[31] &= 0x7f
            const a = fe()
            feUnpack(a, b, 0)
            expect(packed(a)).toBe(mod(fromLE(b)))
        }
        for (let k = 0n; k < 19n; k++) {
            const a = fe()
            feUnpack(a, toLE(P + k), 0)
            expect(packed(a)).toBe(k)
        }
    })

    it("packs signed, unreduced limbs canonically (0, p - 1, negatives, values just above p)", () => {
        const r = rng(2)
        for (let n = 0; n < 500; n++) {
            const a = randomFe(r, 1 << 20)
            expect(packed(a)).toBe(mod(value(a)))
        }
        const cases: Fe[] = [fe(), fe(), fe(), fe()]
        cases[1][0] = -1 // p - 1
        cases[2][0] = -19 // p - 19 = 2^255 - 38
        for (let i = 0; i < LIMBS; i++) cases[3][i] = (1 << 17) - 1 // 2^255 - 1
        for (const a of cases) expect(packed(a)).toBe(mod(value(a)))
    })

    it("multiplies exactly with limbs up to 2^22 in magnitude, including aliased outputs", () => {
        const r = rng(3)
        for (let n = 0; n < 1000; n++) {
            const bound = n % 4 === 0 ? 1 << 22 : 1 << r.int(1, 22)
            const a = randomFe(r, bound)
            const b = randomFe(r, bound)
            const o = fe()
            mul(o, a, b)
            expect(packed(o)).toBe(mod(value(a) * value(b)))
            for (const l of o) expect(Math.abs(l)).toBeLessThan(1 << 17)
            const want = mod(value(a) * value(a))
            mul(a, a, a)
            expect(packed(a)).toBe(want)
        }
        // every limb at the extreme, both signs
        for (const s of [1, -1]) {
            const a = fe().map(() => s * (1 << 22))
            const b = fe().map(() => 1 << 22)
            const o = fe()
            mul(o, a, b)
            expect(packed(o)).toBe(mod(value(a) * value(b)))
        }
    })

    it("inverts and raises to (p - 5) / 8", async () => {
        const r = rng(4)
        for (let n = 0; n < 20; n++) {
            const z = randomFe(r, 1 << 17)
            const o = fe()
            await fePow(o, z, INVERT, fe(), fe(), fe(), fe(), noYield())
            expect(packed(o)).toBe(pow(value(z), P - 2n))
            await fePow(o, z, POW22523, fe(), fe(), fe(), fe(), noYield())
            expect(packed(o)).toBe(pow(value(z), (P - 5n) / 8n))
            const y = [...z]
            await fePow(y, y, INVERT, fe(), fe(), fe(), fe(), noYield()) // the result may be z
            expect(packed(y)).toBe(pow(value(z), P - 2n))
        }
        const o = fe()
        await fePow(o, fe(), INVERT, fe(), fe(), fe(), fe(), noYield())
        expect(packed(o)).toBe(0n)
    })
})
