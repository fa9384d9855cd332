import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { fieldMulSource } from "./field-codegen"

describe("src/crypto/field-mul.ts", () => {
    it("is what test/crypto/field-codegen.ts generates (regenerate with test/crypto/write-field-mul.ts)", () => {
        const file = readFileSync(new URL("../../src/crypto/field-mul.ts", import.meta.url), "utf8")
        expect(file).toBe(fieldMulSource())
    })
})
