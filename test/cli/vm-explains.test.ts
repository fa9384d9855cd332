// `npm run sim` (VM engine) as a process, explaining itself: it waits for the devs hub that another
// run holds (here this test holds the hub lock, sim/host/hub.ts) and says so in one status line on
// stderr; under --json --progress the whole progress, the --trace dialogue included, is on stderr
// and stdout is one JSON line; and the trace carries none of the hub's ECONNRESET noise, which it
// printed when the host killed the VM mid-download (a power cut).
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { acquireHubLock, harmlessHubLine, releaseHubLock } from "../../sim/host/hub"

const root = fileURLToPath(new URL("../..", import.meta.url))

describe("a VM run that explains itself", () => {
    it("the hub's lines left out of a trace: a client's socket reset, and nothing else", () => {
        for (const l of ["read ECONNRESET", "write ECONNRESET", "write EPIPE"]) expect(harmlessHubLine(`Network error: ws://127.0.0.1:8081/: ${l}`), l).toBe(true)
        for (const l of ["client: disconnected (1 clients)", "Network error: ws://127.0.0.1:8081/: connect ECONNREFUSED", "webclient: connected (ws3, 2 clients)"])
            expect(harmlessHubLine(l), l).toBe(false)
    })

    it("waits for the hub with one status line; progress and trace on stderr, JSON alone on stdout; no ECONNRESET", async () => {
        await acquireHubLock() // waits for any other run on this machine first
        let held = true
        const release = () => {
            if (held) releaseHubLock()
            held = false
        }
        let out = ""
        let err = ""
        try {
            const args = ["--json", "--progress", "--trace", "--fault", "cut@block=20"]
            const child = spawn(process.execPath, ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts", "sim/cli/main.ts", "--", ...args], {
                cwd: root,
                stdio: ["ignore", "pipe", "pipe"],
            })
            const waiting = `sim: waiting for another simulator run (pid ${process.pid}) to release the devs hub…\n`
            const lockTimer = setTimeout(release, 60_000) // the run then fails the assertions below, and ends
            child.stdout!.on("data", c => (out += c))
            child.stderr!.on("data", c => {
                err += c
                if (err.includes(waiting)) release()
            })
            const code = await new Promise<number | null>(resolve => child.once("close", c => resolve(c)))
            clearTimeout(lockTimer)

            expect(err.split(waiting)).toHaveLength(2) // said once
            expect(code).toBe(0)
            expect(out.split("\n")).toHaveLength(2) // one line and its newline
            expect(JSON.parse(out)).toMatchObject({ result: "upgraded", engine: "vm", cuts: 1, faultsFired: ["cut@block=20"] })
            const lines = err.split("\n")
            expect(lines[0]).toBe("sim: vm engine, STM32 1_0_0 → 2_0_0, 115200 baud, 1 fault(s)")
            expect(lines).toContain("  power cut 1: the VM was killed; starting it again")
            expect(lines.some(l => / 2_0_0: confirmed$/.test(l))).toBe(true)
            expect(lines.some(l => l.startsWith("  -> AT+QIOTOTARD="))).toBe(true) // the trace
            expect(lines.filter(l => l === "  hub: client: disconnected (1 clients)").length).toBeGreaterThanOrEqual(2) // the cut and the reboot
            expect(lines.filter(l => /ECONNRESET/.test(l))).toEqual([])
            expect(err).not.toMatch(/\n\s+at /)
        } finally {
            release()
        }
    }, 900_000)
})
