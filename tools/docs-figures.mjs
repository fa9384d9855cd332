#!/usr/bin/env node
// `npm run docs:figures [-- SOURCE ...] [--all] [--check] [--runs N]`: the figures the docs quote,
// from what the benches print. A figure in README.md or docs/*.md is marked in the source,
//     <!--fig:KEY-->VALUE<!--/fig-->
// (invisible once rendered), and docs/figures.json records each KEY's value, what it is, the command
// that printed it and when. This script runs the named sources (each a bench or tool with
// machine-readable output), records their figures, then rewrites every marked figure from the
// record, the "figures" table of README.md (every figure with its bench) and the bench:sim table of
// docs/ARCHITECTURE.md (between `<!-- figures:begin -->` and `<!-- figures:end -->`).
// Sources (default: the quick ones, about a minute on a quiet machine):
//   bytecode  the simulator firmware's function bytecode      npm run bytecode -- --json        quick
//   boards    the boards' images and function bytecode        npm run build:boards              quick
//   delta     the delta package against the full image        npm run sim -- --delta --json     quick
//   boot      the C boot stage's Cortex-M0+ size and RAM      node tools/boot-c.mjs             ≈ 30 s, needs gcc
//   ed25519   Ed25519 verification in the VM: CPU time, heap   npm run bench:ed25519:vm -- --json    minutes
//   ed25519-node  our Ed25519 against node:crypto                npm run bench:ed25519             ≈ 30 s
//   heap      the VM heap peaks (ballast bisection)           npm run bench:sota:vm -- --heap-only --json   minutes
//   digests   digest and per-block costs in the VM            npm run bench:sota:vm -- --speed-only --json  ≈ 1 min
//   sim       download / UART floor per engine and baud       npm run bench:sim                 minutes
// Figures measured only by hand (no machine-readable bench yet) are in the record with
// "by hand": the script never rewrites their value, the test checks the docs still quote it.
// --saved NAME=FILE records a source's output saved earlier (e.g. `npm run bench:sota:vm -- --heap-only
// --json > heap.txt`, then `--saved heap=heap.txt`) instead of running it again.
// --check runs nothing and writes nothing: it lists every marked figure that disagrees with the
// record (exit 1), as test/cli/docs-figures.test.ts does.
// The parsers and the rewrite are pure and tested (test/cli/docs-figures.test.ts).
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export const BEGIN = "<!-- figures:begin -->"
export const END = "<!-- figures:end -->"
export const LIST_BEGIN = "<!-- figures-list:begin -->"
export const LIST_END = "<!-- figures-list:end -->"
const FIG = /<!--fig:([\w.-]+)-->([\s\S]*?)<!--\/fig-->/g

/** 63516 → "63 516" (the docs' thousands separator). */
export function grouped(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ")
}

// ---- the sources' outputs → figures (KEY → value as the docs write it)

/** The bench:sim lines ("bench:sim <engine> <baud> baud: download/UART floor N (goal G)…") as rows. */
export function parseBenchSim(text) {
    const rows = []
    for (const m of text.matchAll(/^bench:sim (\w+) (\d+) baud: download\/UART floor ([\d.]+) \(goal ([\d.]+)\)/gm))
        rows.push({ engine: m[1], baud: Number(m[2]), ratio: Number(m[3]), goal: Number(m[4]) })
    return rows
}

/** `npm run bytecode -- --json` (tools/bytecode-report.mjs): the firmware's function bytecode and what is left under the VM's limit. */
export function parseBytecode(text) {
    const j = JSON.parse(text.slice(text.indexOf("{")))
    return { "firmware.functions": `${grouped(j.total)} B`, "firmware.spare": `${grouped(j.limit - j.total)} B` }
}

/** `npm run build:boards`: the largest board image and function bytecode, in KB as it prints them. */
export function parseBoards(text) {
    const rows = [...text.matchAll(/^(\S+)\s+(\d+) bytes\s+([\d.]+) KB of \d+ KB; functions ([\d.]+) KB of/gm)]
    if (rows.length === 0) throw new Error("build:boards printed no board")
    const max = i => Math.max(...rows.map(r => Number(r[i])))
    return { "boards.image": `${max(3).toFixed(1)} KB`, "boards.functions": `${max(4).toFixed(1)} KB` }
}

