// tools/docs-figures.mjs: the figures table of docs/ARCHITECTURE.md is rewritten from what the
// benches print (the bench itself is not run here: it takes minutes).
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
// @ts-expect-error a plain .mjs tool without types
import { BEGIN, END, figuresTable, parseBenchSim, rewriteFigures } from "../../tools/docs-figures.mjs"

const root = new URL("../..", import.meta.url).pathname

describe("npm run docs:figures", () => {
    it("turns bench:sim's lines into the table between the markers, and nothing else", () => {
        const rows = parseBenchSim(
            "bench:sim node 921600 baud: download/UART floor 1.086 (goal 1.1); best 1.086 over 1 runs\nnoise\nbench:sim vm 115200 baud: download/UART floor 1.151 (goal 1.15) NOT met; best 1.151 over 1 runs\n"
        )
        expect(rows).toEqual([
            { engine: "node", baud: 921600, ratio: 1.086, goal: 1.1 },
            { engine: "vm", baud: 115200, ratio: 1.151, goal: 1.15 },
        ])
        const table = figuresTable(rows, "2026-12-06")
        expect(table).toContain("| node engine, 921 600 baud | 1.086 | 1.1 |")
        expect(table).toContain("| vm engine, 115 200 baud | 1.151 | 1.15 (not met) |")
        const doc = `a\n${BEGIN}\nold\n${END}\nb\n`
        expect(rewriteFigures(doc, table)).toBe(`a\n${BEGIN}\n${table}\n${END}\nb\n`)
        expect(() => rewriteFigures("no markers", table)).toThrow(/figures:begin/)
    })

    it("docs/ARCHITECTURE.md carries the marked table", () => {
        const doc = readFileSync(`${root}docs/ARCHITECTURE.md`, "utf8")
        expect(doc.indexOf(BEGIN)).toBeGreaterThan(0)
        expect(doc.indexOf(END)).toBeGreaterThan(doc.indexOf(BEGIN))
    })
})
