#!/usr/bin/env node
// `npm run docs:figures`: run the quick benches and rewrite the figures table of docs/ARCHITECTURE.md
// between `<!-- figures:begin -->` and `<!-- figures:end -->`, so that the figures the docs quote
// are the ones the benches print. Today: bench:sim (one run per case; `--runs N` for more).
// The rewrite itself (figuresTable, rewriteFigures) is pure and tested (test/cli/docs-figures.test.ts).
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export const BEGIN = "<!-- figures:begin -->"
export const END = "<!-- figures:end -->"

/** The bench:sim lines ("bench:sim <engine> <baud> baud: download/UART floor N (goal G)…") as rows. */
export function parseBenchSim(text) {
    const rows = []
    for (const m of text.matchAll(/^bench:sim (\w+) (\d+) baud: download\/UART floor ([\d.]+) \(goal ([\d.]+)\)/gm))
        rows.push({ engine: m[1], baud: Number(m[2]), ratio: Number(m[3]), goal: Number(m[4]) })
    return rows
}

export function figuresTable(rows, date) {
    const lines = [
        `| case (\`npm run bench:sim\`, ${date}) | download / UART floor | goal |`,
        "|---|---|---|",
        ...rows.map(r => `| ${r.engine} engine, ${r.baud.toLocaleString("en-US").replace(/,/g, " ")} baud | ${r.ratio.toFixed(3)} | ${r.goal}${r.ratio <= r.goal ? "" : " (not met)"} |`),
    ]
    return lines.join("\n")
}

/** `doc` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function rewriteFigures(doc, table) {
    const b = doc.indexOf(BEGIN)
    const e = doc.indexOf(END)
    if (b < 0 || e < b) throw new Error(`no ${BEGIN} … ${END} block`)
    return `${doc.slice(0, b + BEGIN.length)}\n${table}\n${doc.slice(e)}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const root = fileURLToPath(new URL("..", import.meta.url))
    const i = process.argv.indexOf("--runs")
    const runs = i >= 0 ? process.argv[i + 1] : "1"
    process.stderr.write(`docs:figures: running bench:sim (${runs} run per case; minutes)…\n`)
    const out = execFileSync(process.execPath, ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts", "bench/sim-speed.ts", runs], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    const rows = parseBenchSim(out)
    if (rows.length === 0) throw new Error(`bench:sim printed no figures:\n${out}`)
    const path = `${root}docs/ARCHITECTURE.md`
    writeFileSync(path, rewriteFigures(readFileSync(path, "utf8"), figuresTable(rows, new Date().toISOString().slice(0, 10))))
    process.stderr.write(`docs:figures: ${rows.length} rows written to docs/ARCHITECTURE.md\n`)
}
