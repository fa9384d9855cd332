// Regenerates src/crypto/field-mul.ts: npx vite-node --config vitest.config.ts test/crypto/write-field-mul.ts
import { writeFileSync } from "node:fs"
import { fieldMulSource } from "./field-codegen"

const out = new URL("../../src/crypto/field-mul.ts", import.meta.url)
writeFileSync(out, fieldMulSource())
console.log(`wrote ${out.pathname}`)
