// `npm run bench:ed25519:vm`: the cost of Ed25519 verification (src/crypto) in DeviceScript's VM.
//  1. bench/vm/ed25519.bench.ts under `devs run --test` (GC stress on): wall-clock verify time of
//     a 32-byte message (MCUboot's ED25519 TLV signs the image's SHA-256) and of the primitives.
//     The VM shares this machine's CPUs with everything else, so also:
//  2. CPU time per verification: the CPU time of a VM run that verifies N times, less one that
//     does not, over N (load on other cores does not change it).
//  3. Heap added at the peak, by the ballast method of ../shared/reference/devicescript.md §11:
//     the most ballast with which the program still runs idle, less the most with which it runs
//     one verification (¼ KB resolution; out-of-memory is an uncatchable panic, so each probe is
//     its own VM run). The idle program does not contain src/crypto, so the figure includes the
//     prototype of every class the verification uses.
//  4. Bytecode: the function bytecode of src/crypto in an image that verifies, and how much the
//     whole image grows (strings and constants included) against the same program without it.
//  5. The same verification in Node.
// Options: --skip-heap, --runs N (verifications for the CPU figure, default 8), --json (the figures as
// one JSON line on stdout, the text lines on stderr: what `npm run docs:figures -- ed25519` reads).
// Progress (each build and VM run) goes to stderr.
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { checkEd25519 } from "../src/crypto/ed25519"

const root = new URL("..", import.meta.url).pathname
const devs = join(root, "node_modules/.bin/devicescript")
const KEY = "caf538c1a666da74cd49d0a3dbe45f7f886ca256f82ba8e8e56f71a5f905043d"
const MSG = "5c2b7ba2317d9e0d9f658f56ca8c4dfd3527b2014b140f61301d32950310519d"
const SIG =
    "ffcdbdb05319e7d3f63e15279bb36d527eab1c57afb459b1094a04b9c21ee820e4059689baea3fbbecb1a9315176304c0c88d31f054c349a09181a27a064f400"

function option(name: string, dflt: number): number {
    const i = process.argv.indexOf(name)
    return i >= 0 ? Number(process.argv[i + 1]) : dflt
}

