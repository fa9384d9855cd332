// A busy port is one clear line naming the process that holds it: the devs hub's 8081–8083 (the
// run fails: port-busy, exit 3) and the flash socket's 8084 (the firmware's only way to its flash:
// the run fails the same way). The holder here is a child process listening on the port, so the line
// must name its pid and command line. The ports are taken only while this test holds the hub lock
// (sim/host/hub.ts), so that no other run on this machine meets them.
import { ChildProcess, spawn } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { acquireHubLock, checkPortsFree, HUB_PORTS, releaseHubLock } from "../../sim/host/hub"
import { portTaken, sleep } from "../../sim/host/processes"
import { FlashSocket } from "../../sim/host/flash-socket"
import { FLASH_SOCKET_PORT } from "../../src/simulator/flash-protocol"

const SCRIPT = `require("node:net").createServer().listen(Number(process.argv[1]), "127.0.0.1", () => console.log("listening"))`

/** A node process listening on 127.0.0.1:port until killed. */
async function holder(port: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ["-e", SCRIPT, String(port)], { stdio: ["ignore", "pipe", "inherit"] })
    await new Promise<void>((resolve, reject) => {
        child.stdout!.once("data", () => resolve())
        child.once("exit", code => reject(new Error(`the port holder exited (${code})`)))
    })
    return child
}

async function stop(child: ChildProcess) {
    if (child.exitCode !== null) return
    const gone = new Promise(r => child.once("exit", r))
    child.kill("SIGKILL")
    await gone
}

/** How the line names the holder: its pid and command line (cut to 100 characters). */
function who(child: ChildProcess, port: number): string {
    const cmd = `${process.execPath} -e ${SCRIPT} ${port}`
    return `pid ${child.pid} (${cmd.length > 100 ? cmd.slice(0, 97) + "..." : cmd})`
}

beforeAll(() => acquireHubLock(), 660_000)
afterAll(() => releaseHubLock())

describe("a busy port", () => {
    it("8082 taken: one line naming the holder's pid and command line", async () => {
        const c = await holder(8082)
        try {
            let e: any = null
            await checkPortsFree(HUB_PORTS).catch((x: unknown) => (e = x))
            expect(e).toMatchObject({ name: "HostError", reason: "port-busy" })
            expect(e.message).toBe(`port 8082 already taken by ${who(c, 8082)}: the VM engine needs 8081, 8082, 8083 for its devs hub; stop that process, or use --engine node`)
            expect(e.message.split("\n")).toHaveLength(1)
        } finally {
            await stop(c)
        }
    })

    it("8084 taken: the flash socket refuses to start with one line naming the holder", async () => {
        const c = await holder(FLASH_SOCKET_PORT)
        try {
            const e: any = await FlashSocket.start().catch((x: unknown) => x)
            expect(e).toMatchObject({ name: "HostError", reason: "port-busy" })
            expect(e.message).toBe(
                `port ${FLASH_SOCKET_PORT} already taken by ${who(c, FLASH_SOCKET_PORT)}: the VM engine serves the firmware's flash there; stop that process, or use --engine node`
            )
        } finally {
            await stop(c)
        }
        for (let i = 0; i < 50 && (await portTaken(FLASH_SOCKET_PORT)); i++) await sleep(20)
        const socket = await FlashSocket.start()
        await socket.close()
    })
})
