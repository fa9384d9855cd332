// The `devs devtools` hub: the Jacdac frame router between the VM (`devs run`) and the Node
// simulator (jacdac-io.ts). It serves ws://127.0.0.1:8081 (one frame per message), TCP 8082 and
// the debugger on 8083 (reference/devicescript.md §2). One hub per machine: if any of the ports is
// taken, start() fails with one line naming the process that holds it, instead of attaching to a
// stranger's hub.

import { ChildProcess } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { atExitAfterChildren, lineReader, portHolder, portTaken, sleep, spawnTracked, stopChild } from "./processes"

export const HUB_PORTS = [8081, 8082, 8083]

/**
 * Hub output that says nothing about the run: a client's websocket reset. The hub's clients are
 * this host's Jacdac bus and the VM; the host kills the VM (a power cut, a reset) while frames are
 * in flight, and the kernel then resets its socket (the hub's next read or write fails: ECONNRESET,
 * EPIPE). The hub's next line, "client: disconnected",
 * says the same thing plainly. Kept in the hub's last lines for error messages, not logged.
 */
const HARMLESS = [/^Network error: ws:\/\/127\.0\.0\.1:8081\/?: (read|write) (ECONNRESET|EPIPE)$/]

export function harmlessHubLine(line: string): boolean {
    return HARMLESS.some(r => r.test(line))
}

/** The hub cannot run here: a port is taken (port-busy), another run kept it too long (hub-busy), it did not start (hub-failed). */
export class HostError extends Error {
    constructor(
        readonly reason: "port-busy" | "hub-busy" | "hub-failed",
        message: string
    ) {
        super(message)
        this.name = "HostError"
    }
}

// Our own hubs take turns: a lock directory (atomic mkdir) holding the owner's pid, so that two
// test files or two `npm run sim` started together wait for each other instead of one failing on
// a taken port. A lock whose owner is dead is taken over. Foreign hubs are still refused by the
// port check.
// (SIM_HUB_LOCK: another path, for the lock's own tests, which must not touch the real one)
const LOCK = process.env.SIM_HUB_LOCK || join(tmpdir(), "quecthing-sota-devs-hub.lock")
let lockHeld = false

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e: any) {
        return e.code === "EPERM"
    }
}

/** The pid in the lock, or NaN (no lock, or its owner has not written it yet). */
function lockPid(): number {
    try {
        return Number(readFileSync(join(LOCK, "pid"), "utf8"))
    } catch {
        return NaN
    }
}

/**
 * Remove a dead owner's lock, under a second lock (atomic mkdir) so that two waiters that both
 * saw the same dead owner cannot both remove it: the second would remove the lock the first has
 * just taken, and both would run a hub. Under it the lock is checked again: removed only if it
 * still names the dead owner `pid` (or still has no pid and is old). A takeover lock left by a
 * process that died inside this function is removed after 5 s.
 */
export function takeOver(pid: number) {
    const guard = `${LOCK}.takeover`
    try {
        mkdirSync(guard)
    } catch (e: any) {
        if (e.code !== "EEXIST") throw e
        try {
            if (Date.now() - statSync(guard).mtimeMs > 5000) rmSync(guard, { recursive: true, force: true })
        } catch {
            /* gone meanwhile */
        }
        return
    }
    try {
        const now = lockPid()
        let age = 0
        try {
            age = Date.now() - statSync(LOCK).mtimeMs
        } catch {
            return // released meanwhile
        }
        const same = pid > 0 ? now === pid : !(now > 0) && age > 5000
        if (same) rmSync(LOCK, { recursive: true, force: true })
    } finally {
        rmSync(guard, { recursive: true, force: true })
    }
}

/** Hold the hub lock without a hub (a test that checks the ports while no cooperating run can start one). */
export const acquireHubLock = (waitMs = 600_000, log: (l: string) => void = () => {}) => acquireLock(waitMs, log)
export const releaseHubLock = () => releaseLock()

function releaseLock() {
    if (!lockHeld) return
    lockHeld = false
    rmSync(LOCK, { recursive: true, force: true })
}

