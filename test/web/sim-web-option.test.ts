// `npm run sim -- --web` is the web view's entry too (sim/cli/main.ts hands it to sim/web/main.ts):
// the same options as a run, the web view's own usage and refusals. The page itself, following a
// run to "confirmed" in headless chromium, is test/web's browser test (through `npm run sim:web`,
// the same code).
import { execFile } from "node:child_process"
import { describe, expect, it } from "vitest"

const root = new URL("../..", import.meta.url).pathname

function sim(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise(resolve =>
        execFile(process.execPath, ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts", "sim/cli/main.ts", "--", ...args], { cwd: root, timeout: 60_000 }, (e, out, err) =>
            resolve({ code: e ? ((e as any).code ?? 1) : 0, out, err })
        )
    )
}

describe("npm run sim -- --web", () => {
    it("prints the web view's usage with --help", async () => {
        const r = await sim(["--web", "--help"])
        expect(r.code).toBe(0)
        expect(r.out).toContain("[--port N")
    }, 60_000)

    it("takes the run's options and refuses what the web view cannot follow (exit 2)", async () => {
        const r = await sim(["--web", "--engine", "node"])
        expect(r.code).toBe(2)
        expect(r.err).toBe("sim: the web view follows a SOTA run of the VM engine (no --engine node, --modem, --module-upgrade or --serve-module)\n")
        const bad = await sim(["--web", "--baud", "fast"])
        expect(bad.code).toBe(2)
    }, 60_000)
})
