// The simulator host's children are gone before it exits (sim/host/processes.ts killAll): a
// SIGKILLed process keeps its sockets until the kernel has freed its memory, and the hub lock is
// released when the host exits. Before, the host exited right after sending SIGKILL: the next run
// took the lock and found port 8081 still taken (CI, Dec 7: orphans.test.ts, "port 8081: null").
// A stand-in host (fixtures/exit-holder.ts) whose child fills memory and listens on a free port;
// the moment the host has exited, the port must be free, the lock gone, the child's group empty.
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { portTaken } from "../../sim/host/processes"

const root = fileURLToPath(new URL("../..", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "exit-order-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const freePort = () =>
    new Promise<number>(resolve => {
        const s = createServer().listen(0, "127.0.0.1", () => {
            const port = (s.address() as { port: number }).port
            s.close(() => resolve(port))
        })
    })

/** Processes of process group `pgid` with a task that has not exited. */
function groupAlive(pgid: number): number[] {
    const alive: number[] = []
    for (const d of readdirSync("/proc").filter(x => /^\d+$/.test(x))) {
        try {
            const stat = readFileSync(`/proc/${d}/stat`, "utf8")
            if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== pgid) continue
            for (const t of readdirSync(`/proc/${d}/task`)) {
                const ts = readFileSync(`/proc/${d}/task/${t}/stat`, "utf8")
                if (!/^[ZX]/.test(ts.slice(ts.lastIndexOf(")") + 2))) alive.push(Number(d))
            }
        } catch {
            /* gone meanwhile */
        }
    }
    return alive
}

async function endHost(how: "SIGHUP" | "SIGTERM" | "throw") {
    const port = await freePort()
    const lock = join(dir, `lock-${how}`)
    const host = spawn(join(root, "node_modules/.bin/vite-node"), [join(root, "test/host/fixtures/exit-holder.ts"), String(port), "512", how], {
        cwd: root,
        env: { ...process.env, SIM_HUB_LOCK: lock },
        stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    host.stderr!.on("data", d => (out += d))
    const listening = new Promise<number>((resolve, reject) => {
        host.stdout!.on("data", d => {
            out += d
            const m = /listening (\d+)/.exec(out)
            if (m) resolve(Number(m[1]))
        })
        host.once("exit", code => reject(new Error(`the host exited (${code}) before its child listened:\n${out}`)))
    })
    const exited = new Promise<void>(r => host.once("exit", () => r()))
    const childPid = await listening
    expect(existsSync(lock)).toBe(true)
    const pgid = Number(readFileSync(`/proc/${childPid}/stat`, "utf8").split(") ")[1].split(" ")[2])
    if (how !== "throw") host.kill(how)
    await exited
    // the instant the host is gone: nothing of its child's group runs, the port and the lock are free
    expect(groupAlive(pgid)).toEqual([])
    expect(await portTaken(port)).toBe(false)
    expect(existsSync(lock)).toBe(false)
}

describe("the simulator host exits only after its children are gone", () => {
    it("SIGHUP (the terminal closed)", () => endHost("SIGHUP"), 60_000)
    it("SIGTERM", () => endHost("SIGTERM"), 60_000)
    it("an uncaught error", () => endHost("throw"), 60_000)
})
