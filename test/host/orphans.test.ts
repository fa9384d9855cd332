// A VM host that cannot be orphaned (sim/host/processes.ts): `npm run sim` (VM engine) is started
// as a terminal would start it, in its own process group; once the VM runs, the terminal goes
// away (SIGHUP to the group), or the simulator dies without a word (SIGKILL, which no handler
// sees). Then ports 8081–8083 must be free and no process the run started may be left.
// One hub per machine: the run waits for the hub lock like any other (sim/host/hub.ts).
import { ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { acquireHubLock, checkPortsFree, HostError, HUB_PORTS, releaseHubLock } from "../../sim/host/hub"
import { portHolder, portTaken, sleep } from "../../sim/host/processes"

const root = fileURLToPath(new URL("../..", import.meta.url))

interface Proc {
    pid: number
    ppid: number
    state: string
    /** clock ticks after boot when it started: with the pid, who it is (pids are reused) */
    start: string
    cmd: string
}

function processes(): Proc[] {
    const out: Proc[] = []
    for (const d of readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue
        try {
            const stat = readFileSync(`/proc/${d}/stat`, "utf8")
            const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // after "pid (comm) "
            const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim()
            out.push({ pid: Number(d), ppid: Number(f[1]), state: f[0], start: f[19], cmd })
        } catch {
            /* gone meanwhile */
        }
    }
    return out
}

/** Every process below `pid`. */
function descendants(pid: number): Proc[] {
    const all = processes()
    const found: Proc[] = []
    const walk = (p: number) => {
        for (const c of all.filter(x => x.ppid === p)) {
            found.push(c)
            walk(c.pid)
        }
    }
    walk(pid)
    return found
}

/** Still there (the same pid started at another time is someone else). A process that is exiting has lost its command
 *  line before its sockets, so the command line is no guide; nor is its leader's "Z": its other threads may still be
 *  tearing down, holding its sockets. Gone when every task has exited. */
function running(p: Proc): boolean {
    if (!processes().some(x => x.pid === p.pid && x.start === p.start)) return false
    try {
        return readdirSync(`/proc/${p.pid}/task`).some(t => !/^[ZX]/.test(statAfterComm(`/proc/${p.pid}/task/${t}/stat`)))
    } catch {
        return false // reaped meanwhile
    }
}

function statAfterComm(path: string): string {
    try {
        const stat = readFileSync(path, "utf8")
        return stat.slice(stat.lastIndexOf(")") + 2)
    } catch {
        return "X" // gone
    }
}

function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        let buf = ""
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${buf}`)), timeoutMs)
        const on = (c: Buffer) => {
            buf += c
            if (re.test(buf)) {
                clearTimeout(timer)
                resolve()
            }
        }
        child.stdout!.on("data", on)
        child.stderr!.on("data", on)
        child.once("exit", code => reject(new Error(`npm run sim exited (${code}) before ${re}:\n${buf}`)))
    })
}

/** Start `npm run sim` (VM engine), wait until the VM runs the firmware, then end it with `end`. */
async function orphanCheck(end: (npm: ChildProcess, tree: Proc[]) => void) {
    const npm = spawn("npm", ["run", "sim"], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] })
    const exited = new Promise<void>(r => npm.once("exit", () => r()))
    try {
        await waitForLine(npm, /running \S+ from slot \d/, 600_000) // the lock may make it wait for another run
        const tree = descendants(npm.pid!)
        expect(tree.some(p => p.cmd.includes("devicescript devtools")), tree.map(p => p.cmd).join("\n")).toBe(true)
        expect(tree.some(p => / run \S+\.devs/.test(p.cmd)), tree.map(p => p.cmd).join("\n")).toBe(true)
        end(npm, tree)
        await exited
        const deadline = Date.now() + 5000
        let left = tree.filter(running)
        while (left.length && Date.now() < deadline) {
            await sleep(100)
            left = tree.filter(running)
        }
        expect(left.map(p => `${p.pid} ${p.cmd}`)).toEqual([])
        // with the hub lock held here, no other cooperating run can have started a hub meanwhile
        await acquireHubLock()
        try {
            for (const port of HUB_PORTS) expect(await portTaken(port), `port ${port}: ${portHolder(port)}`).toBe(false)
        } finally {
            releaseHubLock()
        }
    } finally {
        if (npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid!, "SIGKILL") // our own group only
    }
}

describe("npm run sim (VM engine) leaves nothing behind", () => {
    it("SIGHUP (the terminal closed) once the VM runs: ports 8081–8083 free, no child left", async () => {
        await orphanCheck(npm => process.kill(-npm.pid!, "SIGHUP"))
    }, 700_000)

    it("SIGKILL of the simulator itself (a crash no handler sees): the guards take their children down", async () => {
        await orphanCheck((npm, tree) => {
            const sim = tree.find(p => /^\S*node \S*vite-node .*sim\/cli\/main\.ts/.test(p.cmd)) // not the shell npm runs it with
            expect(sim, tree.map(p => p.cmd).join("\n")).toBeTruthy()
            process.kill(sim!.pid, "SIGKILL")
            process.kill(-npm.pid!, "SIGTERM") // npm and its shell: they started the simulator, we started them
        })
    }, 700_000)
})

describe("a busy port", () => {
    it("is one line naming the process that holds it (not one of the hub's own ports, which other runs need)", async () => {
        const holder = spawn(process.execPath, ["-e", 'require("net").createServer().listen(0, "127.0.0.1", function () { console.log(this.address().port) })'], {
            stdio: ["ignore", "pipe", "inherit"],
        })
        try {
            const port = await new Promise<number>(r => holder.stdout!.once("data", b => r(Number(String(b).trim()))))
            const err: any = await checkPortsFree([port]).catch((e: unknown) => e)
            expect(err).toBeInstanceOf(HostError)
            expect(err.reason).toBe("port-busy")
            expect(err.message).toMatch(new RegExp(`^port ${port} already taken by pid ${holder.pid} \\(\\S*node -e [^\\n]*\\): the VM engine needs 8081, 8082, 8083`))
            expect(portHolder(port)).toMatch(new RegExp(`^pid ${holder.pid} `))
        } finally {
            holder.kill("SIGKILL")
        }
    })
})
