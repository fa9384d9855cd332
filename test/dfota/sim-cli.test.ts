// The simulator's module-upgrade command (sim/cli/module-upgrade.ts), on the virtual clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { REVISION_AFTER, REVISION_BEFORE, runModuleUpgradeCli } from "../../sim/cli/module-upgrade"
import { DEFAULTS } from "../../sim/cli/options"
import { View } from "../../sim/cli/view"
import { run } from "../sota/world"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const opts = { ...DEFAULTS, baud: 0, latency: 0 }
const quiet = new View(true, () => {})

describe("npm run sim -- --module-upgrade URL", () => {
    for (const url of ["HTTP://www.example.com:80/delta.bin", "FTP://test:test@demo.com:21/update/delta.bin", "UFS:delta.bin"])
        it(`upgrades the module from ${url}`, async () => {
            const r = await run(runModuleUpgradeCli(opts, url, quiet))
            expect(r).toMatchObject({ ok: true, revisionBefore: REVISION_BEFORE, revisionAfter: REVISION_AFTER, registered: true })
            expect(JSON.parse(JSON.stringify(r)).revisionAfter).toBe(REVISION_AFTER)
        })
    it("refuses a malformed location before anything is sent", async () => {
        const r = await run(runModuleUpgradeCli(opts, "HTTP://", quiet))
        expect(r).toMatchObject({ ok: false, reason: "bad-location", revisionAfter: "" })
    })
})
