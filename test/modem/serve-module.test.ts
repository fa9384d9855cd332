// `--serve-module`: the built-in emulator behind a TCP port, driven by `--modem tcp://…` from a
// second process: two CLI children, nothing shared but the socket.
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import type { ChildProcess } from "node:child_process"
import { afterAll, describe, expect, it } from "vitest"
import { makeImage } from "../../sim/device/device"
import { SDK_VERSION } from "../../sim/module/commands/qiot-config"
import { runCli, startCli, waitForLine } from "./cli"

const dir = mkdtempSync(path.join(tmpdir(), "modem-serve-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function serve(args: string[]): Promise<{ child: ChildProcess; port: number; exited: Promise<number> }> {
    const child = startCli(["--serve-module", "0", ...args])
    const exited = new Promise<number>(resolve => child.on("close", code => resolve(code)))
    const m = await waitForLine(child, /serving the module emulator on tcp:\/\/127\.0\.0\.1:(\d+)\n/)
    return { child, port: Number(m[1]), exited }
}

describe("--serve-module", () => {
    it("serves the emulator; --modem upgrades through it; SIGTERM stops it", async () => {
        const size = 20000
        const srv = await serve(["--baud", "0", "--size", String(size), "--seed", "5", "--to", "3_1_0", "--json"])
        try {
            const run = await runCli(["--modem", `tcp://127.0.0.1:${srv.port}`, "--json", "--flash", path.join(dir, "a.nor")])
            expect(run.stderr).toBe("")
            expect(run.code).toBe(0)
            expect(run.json).toMatchObject({ result: "upgraded", version: "3_1_0", healthy: true, imageBytes: size, boots: 2, rereadBytes: 0 })
            expect(run.json.runningSha256).toBe(createHash("sha256").update(makeImage(size, 5)).digest("hex"))
            expect(run.json.module).toMatchObject({ sdkVersion: SDK_VERSION, productInfoConfigured: true, maxBlock: 1024 })
        } finally {
            srv.child.kill("SIGTERM")
        }
        expect(await srv.exited).toBe(0)
    }, 25000)

    it("module faults apply: a module reboot in the middle of a block is survived over TCP", async () => {
        const srv = await serve(["--baud", "0", "--fault", "reboot@block=6", "--piece", "8192", "--block", "512"])
        try {
            const run = await runCli(["--modem", `tcp://127.0.0.1:${srv.port}`, "--json", "--block", "1024"])
            expect(run.code).toBe(0)
            // the emulator allows 512-byte blocks: the first contact saw it, and the engine read with it
            expect(run.json.module).toMatchObject({ maxBlock: 512, block: 512 })
            // the module's restart closed the connection (a USB port vanishing); the client came back
            expect(run.json).toMatchObject({ result: "upgraded", version: "2_0_0", linkDrops: 1 })
            expect(run.json.runningSha256).toBe(createHash("sha256").update(makeImage(27954, 1)).digest("hex"))
            expect(run.json.rereadBytes).toBeLessThanOrEqual(4096)
        } finally {
            srv.child.kill("SIGTERM")
        }
        expect(await srv.exited).toBe(0)
    }, 25000)
})
