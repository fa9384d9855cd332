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
            expect(r).toMatchObject({ result: "upgraded", reason: null, healthy: true, version: REVISION_AFTER, from: REVISION_BEFORE, to: REVISION_AFTER })
            expect(r.dfota).toMatchObject({ revisionBefore: REVISION_BEFORE, revisionAfter: REVISION_AFTER, registered: true })
            expect(JSON.parse(JSON.stringify(r)).dfota.revisionAfter).toBe(REVISION_AFTER)
        })
    it("refuses a malformed location before anything is sent", async () => {
        const r = await run(runModuleUpgradeCli(opts, "HTTP://", quiet))
        expect(r).toMatchObject({ result: "refused", reason: "bad-location", dfota: { revisionAfter: "" } })
    })
})

describe("the command line", () => {
    it("npm run sim -- --module-upgrade URL --json prints the common summary, with the revisions, as its last line", async () => {
        vi.useRealTimers()
        const { execFileSync } = await import("node:child_process")
        const out = execFileSync(
            process.execPath,
            ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts", "sim/cli/main.ts", "--", "--module-upgrade", "HTTP://www.example.com:80/delta.bin", "--json", "--baud", "0"],
            { encoding: "utf8", timeout: 60_000 }
        )
        const last = JSON.parse(out.trim().split("\n").pop())
        expect(last).toMatchObject({ result: "upgraded", run: "module-upgrade", exitCode: 0, dfota: { revisionBefore: REVISION_BEFORE, revisionAfter: REVISION_AFTER } })
    }, 60_000)
})