/** `npm run sim -- --engine node --baud 0 --delta --json`: the package on the wire and the image it rebuilds. */
export function parseDelta(text) {
    const s = JSON.parse(text.trim().split("\n").pop())
    if (s.result !== "upgraded" || s.packageKind !== "delta") throw new Error(`the delta run did not upgrade: ${s.result} ${s.reason}`)
    return { "delta.package": `${grouped(s.packageBytes)} B`, "delta.image": `${grouped(s.imageBytes)} B` }
}

/** tools/boot-c.mjs: the Cortex-M0+ build's text and RAM, and the code goal. */
export function parseBoot(text) {
    const size = /boot stage \(cortex-m0plus\): text (\d+) B, data (\d+) B, bss (\d+) B/.exec(text)
    const ram = /boot stage \(cortex-m0plus\): stack at most (\d+) B.*RAM (\d+) B/.exec(text)
    const goal = /code goal (\d+) B/.exec(text)
    if (!size || !ram || !goal) throw new Error("boot-c printed no Cortex-M0+ size")
    const text_ = Number(size[1])
    const g = Number(goal[1])
    return {
        "boot.text": `${grouped(text_)} B`,
        "boot.ram": `${grouped(Number(ram[2]))} B`,
        "boot.goal": text_ < g ? `met: ${grouped(g - text_)} B to spare` : `not met: ${grouped(text_ - g + 1)} B over`,
    }
}

const range = kb => `${kb - 0.25}–${kb + 0.25} KB`

/** `bench:sota:vm --json` (bench/sota-vm.ts): the heap peaks (± ¼ KB) and the VM's costs per KB. */
export function parseSotaVm(text) {
    const j = JSON.parse(text.trim().split("\n").pop())
    const out = {}
    if (j.heap) {
        out["heap.startup"] = range(j.heap.startupPeakKb)
        out["heap.download"] = range(j.heap.downloadPeakKb)
        out["heap.upgrade"] = range(j.heap.upgradePeakKb)
        out["heap.target"] = j.heap.downloadPeakKb + 0.25 < 16 ? "met" : "not met"
    }
    const speed = label => j.speed.find(s => s.label.startsWith(label))
    if (speed("all digests")) out["digests.ratio"] = speed("all digests").lineRatio.toFixed(3)
    if (speed("whole per-block pipeline")) out["pipeline.ratio"] = speed("whole per-block pipeline").lineRatio.toFixed(3)
    return out
}

/** `bench:ed25519:vm --json` (bench/ed25519-vm.ts): CPU time per verification and the heap it adds (± ¼ KB). */
export function parseEd25519(text) {
    const j = JSON.parse(text.trim().split("\n").pop())
    const out = {}
    if (j.verifyCpuMs !== null) out["ed25519.verify"] = `${j.verifyCpuMs} ms`
    if (j.heapAddedKb !== null) out["ed25519.heap"] = range(j.heapAddedKb)
    return out
}

/** `npm run bench:ed25519` (bench/ed25519-node.ts): our verdicts against node:crypto's. */
export function parseEd25519Node(text) {
    const m = /^bench:ed25519 \d+ random keys and messages, (\d+) verifications \(\d+ good\), (\d+) disagreements/m.exec(text)
    if (!m) throw new Error("bench:ed25519 printed no result")
    return { "ed25519.node-checks": `${grouped(Number(m[2]))} disagreements with node:crypto over ${grouped(Number(m[1]))} verifications` }
}

// ---- the record and the docs

/** `doc` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function rewriteFigures(doc, table, begin = BEGIN, end = END) {
    const b = doc.indexOf(begin)
    const e = doc.indexOf(end)
    if (b < 0 || e < b) throw new Error(`no ${begin} … ${end} block`)
    return `${doc.slice(0, b + begin.length)}\n${table}\n${doc.slice(e)}`
}

export function figuresTable(rows, date) {
    const lines = [
        `| case (\`npm run bench:sim\`, ${date}) | download / UART floor | goal |`,
        "|---|---|---|",
        ...rows.map(r => `| ${r.engine} engine, ${grouped(r.baud)} baud | ${r.ratio.toFixed(3)} | ${r.goal}${r.ratio <= r.goal ? "" : " (not met)"} |`),
    ]
    return lines.join("\n")
}

/** Every marked figure of a document: its key and the value it quotes. */
export function markedFigures(doc) {
    return [...doc.matchAll(FIG)].map(m => ({ key: m[1], value: m[2] }))
}

