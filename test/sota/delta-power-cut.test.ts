// Issue 18's Must show: a power cut anywhere in an apply. For every flash operation of a delta
// upgrade (and of a compressed one) — every sector's erase at a boundary of the rebuilt image,
// every program of its bytes (inside the module's blocks), every journal record (the
// checkpoints), the verification's and activation's records, the trial boot's — cut before it,
// after it, and torn in the middle, then boot the device again and again as a device in the field
// would. Every run must end running the exact target image, confirmed, or the old image, byte for
// byte. Counted and bounded: the package bytes read again from the module (a resume goes on from
// the checkpoint's patch offset, less the digests' pending bytes: at most one checkpoint
// interval's worth of patch, 63 bytes and the blocks in flight; a replay from the package's start
// read up to all of it), and the image bytes programmed again (at most one checkpoint interval and
// the applier's buffer).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { CutPlan } from "../../sim/flash/nor-flash"
import { everyCut, healthy, settle, watchCut, World } from "./world"
import { deltaWorld, imagePair, Kind, packageOf, Pair } from "./delta-world"
import { DeltaApplier } from "../../src/delta/sequential-apply"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const OPTS = { engine: { offerTimeoutMs: 2000, resultTimeoutMs: 2000 } }
const CHECKPOINT = 4096
const BUFFER = 1024

interface Outcome {
    image: "old" | "new"
    /** AT+QIOTOTARD payload bytes beyond one clean download */
    reread: number
    /** image bytes programmed into the receiving slot beyond one clean apply */
    rewritten: number
    phase: string
    heardDead: number
}

/** Count the bytes programmed into the slot that receives (slot 1: the factory image is in slot 0). */
function countSlotPrograms(w: World): () => number {
    let n = 0
    const lo = w.layout.slotAddress[1]
    const hi = lo + w.layout.slotSize
    const program = w.flash.program.bind(w.flash)
    w.flash.program = async (address: number, data: Buffer) => {
        await program(address, data)
        if (address >= lo && address < hi) n += data.length
    }
    return () => n
}

async function clean(p: Pair, kind: Kind) {
    const w = deltaWorld(p, kind, OPTS)
    await w.install()
    w.flash.resetCounters()
    const programmed = countSlotPrograms(w)
    const read = await settle(w, 4)
    expect(await healthy(w)).toBe("new")
    return { ops: w.flash.ops, read, programmed: programmed() }
}

async function cutRun(p: Pair, kind: Kind, plan: CutPlan, base: { read: number; programmed: number }): Promise<Outcome> {
    const w = deltaWorld(p, kind, OPTS)
    await w.install()
    w.flash.resetCounters()
    const programmed = countSlotPrograms(w)
    w.flash.armCut(plan)
    const cut = watchCut(w)
    // the phase the cut fell in: noted at the flash operation the power went at
    for (const op of ["program", "eraseSector"] as const) {
        const f = (w.flash as any)[op].bind(w.flash)
        ;(w.flash as any)[op] = async (...args: any[]) => {
            try {
                return await f(...args)
            } finally {
                cut.noteCut()
            }
        }
    }
    const read = await settle(w, 12)
    const image = await healthy(w)
    if (image === "old") expect((await w.runningImage()).bytes.equals(p.old)).toBe(true)
    return { image, reread: read - base.read, rewritten: programmed() - base.programmed, phase: cut.phase(), heardDead: cut.heardDead() }
}

/**
 * The checkpoints of an apply of `pkg` as the agent takes them (rebuild.ts: a 4 KB interval, the
 * window by reference): the most patch bytes and image bytes between two that fit the journal's
 * 200-byte midstate beside the 2-byte tag and the 61-byte digests (a larger one is not saved and
 * the one before stays in force), counting the patch's start and end.
 */
