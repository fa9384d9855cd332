// Child processes the simulator host starts (the `devs devtools` hub, `devs run` VMs): each one in
// its own process group, stopped by its process id (the group leader's id), never by name.
// Everything still running is stopped when this Node process exits, on SIGINT/SIGTERM, and on an
// uncaught error, so a crashed test leaves no port taken.

import { ChildProcess, spawn, SpawnOptions } from "node:child_process"
import { connect } from "node:net"

const live = new Set<ChildProcess>()
let hooked = false

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
    try {
        process.kill(-child.pid, signal) // the group we created with detached: true
    } catch {
        try {
            child.kill(signal)
        } catch {
            /* already gone */
        }
    }
}

function hookExit() {
    if (hooked) return
    hooked = true
    process.on("exit", () => {
        for (const c of live) killGroup(c, "SIGKILL")
    })
    for (const sig of ["SIGINT", "SIGTERM"] as NodeJS.Signals[]) {
        process.once(sig, () => {
            for (const c of live) killGroup(c, "SIGKILL")
            process.exit(130)
        })
    }
}

/** Spawn a child in its own process group; it is killed when this process exits. */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
    hookExit()
    const child = spawn(cmd, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] })
    live.add(child)
    child.once("exit", () => live.delete(child))
    return child
}

/** Stop a child by its id: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 2000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        live.delete(child)
        return
    }
    const exited = new Promise<void>(resolve => child.once("exit", () => resolve()))
    killGroup(child, signal)
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs)
    await exited
    clearTimeout(timer)
    live.delete(child)
}

/** Split a stream into lines without ANSI colour codes. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
    let rest = ""
    return chunk => {
        rest += chunk.toString()
        let nl: number
        while ((nl = rest.indexOf("\n")) >= 0) {
            const line = rest.slice(0, nl).replace(/\r$/, "")
            rest = rest.slice(nl + 1)
            onLine(stripAnsi(line))
        }
    }
}

export function stripAnsi(s: string): string {
    // eslint-disable-next-line no-control-regex
    return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portTaken(port: number, timeoutMs = 500): Promise<boolean> {
    return new Promise(resolve => {
        const sock = connect({ host: "127.0.0.1", port })
        const done = (v: boolean) => {
            sock.destroy()
            resolve(v)
        }
        sock.setTimeout(timeoutMs, () => done(false))
        sock.once("connect", () => done(true))
        sock.once("error", () => done(false))
    })
}

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms))
