// The board's C boot stage (boot/) and the TypeScript store, both ways, plain and signed (BS_SIGNATURES). tools/boot-c.mjs (a step of
// `npm test`, run here again when its results are missing or older than the sources) has the C
// stage decide on every shared vector as the TypeScript stage did; here:
//   - what the C stage wrote, the TypeScript firmware reads: each flash after a C boot is mounted
//     by an ImageStore with externalBoot, which must find the slot the C stage runs, on trial or
//     not, with the same news;
//   - the C stage's own records cut by power at every flash operation: the state in force is the
//     one before or the one after, and the TypeScript stage on that flash decides and writes what
//     the C stage's next boot did.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { ImageStore, storeState } from "../../src/flash/image-store"
import type { StoreLayout } from "../../src/flash/store-config"
import { StoreError } from "../../src/flash/store-port"
import { encodeState } from "../../src/flash/store-records"
import { runBootStage } from "../../sim/boot/boot-stage"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { NorFlash } from "../../sim/flash/nor-flash"
import { CResult, metaOf, readCCuts, readCResults, readVectors, SECTOR, Vector } from "./vector-file"

const root = new URL("../..", import.meta.url).pathname
const dir = join(root, ".devicescript/boot-c")
const FAST = { yielder: async () => {}, yieldEvery: 1 << 30 }

/** Newest modification under the sources the C step builds from. */
function newestSource(): number {
    const files = [
        ...readdirSync(join(root, "boot")).map(f => join("boot", f)),
        ...readdirSync(join(root, "boot/test")).map(f => join("boot/test", f)),
        "tools/boot-c.mjs",
        "tools/boot-vectors.ts",
        "test/boot-c/images.ts",
        "test/boot-c/vector-file.ts",
        "test/boot-c/ed25519-cases.ts",
        "src/image/trusted-keys.ts",
    ]
    return Math.max(...files.map(f => statSync(join(root, f)).mtimeMs))
}

interface HostRun {
    vectors: number
    disagreements: number
    deployCuts: number
    deployFailures: number
    recordCuts: number
    flashViolations: number
    limits: number
    limitFailures: number
    silentVectors: number
    silentErases: number
    silentDisagreements: number
    text: number
    data: number
    bss: number
    stack: number
}

/** The plain build on the plain set, with the signed build's run and the crypto checks beside it. */
interface Summary extends HostRun {
    /** the signed build (BS_SIGNATURES) on the signed set */
    signed: HostRun
    ed25519: { cases: number; rfc8032: number; valid: number; flipped: number; edges: number; disagreements: number; nodeDisagreements: number; sha512Answers: number; sha512Failures: number; hostMicros: number; fieldMuls: number }
    shaAnswers: number
    shaFailures: number
}

let summary: Summary
let vectors: Vector[]
let signedVectors: Vector[]

beforeAll(() => {
    const file = join(dir, "summary.json")
    if (!existsSync(file) || statSync(file).mtimeMs < newestSource()) {
        const r = spawnSync("node", [join(root, "tools/boot-c.mjs")], { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 })
        console.log(r.stdout + r.stderr)
        if (r.status !== 0 && !existsSync(file)) throw new Error(`tools/boot-c.mjs failed (exit ${r.status})`)
    }
    summary = JSON.parse(readFileSync(file, "utf8"))
    vectors = readVectors(readFileSync(join(dir, "vectors.bin")))
    signedVectors = readVectors(readFileSync(join(dir, "signed-vectors.bin")))
}, 600_000)

function layoutOf(v: Vector): StoreLayout {
    const L = v.layout
    return { metaAddress: L.metaAddr, metaSectors: L.metaSectors, slotAddress: [L.slots[0], L.slots[1]], slotSize: L.slotSize }
}

/** The vector's flash with `meta` as its metadata, worn where the vector says. */
function flashWith(v: Vector, meta: Buffer): NorFlash {
    const endurance = 1000
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: v.layout.unit, size: v.layout.flashSize, endurance })
    nor.data.set(v.flash)
    nor.data.set(meta, v.layout.metaAddr)
    for (const w of v.worn) nor.eraseCounts[w.sector] = w.flags & 2 ? endurance + 1 : endurance
    return nor
}