/** `doc` with every marked figure's value taken from the record (keys the record lacks: left, and listed). */
export function renderMarked(doc, record) {
    const missing = []
    const text = doc.replace(FIG, (all, key) => {
        if (!record[key]) {
            missing.push(key)
            return all
        }
        return `<!--fig:${key}-->${record[key].value}<!--/fig-->`
    })
    return { text, missing }
}

/** What disagrees between the docs ({file: text}) and the record: a value, an unknown key, a recorded figure nobody quotes. */
export function checkDocs(docs, record) {
    const problems = []
    const used = new Set()
    for (const [file, doc] of Object.entries(docs))
        for (const f of markedFigures(doc)) {
            used.add(f.key)
            if (!record[f.key]) problems.push(`${file}: ${f.key} is not in docs/figures.json`)
            else if (f.value !== record[f.key].value) problems.push(`${file}: ${f.key} says "${f.value}", the record "${record[f.key].value}" (${record[f.key].bench})`)
        }
    for (const key of Object.keys(record)) if (!used.has(key)) problems.push(`${key}: recorded, quoted nowhere`)
    return problems
}

/** The README's list of every figure: what, value, which command printed it, when. */
export function listTable(record) {
    const rows = Object.entries(record).map(([key, r]) => `| ${r.what} | ${r.value} | \`${r.bench}\`${r.byHand ? " (by hand)" : ""} | ${r.measured} |`)
    return ["| figure | value | printed by | measured |", "|---|---|---|---|", ...rows].join("\n")
}

// ---- running the sources

/** The figures whose key matches (one output, e.g. bench:sota:vm's, feeds two sources). */
const only = (figs, re) => Object.fromEntries(Object.entries(figs).filter(([k]) => re.test(k)))

const VITE = ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts"]

/** name → { command (to show), argv (to run, with node), parse, quick } */
export const SOURCES = {
    bytecode: { bench: "npm run bytecode -- --json", argv: ["tools/bytecode-report.mjs", "--json"], parse: parseBytecode, quick: true },
    boards: { bench: "npm run build:boards", argv: ["tools/build-boards.mjs"], parse: parseBoards, quick: true },
    delta: {
        bench: "npm run sim -- --engine node --baud 0 --delta --json",
        argv: [...VITE, "sim/cli/main.ts", "--", "--engine", "node", "--baud", "0", "--delta", "--json"],
        parse: parseDelta,
        quick: true,
    },
    boot: { bench: "node tools/boot-c.mjs", argv: ["tools/boot-c.mjs"], parse: parseBoot, quick: false, failing: true },
    heap: { bench: "npm run bench:sota:vm -- --heap-only --json", argv: [...VITE, "bench/sota-vm.ts", "--heap-only", "--json"], parse: t => only(parseSotaVm(t), /^heap\./), quick: false },
    ed25519: { bench: "npm run bench:ed25519:vm -- --json", argv: [...VITE, "bench/ed25519-vm.ts", "--json"], parse: parseEd25519, quick: false },
    "ed25519-node": { bench: "npm run bench:ed25519", argv: [...VITE, "bench/ed25519-node.ts"], parse: parseEd25519Node, quick: false },
    // wall-clock figures: run them on a quiet machine
    digests: {
        bench: "npm run bench:sota:vm -- --speed-only --json",
        argv: [...VITE, "bench/sota-vm.ts", "--speed-only", "--json"],
        parse: t => only(parseSotaVm(t), /^(digests|pipeline)\./),
        quick: false,
    },
    sim: { bench: "npm run bench:sim", argv: null, parse: null, quick: false },
}

const WHAT = {
    "firmware.functions": "the simulator firmware's function bytecode (VM limit 65 424 B)",
    "firmware.spare": "what the firmware leaves under the VM's limit",
    "boards.image": "the larger board image (ESP32, Pico; budget 96 KB)",
    "boards.functions": "the larger board's function bytecode (budget 60 KB)",
    "delta.package": "the delta package 1_0_0 → 2_0_0 on the wire",
    "delta.image": "the 2_0_0 image it rebuilds (a full package's size)",
    "boot.text": "the C boot stage's Cortex-M0+ code (text)",
    "boot.ram": "the C boot stage's RAM besides the copy buffer (data, bss, stack)",
    "boot.goal": "the boot stage's code goal (< 4 096 B)",
    "heap.startup": "VM heap peak: start-up",
    "heap.download": "VM heap peak: start-up + download (target < 16 KB)",
    "heap.upgrade": "VM heap peak: the whole upgrade with the second boot",
    "heap.target": "start-up + download under 16 KB (the whole range)",
    "ed25519.verify": "CPU time of one Ed25519 verification in the VM (goal ≤ 1 s)",
    "ed25519.heap": "VM heap added by one Ed25519 verification (goal ≤ 3 KB)",
    "ed25519.node-checks": "our Ed25519 verdicts against node:crypto's (random keys, good and one bit flipped)",
    "digests.ratio": "all digests per KB against the 1 KB line time at 115 200 baud (target < 0.1)",
    "pipeline.ratio": "the whole per-block pipeline per KB against the line time",
}