async function checkpointGaps(p: Pair, pkg: Buffer) {
    const patch = [0]
    const image = [0]
    let taken = 0
    const out = Buffer.alloc(p.nw.length)
    const a: DeltaApplier = new DeltaApplier({
        store: {
            readImage: async (receiving, off, n) => (receiving ? out : p.old).subarray(off, off + n),
            writeImage: async (off, data, n) => void data.copy(out, off, 0, n),
        },
        oldSize: p.old.length,
        maxSize: 1 << 20,
        bufferSize: BUFFER,
        checkpointEvery: CHECKPOINT,
        onCheckpoint: async (cp, at) => {
            taken++
            if (2 + 61 + cp.length > 200) return
            patch.push(a.patchOffset())
            image.push(at)
        },
        yielder: async () => {},
    })
    await a.feed(pkg, 0, pkg.length)
    expect(await a.finish()).toBe(p.nw.length)
    patch.push(pkg.length)
    image.push(p.nw.length)
    const gap = (v: number[]) => Math.max(...v.slice(1).map((o, i) => o - v[i]))
    return { patch: gap(patch), image: gap(image), taken, saved: patch.length - 2 }
}

const CASES = [
    { kind: "delta" as Kind, name: "delta", edits: 25 },
    // a larger delta (≈ 10 KB): a replay from the package's start would read far more than one interval again
    { kind: "delta" as Kind, name: "delta, 600 edits", edits: 600 },
    { kind: "compressed" as Kind, name: "compressed", edits: 25 },
]

describe("power cuts over a delta apply", () => {
    for (const { kind, name, edits } of CASES)
        it(`${name}: every flash operation, cut before, after and torn; every run ends on the exact target or the old image; package bytes read again bounded by one checkpoint interval`, async () => {
            const p = await imagePair(21, 40000, edits)
            const pkg = packageOf(p, kind)
            const gaps = await checkpointGaps(p, pkg)
            const base = await clean(p, kind)
            const plans = everyCut(base.ops)
            let unrecoverable = 0
            let stillOld = 0
            let maxReread = 0
            let maxRewritten = 0
            let heardDead = 0
            const phases = new Map<string, number>()
            for (const plan of plans) {
                let o: Outcome
                try {
                    o = await cutRun(p, kind, plan, base)
                } catch (err) {
                    unrecoverable++
                    console.log(`${kind} cut ${JSON.stringify(plan)}: ${err}`)
                    continue
                }
                if (o.image === "old") stillOld++
                phases.set(o.phase, (phases.get(o.phase) || 0) + 1)
                heardDead += o.heardDead
                if (o.phase === "downloading") {
                    maxReread = Math.max(maxReread, o.reread)
                    maxRewritten = Math.max(maxRewritten, o.rewritten)
                }
            }
            const bound = gaps.patch + 63 + 2 * BUFFER
            console.log(
                `${name} power-cut sweep: ${plans.length} points over ${base.ops} flash operations (image ${p.nw.length} bytes, package ${pkg.length}), ` +
                    `${unrecoverable} unrecoverable, ${stillOld} ended on the old image; during the apply at most ${maxReread} package bytes read again ` +
                    `(bound ${bound}: at most ${gaps.patch} of patch between two saved checkpoints, 63, two blocks in flight; ` +
                    `${gaps.saved} of ${gaps.taken} checkpoints fit the journal) ` +
                    `and ${maxRewritten} image bytes programmed again; cuts by phase: ${[...phases].map(([k, v]) => `${k || "none"} ${v}`).join(", ")}`
            )
            expect(unrecoverable).toBe(0)
            expect(heardDead).toBe(0)
            expect(stillOld).toBe(0) // the platform re-offers: every run ends upgraded
            expect(phases.get("downloading")).toBeGreaterThan(40)
            // a resume goes on from its checkpoint's patch offset: at most one interval's worth of
            // patch, the digests' pending bytes and the blocks in flight (a replay: all the package)
            expect(maxReread).toBeLessThanOrEqual(bound)
            // and writes the image again from its last checkpoint: at most one interval (between two
            // saved checkpoints) and the buffer in flight
            expect(maxRewritten).toBeLessThanOrEqual(gaps.image + BUFFER)
            if (edits < 100) expect(gaps.saved).toBe(gaps.taken)
        }, 600_000)
})
