#!/usr/bin/env node
// `npm run bytecode -- [entry] [--top N] [--no-build] [--json]`: where an image's function bytecode
// goes. Builds the entry (default src/simulator/main.ts) with `devs build`, reads
// .devicescript/bin/bytecode-dbg.json (each function's size, name and source position) and prints
// the total (the figure the VM's -1051 limit is about: it must stay under 65 424 bytes), the
// bytes per source file and per folder, and the largest functions. A function's `size` counts
// its bytecode with its descriptor, so many tiny methods cost more than their source suggests.
//   node tools/bytecode-report.mjs                          the simulator's firmware
//   node tools/bytecode-report.mjs src/boards/pico.ts       a board (built here, in .devicescript/bin)
//   node tools/bytecode-report.mjs --no-build --top 60      the last build, 60 functions
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const devs = join(root, "node_modules/.bin/devicescript")
const VM_LIMIT = 65424

const args = process.argv.slice(2)
let entry = "src/simulator/main.ts"
let top = 40
let build = true
let json = false
for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === "--top") top = Number(args[++i])
    else if (a === "--no-build") build = false
    else if (a === "--json") json = true
    else if (a.startsWith("-")) {
        console.error(`bytecode-report: unknown option ${a}`)
        process.exit(2)
    } else entry = a
}

if (build) {
    try {
        execFileSync(devs, ["build", "--quiet", entry], { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })
    } catch (e) {
        process.stdout.write(e.stdout || "")
        process.stderr.write(e.stderr || "")
        console.error(`bytecode-report: devs build ${entry} failed`)
        process.exit(1)
    }
}

const dbg = JSON.parse(readFileSync(join(root, ".devicescript/bin/bytecode-dbg.json"), "utf8"))
// sources[].text are concatenated; location[0] is an offset into that concatenation
const starts = []
let off = 0
for (const s of dbg.sources) {
    starts.push({ path: s.path, start: off, text: s.text })
    off += s.text.length
}
function sourceOf(pos) {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (starts[mid].start <= pos) lo = mid
        else hi = mid - 1
    }
    return starts[lo]
}
function lineOf(src, pos) {
    let line = 1
    for (let i = 0; i < pos - src.start && i < src.text.length; i++) if (src.text.charCodeAt(i) === 10) line++
    return line
}
const short = p => p.replace(/^node_modules\/@devicescript\//, "@devicescript/")

let total = 0
const byFile = new Map()
const byDir = new Map()
const fns = []
for (const f of dbg.functions) {
    total += f.size
    const src = f.location ? sourceOf(f.location[0]) : { path: "?", start: 0, text: "" }
    const path = short(src.path)
    const dir = path.startsWith("@devicescript/") ? "@devicescript" : path.split("/").slice(0, 2).join("/")
    const e = byFile.get(path) || { bytes: 0, count: 0 }
    e.bytes += f.size
    e.count++
    byFile.set(path, e)
    const d = byDir.get(dir) || { bytes: 0, count: 0 }
    d.bytes += f.size
    d.count++
    byDir.set(dir, d)
    fns.push({ name: f.name, size: f.size, where: `${path}:${f.location ? lineOf(src, f.location[0]) : "?"}` })
}
fns.sort((a, b) => b.size - a.size)
const sorted = m => [...m.entries()].sort((a, b) => b[1].bytes - a[1].bytes)

if (json) {
    console.log(JSON.stringify({ entry, total, functions: dbg.functions.length, limit: VM_LIMIT, byDir: Object.fromEntries(byDir), byFile: Object.fromEntries(byFile), top: fns.slice(0, top) }, null, 1))
    process.exit(0)
}
const pad = (s, n) => String(s).padStart(n)
console.log(`${entry}: function bytecode ${total} B over ${dbg.functions.length} functions (VM limit ${VM_LIMIT}: ${VM_LIMIT - total} B to spare); strings ${dbg.sizes.strings} B`)
console.log(`\nper folder:`)
for (const [d, e] of sorted(byDir)) console.log(`${pad(e.bytes, 7)} ${pad(e.count, 4)} fn  ${d}`)
console.log(`\nper file:`)
for (const [p, e] of sorted(byFile)) console.log(`${pad(e.bytes, 7)} ${pad(e.count, 4)} fn  ${p}`)
console.log(`\ntop ${top} functions:`)
for (const f of fns.slice(0, top)) console.log(`${pad(f.size, 7)}  ${f.name}  ${f.where}`)
