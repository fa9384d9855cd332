// The DeviceScript VM as a child process: `devs run <file.devs | file.ts>` against the hub.
// It never exits on its own (reference/devicescript.md §2), so callers wait for lines and then
// kill it: kill() is the simulated power cut (SIGKILL, nothing is flushed, no goodbye), restart()
// a power cut followed by a fresh boot, stop() the end of a run. Flash contents live in the Node
// host (sim/flash/flash-server.ts), so they survive all three.
// buildDevs() precompiles an entry: a prebuilt .devs reaches its first line in ≈ 1.5 s instead of
// ≈ 3.5 s. `devs build -o` is broken (§10), and its fixed output path is shared with every other
// build in the project, so the build runs in a private directory and the result is copied out.

import { ChildProcess, execFile } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { isAbsolute, join } from "node:path"
import { lineReader, spawnTracked, stopChild } from "./processes"

export interface VmOptions {
    root: string
    /** Every output line (ANSI colours stripped; the VM's "WASM> " prefix removed from its own prints). */
    onLine?: (line: string) => void
    /** Extra `devs run` arguments. */
    args?: string[]
    /** The VM process ended without kill()/stop() (a crash of `devs run`). */
    onExit?: (code: number | null, signal: string | null) => void
}

interface Waiter {
    match: (line: string) => boolean
    resolve: (line: string) => void
    reject: (e: Error) => void
    timer: NodeJS.Timeout
}

export class Vm {
    /** The program the next start() runs (start(entry) changes it: the boot stage's choice). */
    entry: string
    readonly options: VmOptions
    /** Lines of the current run. */
    lines: string[] = []
    launches = 0
    launchedAt = 0
    private child: ChildProcess = null
    private waiters: Waiter[] = []
    private stopping = false

    constructor(entry: string, options: VmOptions) {
        this.entry = entry
        this.options = options
    }

    pid(): number {
        return this.child?.pid ?? -1
    }

    running(): boolean {
        return !!this.child && this.child.exitCode === null && this.child.signalCode === null
    }

    start(entry?: string) {
        if (this.running()) throw new Error("VM already running")
        if (entry) this.entry = entry
        const o = this.options
        this.lines = []
        this.launches++
        this.launchedAt = Date.now()
        const child = spawnTracked(join(o.root, "node_modules/.bin/devicescript"), ["run", this.entry, ...(o.args ?? [])], {
            cwd: o.root,
        })
        this.child = child
        const onLine = (raw: string) => {
            const line = raw.startsWith("WASM> ") ? raw.slice(6) : raw
            this.lines.push(line)
            o.onLine?.(line)
            for (const w of this.waiters.slice())
                if (w.match(line)) {
                    this.dropWaiter(w)
                    w.resolve(line)
                }
        }
        child.stdout!.on("data", lineReader(onLine))
        child.stderr!.on("data", lineReader(onLine))
        child.once("exit", (code, sig) => {
            if (!this.stopping && this.child === child) o.onExit?.(code, sig)
            for (const w of this.waiters.slice()) {
                this.dropWaiter(w)
                w.reject(new Error(`VM exited (${code ?? sig}) before the awaited line; last lines:\n${this.lines.slice(-15).join("\n")}`))
            }
        })
    }

    /** Resolve with the first line (of this run, from now on) that contains `text` or matches it. */
    waitFor(text: string | RegExp, timeoutMs: number): Promise<string> {
        const match = (l: string) => (typeof text === "string" ? l.includes(text) : text.test(l))
        return new Promise((resolve, reject) => {
            const w: Waiter = {
                match,
                resolve,
                reject,
                timer: setTimeout(() => {
                    this.dropWaiter(w)
                    reject(new Error(`no line matching ${text} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-15).join("\n")}`))
                }, timeoutMs),
            }
            this.waiters.push(w)
        })
    }

    /** The power cut: SIGKILL by process id, at once. */
    async kill() {
        this.stopping = true
        try {
            if (this.child) await stopChild(this.child, 0, "SIGKILL")
        } finally {
            this.stopping = false
        }
        this.child = null
    }

    /** Power cut, then boot again. */
    async restart() {
        await this.kill()
        this.start()
    }

    /** End of the run. */
    async stop() {
        this.stopping = true
        try {
            if (this.child) await stopChild(this.child, 1000, "SIGTERM")
        } finally {
            this.stopping = false
        }
        this.child = null
        for (const w of this.waiters.slice()) {
            this.dropWaiter(w)
            w.reject(new Error("VM stopped"))
        }
    }

    private dropWaiter(w: Waiter) {
        clearTimeout(w.timer)
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
    }
}

/**
 * Compile `entry` (relative to root, or absolute) to a .devs file at `out`, in a private build
 * directory so no other build can overwrite the result between compile and copy.
 */
export async function buildDevs(root: string, entry: string, out: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "devs-build-"))
    try {
        writeFileSync(join(dir, "devsconfig.json"), "{}")
        symlinkSync(join(root, "node_modules"), join(dir, "node_modules"))
        const abs = isAbsolute(entry) ? entry : join(root, entry)
        await new Promise<void>((resolve, reject) =>
            execFile(join(root, "node_modules/.bin/devicescript"), ["build", "--quiet", abs], { cwd: dir }, (err, stdout, stderr) =>
                err ? reject(new Error(`devs build ${entry} failed:\n${stdout}${stderr}`)) : resolve()
            )
        )
        mkdirSync(join(out, ".."), { recursive: true })
        copyFileSync(join(dir, ".devicescript/bin/bytecode.devs"), out)
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}
