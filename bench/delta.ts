// Delta packages, measured (issue 18). `npx vite-node --config vitest.config.ts bench/delta.ts`
// [--sizes-only | --speed-only | --heap-only] [--agent].
//  1. Sizes (Node): patch size as a share of the full image for real firmware pairs
//     (tools/delta/firmware-pairs.ts: version only, one constant, a small feature, two consecutive
//     commits), with our builder at detools' heatshrink 8/7 (256-byte window) and 10/9 (1 KB), and
//     detools' own at 8/7; the compressed full image; the UART time of the package at 115 200
//     baud (11 520 bytes/s of payload, AT framing not counted) against the full image's.
//  2. Speed (the VM, bench/vm/delta.bench.ts): apply time of real patches fed as 1 KB blocks,
//     as ms per KB of target and as a multiple of the line: target bytes (how much faster than a
//     full image would arrive) and patch bytes (how much faster than the patch itself arrives).
//  3. Heap (the VM, ballast method of reference/devicescript.md §11, ¼ KB steps): the most
//     ballast with which a program holding the fixture sits idle, minus the most with which it
//     applies the 1_0_0 → 2_0_0 patch (the applier's objects, buffers, window, frames, the
//     prototypes of its classes, what readImage allocates, each checkpoint's bytes). With --agent,
//     as the SOTA agent runs it (src/sota/rebuild.ts): a 1 KB buffer, the chunk history for
//     checkpoints by reference (readImage(true, …); never called without a resume). The whole delta
//     download and apply through the engine: bench/delta-flow-vm.ts.
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildDevs } from "../sim/host/vm"
import { constantPair, featurePair, FirmwarePair, releasePair, versionPair } from "../tools/delta/firmware-pairs"
import { compressImage, createPatch } from "../tools/delta/patch"
import { FixtureCase, fixtureSource } from "../tools/delta/vm-fixture"
import { detoolsCreate } from "../test/delta/detools"

const root = new URL("..", import.meta.url).pathname
const devs = join(root, "node_modules/.bin/devicescript")
const LINE = 11520 // bytes per second at 115 200 baud, 8N1
const has = (f: string) => process.argv.includes(f)
const only = has("--sizes-only") ? "sizes" : has("--speed-only") ? "speed" : has("--heap-only") ? "heap" : ""
const AGENT = has("--agent")
const APPLIER = "DeltaApplier"

/** Progress on stderr (stdout keeps the figures): the VM parts run a program per case and per probe. */
const t0 = Date.now()
function progress(what: string) {
    process.stderr.write(`bench:delta ${((Date.now() - t0) / 1000).toFixed(0)} s: ${what}\n`)
}