function sh(cmd: string, args: string[], cwd: string): Promise<string> {
    return new Promise(resolve =>
        execFile(cmd, args, { cwd, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
            resolve(`${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, ""))
        )
    )
}

/**
 * Build `source` (a program's text, importing from the project root) in a directory of its own
 * (devs build always writes ./.devicescript/bin, which other builds share) and return its image
 * path and debug info.
 */
async function build(dir: string, name: string, source: string) {
    const sub = mkdtempSync(join(dir, `${name}-`))
    writeFileSync(join(sub, "devsconfig.json"), "{}")
    symlinkSync(join(root, "node_modules"), join(sub, "node_modules"))
    const file = join(sub, `${name}.ts`)
    writeFileSync(file, source.replace(/"\.\.\/\.\.\//g, `"${root}`))
    const out = await sh(devs, ["build", "--quiet", file], sub)
    const devsFile = join(sub, ".devicescript/bin/bytecode.devs")
    try {
        statSync(devsFile)
    } catch {
        throw new Error(`devs build ${name} failed:\n${out}`)
    }
    return { devsFile, dbg: JSON.parse(readFileSync(join(sub, ".devicescript/bin/bytecode-dbg.json"), "utf8")) }
}

const run = (devsFile: string) => sh(devs, ["run", devsFile, "--test", "-T", "120000"], root)

const t0 = Date.now()
const JSON_OUT = process.argv.includes("--json")
/** The figures, for --json. */
const figures: Record<string, number | null> = { verifyCpuMs: null, heapAddedKb: null, cryptoFunctionKb: null, nodeMs: null }
function progress(what: string) {
    process.stderr.write(`bench:ed25519:vm ${((Date.now() - t0) / 1000).toFixed(0)} s: ${what}\n`)
}
/** A figure's line: stdout, or stderr under --json (stdout then holds the JSON line alone). */
function say(line: string) {
    if (JSON_OUT) process.stderr.write(line + "\n")
    else console.log(line)
}

/** A probe program: imports first, then the inputs (made before any ballast), then the body. */
const program = (imports: string, body: string) => `import * as ds from "@devicescript/core"
${imports}
const key = Buffer.from("${KEY}", "hex")
const msg = Buffer.from("${MSG}", "hex")
const sig = Buffer.from("${SIG}", "hex")
${body}
`
const CRYPTO = 'import { checkEd25519 } from "../../src/crypto/ed25519"'

async function speed(dir: string) {
    const bench = readFileSync(join(root, "bench/vm/ed25519.bench.ts"), "utf8")
    progress("building and running the wall-clock bench (bench/vm/ed25519.bench.ts)")
    const { devsFile } = await build(dir, "bench", bench)
    const text = await run(devsFile)
    for (const line of text.split("\n")) {
        const i = line.indexOf("BENCH ")
        if (i >= 0) say(line.slice(i + 6))
    }
    if (!text.includes("BENCH verify")) throw new Error(`the VM bench did not finish:\n${text.slice(-2000)}`)
    say(`(wall clock under a load average of ${loadavg()[0].toFixed(1)} on this machine's CPUs)`)
}

/** CPU seconds (user + system) of one `devs run` of the image. */
async function cpuSeconds(devsFile: string): Promise<number> {
    const out = await sh("bash", ["-c", `TIMEFORMAT='CPUTIME %U %S'; time "${devs}" run "${devsFile}" --test -T 120000`], root)
    const m = /CPUTIME ([\d.]+) ([\d.]+)/.exec(out)
    if (!m || !out.includes("CPUPROBE done")) throw new Error(`the CPU probe did not finish:\n${out.slice(-2000)}`)
    return Number(m[1]) + Number(m[2])
}

async function cpu(dir: string, runs: number) {
    const probe = (n: number) =>
        program(
            CRYPTO,
            `for (let i = 0; i < ${n}; i++) {
    const r = await checkEd25519(key, msg, sig)
    if (!r.ok) throw new Error("did not verify")
}
console.log("CPUPROBE done")
ds.restart()`
        )
    progress(`CPU time: building, then 3 runs each without and with ${runs} verifications`)
    const none = await build(dir, "cpu0", probe(0))
    const some = await build(dir, "cpuN", probe(runs))
    const base: number[] = []
    const full: number[] = []
    for (let i = 0; i < 3; i++) {
        base.push(await cpuSeconds(none.devsFile))
        full.push(await cpuSeconds(some.devsFile))
    }
    const per = (Math.min(...full) - Math.min(...base)) / runs
    figures.verifyCpuMs = Math.round(per * 1000)
    say(`verify CPU time: ${Math.round(per * 1000)} ms per verification (best of 3 runs of ${runs}, less a run without; goal <= 1000 ms)`)
}

async function heap(dir: string) {
    const probe = async (verify: boolean, q: number): Promise<boolean> => {
        progress(`heap: ${verify ? "one verification" : "idle"} with ${q / 4} KB of ballast`)
        const { devsFile } = await build(
            dir,
            `heap-${verify ? "verify" : "idle"}-${q}`,
            program(
                verify ? CRYPTO : "",
                `const ballast: Buffer[] = []
for (let i = 0; i < ${q >> 2}; i++) ballast.push(Buffer.alloc(1024))
${q & 3 ? `ballast.push(Buffer.alloc(${(q & 3) * 256}))` : ""}
${verify ? 'const r = await checkEd25519(key, msg, sig)\nif (!r.ok) throw new Error("did not verify")' : "await ds.sleep(1)"}
console.log("HEAPPROBE ok " + ballast.length)
ds.restart()`
            )
        )
        const text = await run(devsFile)
        if (text.includes("HEAPPROBE ok")) return true
        if (text.includes("OutOfMemory")) return false
        throw new Error(`heap probe (${verify ? "verify" : "idle"}, ${q / 4} KB) neither passed nor ran out of memory:\n${text.slice(-2000)}`)
    }
    const most = async (verify: boolean) => {
        let lo = 0
        let hi = 64 * 4
        if (!(await probe(verify, lo))) throw new Error("does not run even without ballast")
        while (hi - lo > 1) {
            const mid = (lo + hi) >> 1
            if (await probe(verify, mid)) lo = mid
            else hi = mid
        }
        return lo / 4
    }
    const idle = await most(false)
    const verify = await most(true)
    const added = idle - verify
    figures.heapAddedKb = added
    say(
        `heap: the idle program fits with ${idle} KB of ballast, one verification with ${verify} KB: ${added - 0.25}–${added + 0.25} KB added at the peak (goal <= 3 KB)`
    )
}

/** Function bytecode per source path, from a build's debug info. */
function functionBytes(dbg: any): Map<string, number> {
    const starts: { off: number; path: string }[] = []
    let off = 0
    for (const s of dbg.sources) {
        starts.push({ off, path: s.path })
        off += s.length
    }
    const sizes = new Map<string, number>()
    for (const f of dbg.functions) {
        let i = starts.length - 1
        while (i > 0 && starts[i].off > f.location[0]) i--
        const p = starts[i].path.replace(root, "")
        sizes.set(p, (sizes.get(p) || 0) + f.size)
    }
    return sizes
}

async function bytecode(dir: string) {
    progress("bytecode: building with and without src/crypto")
    const withCrypto = await build(dir, "bytes-with", program(CRYPTO, "const r = await checkEd25519(key, msg, sig)\nconsole.log(r.ok)"))
    const without = await build(dir, "bytes-without", program("", "console.log(key.length + msg.length + sig.length)"))
    const sizes = functionBytes(withCrypto.dbg)
    let total = 0
    const parts: string[] = []
    for (const [p, n] of [...sizes].sort((a, b) => b[1] - a[1]))
        if (p.includes("src/crypto/")) {
            total += n
            parts.push(`${p.slice(p.indexOf("src/crypto/") + 11)} ${n}`)
        }
    const grew = statSync(withCrypto.devsFile).size - statSync(without.devsFile).size
    figures.cryptoFunctionKb = Number((total / 1024).toFixed(2))
    say(`bytecode: ${(total / 1024).toFixed(2)} KB of function bytecode in src/crypto (${parts.join(", ")}); the image grows by ${(grew / 1024).toFixed(2)} KB with strings and constants (goal <= 6 KB)`)
}

async function node() {
    const key = Buffer.from(KEY, "hex")
    const msg = Buffer.from(MSG, "hex")
    const sig = Buffer.from(SIG, "hex")
    const noYield = async () => {}
    for (let i = 0; i < 50; i++) await checkEd25519(key, msg, sig, noYield) // warm up the JIT
    const n = 1000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) if (!(await checkEd25519(key, msg, sig, noYield)).ok) throw new Error("did not verify")
    const ms = (performance.now() - t0) / n
    figures.nodeMs = Number(ms.toFixed(2))
    say(`Node: ${ms.toFixed(2)} ms per verification (${n} runs, no yields)`)
}

const dir = mkdtempSync(join(tmpdir(), "bench-ed25519-"))
try {
    await speed(dir)
    await cpu(dir, option("--runs", 8))
    if (!process.argv.includes("--skip-heap")) await heap(dir)
    await bytecode(dir)
    await node()
    if (JSON_OUT) console.log(JSON.stringify(figures))
} finally {
    rmSync(dir, { recursive: true, force: true })
}
