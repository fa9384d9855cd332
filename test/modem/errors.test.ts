// --modem when the module cannot be reached or used: one clear line on stderr, exit code 3 (2 for
// bad options), a JSON line with the reason under --json, and no stack trace.
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { runCli } from "./cli"
import { ReplayServer } from "./replay-server"

/** A port nobody listens on: bind an ephemeral one, then let it go. */
async function deadPort(): Promise<number> {
    const s = net.createServer()
    await new Promise<void>(r => s.listen(0, "127.0.0.1", () => r()))
    const port = (s.address() as net.AddressInfo).port
    await new Promise<void>(r => s.close(() => r()))
    return port
}

function noStack(text: string) {
    expect(text).not.toMatch(/\n\s+at /)
}

describe("--modem errors", () => {
    it("a TCP port nobody listens on: connection refused", async () => {
        const port = await deadPort()
        const run = await runCli(["--modem", `tcp://127.0.0.1:${port}`, "--json"])
        expect(run.code).toBe(3)
        expect(run.stderr).toBe(`sim: tcp://127.0.0.1:${port}: connection refused (nothing listens on that port)\n`)
        expect(run.json).toMatchObject({ result: "link-error", reason: "refused" })
    }, 20000)

    it("a peer that accepts and never answers: the module does not answer (within --modem-wait)", async () => {
        const silent = await ReplayServer.start({ silent: true })
        try {
            const run = await runCli(["--modem", `tcp://127.0.0.1:${silent.port}`, "--json", "--modem-wait", "2"])
            expect(run.code).toBe(3)
            expect(run.stderr).toMatch(/^sim: tcp:\/\/127\.0\.0\.1:\d+: the module does not answer AT \(waited 2 s\)/)
            noStack(run.stderr)
            expect(run.json).toMatchObject({ result: "link-error", reason: "no-answer" })
            expect(silent.connections).toBe(1)
            expect(run.ms).toBeLessThan(12000)
        } finally {
            await silent.close()
        }
    }, 20000)

    it("a serial port that does not exist: no such port", async () => {
        const run = await runCli(["--modem", "/dev/ttyNOSUCHPORT7", "--json"])
        expect(run.code).toBe(3)
        expect(run.stderr).toMatch(/^sim: \/dev\/ttyNOSUCHPORT7: no such port/)
        noStack(run.stderr)
        expect(run.json).toMatchObject({ result: "link-error", reason: "no-such-port" })
    }, 20000)

    it("bad combinations are usage errors (exit 2, one line)", async () => {
        const vm = await runCli(["--modem", "tcp://127.0.0.1:9", "--engine", "vm"])
        expect(vm.code).toBe(2)
        expect(vm.stderr).toBe("sim: --modem runs the firmware's code in this process: use --engine node\n")
        const flash = await runCli(["--flash", "x.nor"])
        expect(flash.code).toBe(2)
        expect(flash.stderr).toMatch(/^sim: --flash goes with --modem/)
        const fault = await runCli(["--modem", "tcp://127.0.0.1:9", "--fault", "bad-digest"])
        expect(fault.code).toBe(2)
        expect(fault.stderr).toMatch(/^sim: --fault acts on the emulator/)
    }, 20000)
})
