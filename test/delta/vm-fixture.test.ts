// The VM suite's committed fixture (test/vm/lib/delta-fixture.ts) is what tools/delta/vm-cases.ts
// makes today (regenerate with `npm run delta -- vm-fixture`), and its patches apply with detools
// too, so what the VM proves holds for detools' format.
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it, vi } from "vitest"
import { vmCases, vmFixtureSource } from "../../tools/delta/vm-cases"
import { detoolsApply } from "./detools"

vi.setConfig({ testTimeout: 60_000 })

describe("the VM suite's fixture", () => {
    it("is up to date", () => {
        const path = fileURLToPath(new URL("../vm/lib/delta-fixture.ts", import.meta.url))
        expect(readFileSync(path, "utf8") === vmFixtureSource(), "test/vm/lib/delta-fixture.ts is stale: run npm run delta -- vm-fixture").toBe(true)
    })
    it("its patches apply with detools", () => {
        for (const c of vmCases()) {
            const d = detoolsApply(c.old, c.patch)
            expect(d.ok && d.data!.equals(Buffer.from(c.target)), `${c.name}: ${d.out}`).toBe(true)
        }
    })
})