function runDevs(file: string): Promise<string> {
    return new Promise(resolve =>
        execFile(devs, ["run", file, "--test", "-T", "300000"], { cwd: root, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
            resolve(`${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, ""))
        )
    )
}

const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(2)} %`
const sec = (bytes: number) => `${(bytes / LINE).toFixed(2)} s`

async function pairs(): Promise<FirmwarePair[]> {
    const out: FirmwarePair[] = []
    for (const f of [versionPair, constantPair, featurePair, releasePair]) out.push(await f(root))
    return out
}

function sizes(ps: FirmwarePair[]) {
    console.log("sizes: patch share of the full image (UART time at 115 200 baud: package vs full image)")
    for (const p of ps) {
        const a = createPatch(p.old, p.nw).patch.length
        const b = createPatch(p.old, p.nw, { heatshrink: { windowSz2: 10, lookaheadSz2: 9 } }).patch.length
        const d = detoolsCreate(p.old, p.nw).length
        console.log(
            `  ${p.name.padEnd(9)} ${p.what}: image ${p.nw.length} B; ours 8/7 ${a} B = ${pct(a, p.nw.length)}, ours 10/9 ${b} B = ${pct(b, p.nw.length)}, detools 8/7 ${d} B = ${pct(d, p.nw.length)}; ` +
                `UART ${sec(a)} (8/7) or ${sec(b)} (10/9) instead of ${sec(p.nw.length)}: ${sec(p.nw.length - a)} saved`
        )
    }
    const img = ps[0].nw
    for (const [w, l] of [
        [8, 7],
        [10, 9],
        [11, 4],
    ]) {
        const c = compressImage(img, { heatshrink: { windowSz2: w, lookaheadSz2: l } }).patch.length
        console.log(`  compressed full image (heatshrink ${w}/${l}): ${c} B = ${pct(c, img.length)} of ${img.length} B; UART ${sec(c)} instead of ${sec(img.length)}`)
    }
}

function speedCases(ps: FirmwarePair[]): FixtureCase[] {
    const [version, , feature] = ps
    return [
        { name: "1_0_0 -> 2_0_0, heatshrink 8/7", old: version.old, patch: createPatch(version.old, version.nw).patch, target: version.nw },
        { name: "1_0_0 -> 2_0_0, heatshrink 10/9", old: version.old, patch: createPatch(version.old, version.nw, { heatshrink: { windowSz2: 10, lookaheadSz2: 9 } }).patch, target: version.nw },
        { name: "feature, heatshrink 8/7", old: feature.old, patch: createPatch(feature.old, feature.nw).patch, target: feature.nw },
        { name: "compressed full image 8/7 (literals)", old: Buffer.alloc(0), patch: compressImage(version.nw).patch, target: version.nw },
    ]
}

const FIXTURE = join(root, "bench/vm/delta-fixture.gen.ts")

async function speed(ps: FirmwarePair[]) {
    // one VM run per case: a program image holds at most about 128 KB (the simulator's flash), and
    // an old image with a big patch is more than half of that
    const lines: string[] = []
    const dir = mkdtempSync(join(tmpdir(), "bench-delta-"))
    try {
        for (const c of speedCases(ps)) {
            progress(`speed: ${c.name} in the VM`)
            writeFileSync(FIXTURE, fixtureSource("// generated by bench/delta.ts (deleted after the run)", [c]))
            const out = join(dir, "delta.devs")
            await buildDevs(root, "bench/vm/delta.bench.ts", out)
            const text = await runDevs(out)
            const got = text.split("\n").filter(l => l.includes("BENCH "))
            if (got.length === 0) throw new Error(`the VM bench printed nothing for ${c.name}:\n${text.slice(-3000)}`)
            lines.push(...got)
        }
        console.log("speed in the VM (devs run --test, GC stress on), fed as 1 KB blocks, a checkpoint every 4 KB; three runs:")
        for (const l of lines) {
            const r = JSON.parse(l.slice(l.indexOf("BENCH ") + 6))
            const ms = [...r.ms].sort((a: number, b: number) => a - b)
            const med = ms[1]
            const perKb = (med / r.targetBytes) * 1024
            const lineTarget = (r.targetBytes / LINE) * 1000
            const linePatch = (r.patchBytes / LINE) * 1000
            console.log(
                `  ${r.name}: ${r.patchBytes} B patch → ${r.targetBytes} B in ${ms.join("/")} ms = ${perKb.toFixed(1)} ms per KB of target; ` +
                    `×${(lineTarget / med).toFixed(1)} the line's rate for the target (a full image: ${lineTarget.toFixed(0)} ms), ` +
                    `×${(linePatch / med).toFixed(2)} for the patch bytes (${linePatch.toFixed(0)} ms on the wire); checkpoints ${r.checkpoints} of ${r.checkpointBytes} B`
            )
        }
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

async function probe(apply: boolean, q: number, dir: string): Promise<boolean> {
    progress(`heap: ${apply ? "applying" : "idle"} with ${q / 4} KB of ballast`)
    const src = join(root, "bench/vm", `delta-heap-probe.gen.ts`)
    writeFileSync(
        src,
        `// generated by bench/delta.ts (deleted after the run)
import * as ds from "@devicescript/core"
import { CASES } from "./delta-fixture.gen"
${apply ? `import { ${APPLIER} } from "../../src/delta/sequential-apply"\nimport { feedPieces, readPieces } from "../../test/vm/lib/delta-io"` : ""}
const c = CASES[0]
const ballast: Buffer[] = []
for (let i = 0; i < ${q >> 2}; i++) ballast.push(Buffer.alloc(1024))
${q & 3 ? `ballast.push(Buffer.alloc(${(q & 3) * 256}))` : ""}
${
    apply
        ? `let size = 0
const a = new ${APPLIER}({
    store: {
        readImage: async (receiving: boolean, off: number, n: number) => (receiving ? Buffer.alloc(n) : readPieces(c.old, off, n)),
        writeImage: async (off: number, data: Buffer, n: number) => {
            size = off + n
        },
    },${AGENT ? "\n    bufferSize: 1024," : "\n    byValue: true,"}
    oldSize: c.oldSize,
    maxSize: 1 << 20,
    checkpointEvery: 4096,
    onCheckpoint: async (cp: Buffer, at: number) => {},
})
await feedPieces(a, c.patch, c.patchSize, 0, 1024)
await a.finish()
if (size !== c.targetSize) throw new Error("wrong size")`
        : `await ds.sleep(10)`
}
console.log("HEAPPROBE ok " + ballast.length)
ds.restart()
`
    )
    const out = join(dir, `probe-${apply}-${q}.devs`)
    try {
        await buildDevs(root, src, out)
    } finally {
        rmSync(src, { force: true })
    }
    const text = await runDevs(out)
    if (text.includes("HEAPPROBE ok")) return true
    if (text.includes("OutOfMemory")) return false
    throw new Error(`probe ${apply ? "apply" : "idle"} ${q / 4} KB neither passed nor ran out of memory:\n${text.slice(-2000)}`)
}

async function maxBallast(apply: boolean, dir: string): Promise<number> {
    let lo = 0
    let hi = 64 * 4
    if (!(await probe(apply, lo, dir))) throw new Error(`${apply ? "apply" : "idle"} does not run even without ballast`)
    while (hi - lo > 1) {
        const mid = (lo + hi) >> 1
        if (await probe(apply, mid, dir)) lo = mid
        else hi = mid
    }
    return lo / 4
}

async function heap(ps: FirmwarePair[]) {
    writeFileSync(FIXTURE, fixtureSource("// generated by bench/delta.ts (deleted after the run)", speedCases(ps).slice(0, 1)))
    const dir = mkdtempSync(join(tmpdir(), "bench-delta-heap-"))
    try {
        const idle = await maxBallast(false, dir)
        const applying = await maxBallast(true, dir)
        const d = idle - applying
        console.log(`heap (${APPLIER}${AGENT ? ", 1 KB buffer" : ""}): idle with ${idle} KB of ballast, applying 1_0_0 → 2_0_0 (8/7) with ${applying} KB: the apply adds ${d - 0.25}–${d + 0.25} KB (goal ≤ 4 KB)`)
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

try {
    const ps = await pairs()
    if (!only || only === "sizes") sizes(ps)
    if (!only || only === "speed") await speed(ps)
    if (!only || only === "heap") await heap(ps)
} finally {
    rmSync(FIXTURE, { force: true })
}
