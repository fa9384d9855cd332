// --modem on a serial port: a pseudo-terminal stands in for /dev/ttyUSB2. A small Python bridge
// (the only portable way to get a pty without a native Node module) relays the pty's other end
// to the walk-through replay over TCP, so the bytes cross the real serialport library and a
// real tty. Skipped where python3 is missing (Windows CI): the TCP tests cover the rest.
import { ChildProcess, spawn, spawnSync } from "node:child_process"
import { afterEach, describe, expect, it } from "vitest"
import { runCli } from "./cli"
import { digests, ReplayServer, TO } from "./replay-server"

const BRIDGE = `
import os, pty, select, socket, sys, tty
m, s = pty.openpty()
tty.setraw(s)
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(os.ttyname(s), flush=True)
while True:
    r, _, _ = select.select([m, sock], [], [])
    if m in r:
        try:
            d = os.read(m, 4096)
        except OSError:
            break
        if not d:
            break
        sock.sendall(d)
    if sock in r:
        d = sock.recv(4096)
        if not d:
            break
        os.write(m, d)
`

const python = spawnSync("python3", ["-c", "import pty, select, socket, tty"]).status === 0 && process.platform !== "win32"

let bridge: ChildProcess = null
afterEach(() => {
    if (bridge) bridge.kill("SIGTERM")
    bridge = null
})

/** Start the bridge to `port`; resolves with the pty's path. */
function startBridge(port: number): Promise<string> {
    bridge = spawn("python3", ["-c", BRIDGE, String(port)], { stdio: ["ignore", "pipe", "inherit"] })
    return new Promise((resolve, reject) => {
        let out = ""
        bridge.stdout.on("data", c => {
            out += c
            const nl = out.indexOf("\n")
            if (nl >= 0) resolve(out.slice(0, nl))
        })
        bridge.on("close", code => reject(new Error(`bridge exited (${code})`)))
    })
}

describe.skipIf(!python)("--modem on a serial port (a pty)", () => {
    it("upgrades across the serialport library at 115200 baud", async () => {
        const replay = await ReplayServer.start()
        try {
            const tty = await startBridge(replay.port)
            const run = await runCli(["--modem", tty, "--modem-baud", "115200", "--json"])
            expect(run.stderr).toBe("")
            expect(run.code).toBe(0)
            expect(run.json).toMatchObject({ result: "upgraded", version: TO, modem: tty, baud: 115200, boots: 2 })
            expect(run.json.runningSha256).toBe(digests(replay.pkg).sha256)
            expect(replay.stage).toBe("done")
        } finally {
            await replay.close()
        }
    }, 20000)

    it("a port another program holds: port busy or not permitted", async () => {
        const replay = await ReplayServer.start()
        const { SerialPort } = await import("serialport")
        let holder: InstanceType<typeof SerialPort> = null
        try {
            const tty = await startBridge(replay.port)
            holder = await new Promise((resolve, reject) => {
                const p = new SerialPort({ path: tty, baudRate: 115200, autoOpen: false, lock: true })
                p.open(err => (err ? reject(err) : resolve(p)))
            })
            const run = await runCli(["--modem", tty, "--json"])
            expect(run.code).toBe(3)
            expect(run.stderr).toMatch(new RegExp(`^sim: ${tty}: port busy or not permitted`))
            expect(run.json).toMatchObject({ result: "link-error", reason: "port-busy" })
            expect(replay.received).toEqual([]) // nothing reached the module
        } finally {
            if (holder) await new Promise(r => holder.close(r))
            await replay.close()
        }
    }, 20000)
})