async function acquireLock(waitMs: number, log: (l: string) => void) {
    const deadline = Date.now() + waitMs
    let said = false
    while (true) {
        try {
            mkdirSync(LOCK)
            writeFileSync(join(LOCK, "pid"), String(process.pid))
            lockHeld = true
            atExitAfterChildren(releaseLock) // not before the hub's ports are free
            return
        } catch (e: any) {
            if (e.code !== "EEXIST") throw e
        }
        let pid = NaN
        try {
            pid = Number(readFileSync(join(LOCK, "pid"), "utf8"))
        } catch {
            /* the owner is between mkdir and writing its pid, or died there */
        }
        let age = 0
        try {
            age = Date.now() - statSync(LOCK).mtimeMs
        } catch {
            continue // released meanwhile
        }
        if ((pid > 0 && !alive(pid)) || (!(pid > 0) && age > 5000)) {
            takeOver(pid)
            await sleep(10)
            continue
        }
        if (Date.now() > deadline)
            throw new HostError("hub-busy", `another simulator run (pid ${pid}) has held the devs hub for ${Math.round(waitMs / 1000)} s; only one hub can run on this machine`)
        if (!said) log(`waiting for another simulator run (pid ${pid}) to release the devs hub`)
        said = true
        await sleep(250)
    }
}

export interface HubOptions {
    /** Project root (where node_modules/.bin/devicescript and devsconfig.json are). */
    root: string
    /** Hub output lines. */
    log?: (line: string) => void
    /** Give up when the hub does not listen within this. Default 20 s. */
    startTimeoutMs?: number
    /** Wait this long for another of our hubs (another test file, another run) to stop. Default 10 min. */
    lockWaitMs?: number
}

/** Throws HostError("port-busy") in one line naming the process that holds the first taken port. */
export async function checkPortsFree(ports: number[]) {
    const taken: number[] = []
    for (const p of ports) if (await portTaken(p)) taken.push(p)
    if (!taken.length) return
    const who = portHolder(taken[0])
    throw new HostError(
        "port-busy",
        `port ${taken.join(", ")} already taken${who ? ` by ${who}` : " (by a process this user cannot see)"}: ` +
            `the VM engine needs ${HUB_PORTS.join(", ")} for its devs hub; stop that process, or use --engine node`
    )
}

export class Hub {
    readonly child: ChildProcess
    private constructor(child: ChildProcess) {
        this.child = child
    }

    get pid(): number {
        return this.child.pid ?? -1
    }

    static async start(o: HubOptions): Promise<Hub> {
        await acquireLock(o.lockWaitMs ?? 600_000, o.log ?? (() => {}))
        try {
            return await Hub.launch(o)
        } catch (e) {
            releaseLock()
            throw e
        }
    }

    private static async launch(o: HubOptions): Promise<Hub> {
        await checkPortsFree(HUB_PORTS)
        const log = o.log ?? (() => {})
        const child = spawnTracked(join(o.root, "node_modules/.bin/devicescript"), ["devtools"], { cwd: o.root })
        const out: string[] = []
        const onLine = (l: string) => {
            out.push(l)
            if (out.length > 50) out.shift()
            if (!harmlessHubLine(l)) log(l)
        }
        child.stdout!.on("data", lineReader(onLine))
        child.stderr!.on("data", lineReader(onLine))
        const hub = new Hub(child)
        const deadline = Date.now() + (o.startTimeoutMs ?? 20_000)
        try {
            while (!(await portTaken(8081))) {
                if (child.exitCode !== null || child.signalCode !== null)
                    throw new HostError("hub-failed", `devs devtools exited (${child.exitCode ?? child.signalCode}): ${out.slice(-3).join(" | ")}`)
                if (Date.now() > deadline) throw new HostError("hub-failed", `devs devtools did not listen on 8081 in time: ${out.slice(-3).join(" | ")}`)
                await sleep(100)
            }
        } catch (e) {
            await hub.stop()
            throw e
        }
        return hub
    }

    /** Stop the hub (by its process id) and wait until its ports are free again. */
    async stop(): Promise<void> {
        await stopChild(this.child)
        try {
            for (let i = 0; i < 50; i++) {
                let any = false
                for (const p of HUB_PORTS) if (await portTaken(p, 200)) any = true
                if (!any) return
                await sleep(100)
            }
            throw new HostError("hub-failed", `hub stopped but a port of ${HUB_PORTS.join("/")} is still taken`)
        } finally {
            releaseLock()
        }
    }
}
