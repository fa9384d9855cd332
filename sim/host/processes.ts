// Child processes the simulator host starts (the `devs devtools` hub, `devs run` VMs): each one in
// its own process group, stopped by its process id (the group leader's id), never by name.
// They cannot outlive this process: everything still running is killed when it exits, on
// SIGHUP (a closed terminal), SIGINT, SIGTERM and on an uncaught error; and each child runs under
// a guard (GUARD below) that kills its group when its stdin, a pipe from this process, closes —
// which happens however this process ends, SIGKILL included.

import { ChildProcess, execFileSync, spawn, SpawnOptions } from "node:child_process"
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { connect } from "node:net"
import { constants } from "node:os"

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

/** Kill every child's group and wait (up to `waitMs`) until they are gone: a SIGKILLed process
 *  still holds its sockets while the kernel frees its memory, and the next run must find the
 *  hub's ports free once this process has exited (and so released the hub lock). */
function killAll(waitMs = 3000) {
    const groups = new Set<number>()
    for (const c of live) {
        if (c.pid !== undefined) groups.add(c.pid)
        killGroup(c, "SIGKILL")
    }
    waitGroupsGone(groups, waitMs)
}

/** Synchronous (it runs in the "exit" handler): polls /proc until no process of `groups` is alive. */
function waitGroupsGone(groups: Set<number>, waitMs: number) {
    if (!groups.size) return
    const tick = new Int32Array(new SharedArrayBuffer(4))
    const deadline = Date.now() + waitMs
    while (Date.now() < deadline && groupMemberAlive(groups)) Atomics.wait(tick, 0, 0, 10)
}

/** A process of `groups` with a task that has not exited. A zombie's leader can show "Z" while its
 *  other threads still tear down (and hold its sockets): every task counts. False without /proc. */
function groupMemberAlive(groups: Set<number>): boolean {
    let pids: string[]
    try {
        pids = readdirSync("/proc").filter(d => /^\d+$/.test(d))
    } catch {
        return false
    }
    for (const pid of pids) {
        const f = statFields(`/proc/${pid}/stat`)
        if (!f || !groups.has(Number(f[2]))) continue // f: state, ppid, pgrp, ...
        let tasks: string[] = []
        try {
            tasks = readdirSync(`/proc/${pid}/task`)
        } catch {
            continue // reaped meanwhile
        }
        for (const t of tasks) {
            const s = statFields(`/proc/${pid}/task/${t}/stat`)
            if (s && s[0] !== "Z" && s[0] !== "X") return true
        }
    }
    return false
}

/** The fields of a /proc stat line after "pid (comm) ", or null when it is gone. */
function statFields(path: string): string[] | null {
    try {
        const stat = readFileSync(path, "utf8")
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    } catch {
        return null
    }
}

const afterChildren: (() => void)[] = []

/** Run `f` when this process exits, after its children are gone (the hub lock's release). */
export function atExitAfterChildren(f: () => void) {
    hookExit()
    if (!afterChildren.includes(f)) afterChildren.push(f)
}

function hookExit() {
    if (hooked) return
    hooked = true
    process.on("exit", () => {
        killAll()
        for (const f of afterChildren) f()
    })
    for (const sig of ["SIGHUP", "SIGINT", "SIGTERM"] as NodeJS.Signals[]) {
        process.once(sig, () => {
            killAll()
            process.exit(128 + constants.signals[sig])
        })
    }
}

/**
 * Runs `process.argv[1..]` as its child, in its own group (the guard leads it); when its stdin
 * ends (the simulator is gone) it kills the whole group. Signals reach the child through the
 * group; the guard outlives it only to pass on its exit code.
 */
const GUARD = `
const { spawn } = require("node:child_process");
const [cmd, ...args] = process.argv.slice(1);
const c = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
const die = () => { try { process.kill(0, "SIGKILL") } catch { c.kill("SIGKILL"); process.exit(1) } };
process.stdin.on("end", die); process.stdin.on("close", die); process.stdin.on("error", die); process.stdin.resume();
for (const s of ["SIGHUP", "SIGINT", "SIGTERM"]) process.on(s, () => c.kill(s));
c.on("error", e => { process.stderr.write(cmd + ": " + e.message + "\\n"); process.exit(127) });
c.on("exit", (code, sig) => process.exit(code === null ? 128 + (require("node:os").constants.signals[sig] || 9) : code));
`

/** Spawn a child in its own process group, under the guard; it dies with this process. */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
    hookExit()
    const child = spawn(process.execPath, ["-e", GUARD, "--", cmd, ...args], { ...options, detached: true, stdio: ["pipe", "pipe", "pipe"] })
    child.stdin!.on("error", () => {}) // the guard gone first: nothing to tell it
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

/** Who listens on TCP `port` on this machine: "pid N (command line)", or null when it cannot be told. */
export function portHolder(port: number): string | null {
    return procHolder(port) ?? ssHolder(port)
}

/** Linux: the listening socket's inode in /proc/net/tcp{,6}, then the process with that inode among its fds. */
function procHolder(port: number): string | null {
    const inodes = new Set<string>()
    for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        let text = ""
        try {
            text = readFileSync(f, "utf8")
        } catch {
            continue
        }
        for (const line of text.split("\n").slice(1)) {
            const c = line.trim().split(/\s+/)
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN; c[9] the inode
            if (c.length > 9 && c[3] === "0A" && parseInt(c[1].split(":")[1], 16) === port) inodes.add(c[9])
        }
    }
    if (inodes.size === 0) return null
    let pids: string[] = []
    try {
        pids = readdirSync("/proc").filter(d => /^\d+$/.test(d))
    } catch {
        return null
    }
    for (const pid of pids) {
        let fds: string[] = []
        try {
            fds = readdirSync(`/proc/${pid}/fd`)
        } catch {
            continue // gone, or not ours to read
        }
        for (const fd of fds) {
            let target = ""
            try {
                target = readlinkSync(`/proc/${pid}/fd/${fd}`)
            } catch {
                continue
            }
            const m = /^socket:\[(\d+)\]$/.exec(target)
            if (m && inodes.has(m[1])) return describe(Number(pid))
        }
    }
    return null
}

/** Elsewhere (or without access to /proc): `ss -ltnp`, when there is one. */
function ssHolder(port: number): string | null {
    try {
        const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8", timeout: 2000, stdio: ["ignore", "pipe", "ignore"] })
        const m = /pid=(\d+)/.exec(out)
        return m ? describe(Number(m[1])) : null
    } catch {
        return null
    }
}

function describe(pid: number): string {
    let cmd = ""
    try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ")
    } catch {
        /* not readable: the pid alone */
    }
    if (cmd.length > 100) cmd = cmd.slice(0, 97) + "..."
    return cmd ? `pid ${pid} (${cmd})` : `pid ${pid}`
}
