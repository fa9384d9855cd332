// tools/docs-figures.mjs: the figures the docs quote come from what the benches print. The benches
// are not run here (minutes); their outputs' shapes are, and the docs are checked against the
// record (docs/figures.json): a figure edited by hand, or a recorded one nobody quotes, fails.
import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
    BEGIN,
    checkDocs,
    END,
    figuresTable,
    LIST_BEGIN,
    LIST_END,
    listTable,
    markedFigures,
    parseBenchSim,
    parseBoards,
    parseBoot,
    parseBytecode,
    parseDelta,
    parseEd25519,
    parseEd25519Node,
    parseSotaVm,
    renderMarked,
    rewriteFigures,
    SOURCES,
    // @ts-expect-error a plain .mjs tool without types
} from "../../tools/docs-figures.mjs"

const root = new URL("../..", import.meta.url).pathname
const record = JSON.parse(readFileSync(`${root}docs/figures.json`, "utf8"))
const docs: Record<string, string> = Object.fromEntries(
    ["README.md", ...readdirSync(`${root}docs`).filter(f => f.endsWith(".md")).map(f => `docs/${f}`)].map(f => [f, readFileSync(root + f, "utf8")])
)

describe("npm run docs:figures: the benches' outputs", () => {
    it("bench:sim's lines become the table between the markers, and nothing else", () => {
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

    it("bytecode, boards, delta, boot and bench:sota:vm --json: the figures as the docs write them", () => {
        expect(parseBytecode('building…\n{\n "entry": "src/simulator/main.ts",\n "total": 63516,\n "functions": 442,\n "limit": 65424\n}\n')).toEqual({
            "firmware.functions": "63 516 B",
            "firmware.spare": "1 908 B",
        })
        expect(
            parseBoards(
                "esp32_devkit_c    67136 bytes   65.6 KB of 96 KB; functions 52.5 KB of 60 KB  → x\npico              67104 bytes   65.5 KB of 96 KB; functions 52.6 KB of 60 KB  → y\nbuild-boards: 2/2\n"
            )
        ).toEqual({ "boards.image": "65.6 KB", "boards.functions": "52.6 KB" })
        expect(() => parseBoards("build-boards: 0/2 boards built")).toThrow(/no board/)
        expect(parseDelta('{"result":"upgraded","packageKind":"delta","packageBytes":1417,"imageBytes":82268}\n')).toEqual({
            "delta.package": "1 417 B",
            "delta.image": "82 268 B",
        })
        expect(() => parseDelta('{"result":"failed","reason":"x","packageKind":"delta"}')).toThrow(/did not upgrade/)
        const boot = (text: number) =>
            parseBoot(
                `boot stage (cortex-m0plus): text ${text} B, data 0 B, bss 636 B\nboot stage (cortex-m0plus): code goal 4096 B NOT met (17 B over), ceiling 4142 B\n` +
                    "boot stage (cortex-m0plus): stack at most 664 B (call graph; the port's own frames aside); RAM 1300 B besides the copy buffer\n"
            )
        expect(boot(4112)).toEqual({ "boot.text": "4 112 B", "boot.ram": "1 300 B", "boot.goal": "not met: 17 B over" })
        expect(boot(4000)["boot.goal"]).toBe("met: 96 B to spare")
        const vm = {
            speed: [
                { label: "all digests (DigestSet: MD5 + SHA-256 + CRC-32)", msPerKb: 7.7, lineRatio: 0.0836 },
                { label: "whole per-block pipeline (framing + copy + digests + store write + journal)", msPerKb: 9.2, lineRatio: 0.1 },
            ],
            heap: { idleBallastKb: 40, startupPeakKb: 12.25, downloadPeakKb: 15.5, upgradePeakKb: 15.75 },
        }
        expect(parseSotaVm(`heap: …\n${JSON.stringify(vm)}\n`)).toEqual({
            "heap.startup": "12–12.5 KB",
            "heap.download": "15.25–15.75 KB",
            "heap.upgrade": "15.5–16 KB",
            "heap.target": "met",
            "digests.ratio": "0.084",
            "pipeline.ratio": "0.100",
        })
        expect(parseSotaVm(JSON.stringify({ ...vm, heap: null }))).toEqual({ "digests.ratio": "0.084", "pipeline.ratio": "0.100" })
        // one run of the bench feeds two sources: the heap (by ballast) and the wall-clock costs (a quiet machine only)
        expect(Object.keys(SOURCES.heap.parse(JSON.stringify(vm)))).toEqual(["heap.startup", "heap.download", "heap.upgrade", "heap.target"])
        expect(parseSotaVm(JSON.stringify({ ...vm, heap: { ...vm.heap, downloadPeakKb: 16 } }))["heap.target"]).toBe("not met")
        expect(parseEd25519('{"verifyCpuMs":609,"heapAddedKb":2,"cryptoFunctionKb":5.83,"nodeMs":0.84}\n')).toEqual({ "ed25519.verify": "609 ms", "ed25519.heap": "1.75–2.25 KB" })
        expect(parseEd25519('{"verifyCpuMs":609,"heapAddedKb":null}')).toEqual({ "ed25519.verify": "609 ms" }) // --skip-heap
        expect(parseEd25519Node("bench:ed25519 10000 random keys and messages, 20000 verifications (10000 good), 0 disagreements with node:crypto; 0.9 ms")).toEqual({
            "ed25519.node-checks": "0 disagreements with node:crypto over 20 000 verifications",
        })
        expect(Object.keys(SOURCES.digests.parse(JSON.stringify(vm)))).toEqual(["digests.ratio", "pipeline.ratio"])
    })
})

describe("the docs quote the record", () => {
    it("every marked figure in README.md and docs/*.md is docs/figures.json's, and every recorded one is quoted", () => {
        expect(checkDocs(docs, record)).toEqual([])
        // at least the heap, bytecode, boot and delta figures are marked in the README
        const keys = markedFigures(docs["README.md"]).map((f: { key: string }) => f.key)
        for (const k of ["heap.download", "firmware.functions", "boards.functions", "boot.text", "delta.package"]) expect(keys).toContain(k)
    })

    it("a figure written by hand, or a recorded one left unquoted, is caught", () => {
        const edited = { ...docs, "README.md": docs["README.md"].replace("<!--fig:heap.download-->", "<!--fig:heap.download-->1") }
        expect(checkDocs(edited, record)).toEqual([`README.md: heap.download says "1${record["heap.download"].value}", the record "${record["heap.download"].value}" (${record["heap.download"].bench})`])
        const extra = { ...record, "x.y": { what: "x", value: "1 B", bench: "b", measured: "d" } }
        expect(checkDocs(docs, extra)).toEqual(["x.y: recorded, quoted nowhere"])
        const r = renderMarked("a <!--fig:x.y-->old<!--/fig--> b <!--fig:nope-->?<!--/fig-->", extra)
        expect(r).toEqual({ text: "a <!--fig:x.y-->1 B<!--/fig--> b <!--fig:nope-->?<!--/fig-->", missing: ["nope"] })
    })

    it("the README's figures table is the record's, each with the command that printed it", () => {
        const doc = docs["README.md"]
        const table = doc.slice(doc.indexOf(LIST_BEGIN) + LIST_BEGIN.length, doc.indexOf(LIST_END)).trim()
        expect(table).toBe(listTable(record))
        const benches = new Set(Object.values(SOURCES).map((s: any) => s.bench))
        for (const [key, r] of Object.entries(record) as [string, any][]) {
            expect(r.byHand || benches.has(r.bench), `${key}: ${r.bench}`).toBe(true)
            expect(r.measured, key).toMatch(/^\d{4}-\d\d-\d\d$/)
        }
    })

    it("docs/ARCHITECTURE.md carries the bench:sim table", () => {
        const doc = docs["docs/ARCHITECTURE.md"]
        expect(doc.indexOf(BEGIN)).toBeGreaterThan(0)
        expect(doc.indexOf(END)).toBeGreaterThan(doc.indexOf(BEGIN))
    })
})
