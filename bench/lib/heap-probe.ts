// The VM heap probe of the heap benches (bench/sota-vm.ts, bench/delta-flow-vm.ts), by the ballast
// method of ../shared/reference/devicescript.md §11: a generated program first holds `q` quarter-KB
// of live ballast, then runs a flow, and prints HEAPPROBE ok or runs out of memory. The most ballast a
// flow completes with, found by bisection, subtracted from an idle program's, is the flow's peak (± ¼ KB).
import { execFile } from "node:child_process"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { buildDevs } from "../../sim/host/vm"

const root = new URL("../..", import.meta.url).pathname
const devs = join(root, "node_modules/.bin/devicescript")

/** Run a built program in the VM (devs run --test, 120 s), its output without colours. */
export function runVm(file: string): Promise<string> {
    return new Promise(resolve =>
        execFile(devs, ["run", file, "--test", "-T", "120000"], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
            resolve(`${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, ""))
        )
    )
}

/** The probe program's ballast: whole KB buffers plus one of q % 4 quarters, kept live in `ballast`. */
export function ballastCode(q: number): string {
    return `const ballast: Buffer[] = []
for (let i = 0; i < ${q >> 2}; i++) ballast.push(Buffer.alloc(1024))
${q & 3 ? `ballast.push(Buffer.alloc(${(q & 3) * 256}))` : ""}`
}

/** Build `code` as `src` (deleted after), run it: true when it printed HEAPPROBE ok, false when out of memory. */
export async function probeProgram(src: string, code: string, out: string, what: string): Promise<boolean> {
    writeFileSync(src, code)
    try {
        await buildDevs(root, src, out)
    } finally {
        rmSync(src, { force: true })
    }
    const text = await runVm(out)
    if (text.includes("HEAPPROBE ok")) return true
    if (text.includes("OutOfMemory")) return false
    throw new Error(`probe ${what} neither passed nor ran out of memory:\n${text.slice(-2000)}`)
}

/** The largest ballast (KB, in quarters) with which `probe` completes, by bisection below `hi` quarters. */
export async function maxBallast(what: string, probe: (q: number) => Promise<boolean>, progress: (s: string) => void, hi = 64 * 4): Promise<number> {
    let lo = 0
    if (!(await probe(lo))) throw new Error(`${what} does not run even without ballast`)
    while (hi - lo > 1) {
        const mid = (lo + hi) >> 1
        if (await probe(mid)) lo = mid
        else hi = mid
    }
    progress(`${what} runs with at most ${lo / 4} KB of ballast`)
    return lo / 4
}