function run(root, name, saved) {
    const src = SOURCES[name]
    if (saved[name]) return src.parse(readFileSync(saved[name], "utf8"))
    process.stderr.write(`docs:figures: ${src.bench} …\n`)
    let out
    try {
        out = execFileSync(process.execPath, src.argv, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 })
    } catch (e) {
        // boot-c exits non-zero when its code goal is not met: its figures are still what it measured
        if (!src.failing || !e.stdout) throw e
        out = e.stdout
    }
    return src.parse(out)
}

function docFiles(root) {
    return ["README.md", ...readdirSync(`${root}docs`).filter(f => f.endsWith(".md")).map(f => `docs/${f}`)]
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const root = fileURLToPath(new URL("..", import.meta.url))
    const args = process.argv.slice(2)
    const recordPath = `${root}docs/figures.json`
    const record = JSON.parse(readFileSync(recordPath, "utf8"))
    const files = docFiles(root)
    if (args.includes("--check")) {
        const problems = checkDocs(Object.fromEntries(files.map(f => [f, readFileSync(root + f, "utf8")])), record)
        for (const p of problems) process.stderr.write(`docs:figures: ${p}\n`)
        process.exit(problems.length ? 1 : 0)
    }
    const i = args.indexOf("--runs")
    const runs = i >= 0 ? args[i + 1] : "1"
    const saved = {}
    const named = []
    for (let k = 0; k < args.length; k++) {
        if (args[k] === "--runs") k++
        else if (args[k] === "--saved") {
            const [n, f] = (args[++k] ?? "").split("=")
            saved[n] = f
            named.push(n)
        } else if (!args[k].startsWith("--")) named.push(args[k])
    }
    for (const n of named) if (!SOURCES[n] || (n === "sim" && saved.sim)) throw new Error(`unknown source "${n}": one of ${Object.keys(SOURCES).join(", ")}`)
    const wanted = args.includes("--all") ? Object.keys(SOURCES) : named.length ? named : Object.keys(SOURCES).filter(n => SOURCES[n].quick)
    const today = new Date().toISOString().slice(0, 10)
    for (const name of wanted) {
        if (name === "sim") {
            process.stderr.write(`docs:figures: npm run bench:sim (${runs} run per case; minutes)…\n`)
            const out = execFileSync(process.execPath, [...VITE, "bench/sim-speed.ts", runs], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
            const rows = parseBenchSim(out)
            if (rows.length === 0) throw new Error(`bench:sim printed no figures:\n${out}`)
            const path = `${root}docs/ARCHITECTURE.md`
            writeFileSync(path, rewriteFigures(readFileSync(path, "utf8"), figuresTable(rows, today)))
            continue
        }
        for (const [key, value] of Object.entries(run(root, name, saved))) {
            const was = record[key]?.value
            record[key] = { what: WHAT[key] ?? key, value, bench: SOURCES[name].bench, measured: today }
            process.stderr.write(`docs:figures: ${key} ${was === value ? "=" : `${was ?? "(new)"} →`} ${value}\n`)
        }
    }
    writeFileSync(recordPath, JSON.stringify(record, null, 2) + "\n")
    for (const f of files) {
        const doc = readFileSync(root + f, "utf8")
        let { text, missing } = renderMarked(doc, record)
        for (const k of missing) process.stderr.write(`docs:figures: ${f}: ${k} is marked but not recorded\n`)
        if (text.includes(LIST_BEGIN)) text = rewriteFigures(text, listTable(record), LIST_BEGIN, LIST_END)
        if (text !== doc) writeFileSync(root + f, text)
    }
    process.stderr.write(`docs:figures: ${wanted.join(", ")} measured; the docs quote docs/figures.json\n`)
}
