// Running `npm run sim` as a child process from the modem tests: the same entry point (vite-node
// with the project's config, so @devicescript/core resolves to the Node shim), without npx's
// extra process, so that a kill reaches the simulator itself.

import { ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as path from "node:path"

export const ROOT = fileURLToPath(new URL("../..", import.meta.url))
const VITE_NODE = path.join(ROOT, "node_modules", "vite-node", "vite-node.mjs")

export interface CliRun {
    code: number | null
    stdout: string
    stderr: string
    /** The last stdout line parsed as JSON (null when it is not JSON). */
    json: any
    ms: number
}

export function startCli(args: string[]): ChildProcess {
    return spawn(process.execPath, [VITE_NODE, "--config", "vitest.config.ts", "sim/cli/main.ts", "--", ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    })
}

/** Run the CLI to its end (killed after `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 18000): Promise<CliRun> {
    const t0 = Date.now()
    const child = startCli(args)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", c => (stdout += c))
    child.stderr.on("data", c => (stderr += c))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    return new Promise(resolve => {
        child.on("close", code => {
            clearTimeout(timer)
            const lines = stdout.trim().split("\n")
            let json: any = null
            try {
                json = JSON.parse(lines[lines.length - 1])
            } catch (e) {}
            resolve({ code, stdout, stderr, json, ms: Date.now() - t0 })
        })
    })
}

/** Wait until the child prints a line matching `re` on stdout; resolves with the match. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs = 10000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
        let buf = ""
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms: ${buf}`)), timeoutMs)
        child.stdout.on("data", c => {
            buf += c
            const m = re.exec(buf)
            if (m) {
                clearTimeout(timer)
                resolve(m)
            }
        })
        child.on("close", code => reject(new Error(`exited (${code}) before printing ${re}: ${buf}`)))
    })
}