async function stateText(v: Vector, meta: Buffer): Promise<string> {
    const s = new ImageStore(flashWith(v, meta), layoutOf(v), FAST)
    await s.mount()
    return encodeState(storeState(s)).toString("hex")
}

/** A build's run on its vector set: enough vectors, no disagreement, deploys again after every cut, no flash misuse;
 *  and a failed erase that only the stage's read-back can see (half done, silent, programs still land) is seen. */
function agreesEverywhere(r: HostRun) {
    expect(r.vectors).toBeGreaterThanOrEqual(2000)
    expect(r.disagreements).toBe(0)
    expect(r.deployCuts).toBeGreaterThan(100)
    expect(r.deployFailures).toBe(0)
    expect(r.flashViolations).toBe(0)
    expect(r.limitFailures).toBe(0)
    expect(r.silentErases).toBeGreaterThan(0)
    expect(r.silentDisagreements).toBe(0)
}

describe("the C boot stage and the TypeScript store", () => {
    it("decides as the TypeScript stage on every vector, deploys again after a cut deploy, and fits an M0+", () => {
        console.log(
            `boot vectors: ${summary.vectors} vectors, ${summary.disagreements} disagreements; deploy power cuts: ${summary.deployCuts} points, ${summary.deployFailures} failures; ` +
                `boot stage (cortex-m0plus): text ${summary.text} B, data ${summary.data} B, bss ${summary.bss} B, stack ≤ ${summary.stack} B`
        )
        agreesEverywhere(summary)
        expect(summary.shaAnswers).toBe(3) // FIPS 180-2's examples: one block, two blocks (0x80 at byte 56), empty
        expect(summary.shaFailures).toBe(0)
        expect(summary.data + summary.bss + summary.stack).toBeLessThan(1536) // the RAM goal, the copy buffer aside
        // the code goal, under 4 KB: 4 004 B (docs/BOARDS.md); tools/boot-c.mjs fails at 4 008 B, this catches growth past it
        expect(summary.text).toBeLessThan(4008)
    })

    it("built with signatures (BS_SIGNATURES), decides as the TypeScript stage with keys on every signed vector, and its Ed25519 agrees", () => {
        const s = summary.signed
        const e = summary.ed25519
        console.log(
            `signed boot vectors: ${s.vectors} vectors, ${s.disagreements} disagreements; ed25519: ${e.cases} cases, ${e.disagreements} disagreements with the TypeScript, ${e.nodeDisagreements} with node:crypto; ` +
                `boot stage, signed (cortex-m0plus): text ${s.text} B, bss ${s.bss} B, stack ≤ ${s.stack} B; verify ${e.hostMicros} µs on this host, ${e.fieldMuls} field multiplications`
        )
        agreesEverywhere(s)
        // the signed variant's ceiling (tools/boot-c.mjs): 8 444 B today
        expect(s.text).toBeLessThan(8452)
        expect(s.stack).toBeLessThan(1536) // 1 232 B by the call graph: under a Pico's 2 KB main stack with room for its callers
        expect(e.rfc8032).toBe(5)
        expect(e.valid).toBeGreaterThanOrEqual(2000)
        expect(e.flipped).toBeGreaterThanOrEqual(8000) // R, S, message and key, each key
        expect(e.edges).toBeGreaterThan(100)
        expect(e.disagreements).toBe(0)
        expect(e.nodeDisagreements).toBe(0)
        expect(e.sha512Answers).toBe(301) // every length 0..300: the padding's boundaries at 111 and 112
        expect(e.sha512Failures).toBe(0)
    })

    it("the signed set holds what it says: trusted images launch, unsigned, unknown-key, bad-signature and lower-counter ones do not", () => {
        const launched = (name: string) => signedVectors.filter(v => v.name.includes(name) && v.name.includes("alone, confirmed")).map(v => v.expected.outcome)
        expect(launched(" plain (good)")).toEqual([0, 0]) // two geometries
        for (const bad of ["unsigned", "unknown-key", "bad-signature-r", "bad-signature-s", "malleated-s", "counter-below", "counter-none"]) expect(launched(` ${bad} (bad)`), bad).toEqual([1, 1])
        expect(launched(" counter-equal (good)")).toEqual([0, 0])
        const ok = signedVectors.filter(v => v.expected.outcome === 0).length
        console.log(`signed set: ${ok} of ${signedVectors.length} vectors launch an image`)
        expect(ok).toBeGreaterThan(signedVectors.length / 2)
    })

    // each set with the C build that ran it: the plain one, and the signed one (the TypeScript stage with keys)
    for (const set of [
        { name: "", results: "c-results.bin", cuts: "c-cuts.bin", vectors: () => vectors, keys: undefined },
        { name: " (signed)", results: "c-signed-results.bin", cuts: "c-signed-cuts.bin", vectors: () => signedVectors, keys: TRUSTED_KEYS },
    ]) {
        it(`what the C stage writes, the firmware's store (externalBoot) reads as the C stage's choice${set.name}`, async () => {
            const vectors = set.vectors()
            const results: CResult[] = readCResults(readFileSync(join(dir, set.results)), vectors)
            let checked = 0
            let unrecorded = 0
            const bad: string[] = []
            for (const [i, v] of vectors.entries()) {
                const r = results[i]
                if (r.outcome !== 0) continue
                const store = new ImageStore(flashWith(v, r.metaAfter), layoutOf(v), { ...FAST, externalBoot: true })
                await store.mount()
                if (r.metaFault) {
                    // nothing could be recorded: the firmware sees the recorded choice, not the C's unrecorded one
                    unrecorded++
                    continue
                }
                checked++
                try {
                    const b = await store.boot()
                    if (b.slot !== r.slot || b.trial !== r.trial || b.why !== r.why) bad.push(`${v.name}: the store says slot ${b.slot} trial ${b.trial} why ${b.why}, the C stage ${r.slot} ${r.trial} ${r.why}`)
                } catch (e) {
                    bad.push(`${v.name}: ${(e as Error).message}`)
                }
            }
            console.log(`C writes, TypeScript reads${set.name}: ${checked} boots, ${bad.length} disagreements (${unrecorded} unrecorded boots on worn metadata left out)`)
            expect(bad.slice(0, 10)).toEqual([])
            expect(checked).toBeGreaterThan(set.keys ? 1500 : 2000)
        }, 300_000)

        it(`a power cut in the C stage's own record leaves the state before or after, and both stages then agree${set.name}`, async () => {
            const vectors = set.vectors()
            const cuts = readCCuts(readFileSync(join(dir, set.cuts)), vectors)
            const bad: string[] = []
            const states = new Map<number, [string, string]>()
            for (const c of cuts) {
                const v = vectors[c.vector]
                const label = `${v.name}, cut ${["before", "after", "torn"][c.kind]}`
                if (!states.has(c.vector)) states.set(c.vector, [await stateText(v, metaOf(v)), await stateText(v, v.expected.metaAfter)])
                const [before, after] = states.get(c.vector)
                const now = await stateText(v, c.meta)
                if (now !== before && now !== after) bad.push(`${label}: the state in force is neither the one before nor the one after`)
                const nor = flashWith(v, c.meta)
                let outcome = 0
                let launch: Awaited<ReturnType<typeof runBootStage>> = null
                try {
                    launch = await runBootStage(nor, layoutOf(v), { keys: set.keys })
                } catch (e) {
                    outcome = e instanceof StoreError && e.reason === "no-image" ? 1 : 2
                }
                const n = c.next
                const ts = { outcome, slot: launch ? launch.slot : -1, trial: !!launch?.trial, wrote: !!launch?.wrote, metaFault: !!launch?.metaFault, why: launch ? launch.why : 0 }
                const cc = { outcome: n.outcome, slot: n.outcome === 0 ? n.slot : -1, trial: n.trial, wrote: n.wrote, metaFault: n.metaFault, why: n.why }
                if (JSON.stringify(ts) !== JSON.stringify(cc)) bad.push(`${label}: TypeScript ${JSON.stringify(ts)}, C ${JSON.stringify(cc)}`)
                else if (!nor.peek(v.layout.metaAddr, c.meta.length).equals(n.metaAfter)) bad.push(`${label}: the next boots wrote different records`)
            }
            console.log(`record power cuts${set.name}: ${cuts.length} points over ${states.size} vectors, ${bad.length} disagreements`)
            expect(bad.slice(0, 10)).toEqual([])
            expect(cuts.length).toBeGreaterThan(500)
        }, 300_000)
    }
})
