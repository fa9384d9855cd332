// The boot vectors: NOR images of the image store in many states, each with what the TypeScript
// boot stage (sim/boot/boot-stage.ts: ImageStore.boot with the image check) decides and writes,
// for the C stage in boot/ to match (tools/boot-c.mjs runs both). Families:
//   sweep   every point of a power-cut sweep (cut before, after, torn at 4 points) over a device's
//           life: two upgrades, a confirm (to security counter 2^24: format 2 STATEs from then on),
//           a crashing trial rolled back, the boot stage's own
//           records; per geometry, and once across the u32 sequence wrap;
//   flips   bit flips in the metadata records and in the images;
//   forged  records a firmware could not have written: STATEs that do not decode (formats 0, 3,
//           255, each format's bytes marked as the other), mutated
//           states, PROGRESS deltas, torn and bad-CRC copies, sequence numbers half the space away;
//   fuzz    random states of both slots over random logs and images;
//   images  every way the image check refuses an image (test/boot-c/images.ts), as a trial and as
//           the only image;
//   worn    metadata sectors that no longer program or erase (the unrecorded boot);
//   wrap    logs moved next to the u32 sequence wrap.
// With --signed, the signed set: V1-V3 signed by the TEST KEY (security counters 1, 2^24, 2^24 + 1),
// the image variants signed too with the signature's own flaws added, fewer geometries and fuzz,
// every decision the TypeScript stage's with the trusted keys (src/image/trusted-keys.ts), for the
// C stage built with BS_SIGNATURES. --ed25519 FILE [N] writes the C verifier's cases
// (test/boot-c/ed25519-cases.ts); --keys writes boot/bs_keys.h, which every run checks.
// Usage: vite-node --config vitest.config.ts tools/boot-vectors.ts -- [--out FILE] [--signed]
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { programSkippingErased } from "../src/flash/flash"
import { ImageStore, storeState } from "../src/flash/image-store"
import { encodeRecord, scanSector, maxRecordBody } from "../src/flash/meta-log"
import type { StoreLayout } from "../src/flash/store-config"
import { StoreError } from "../src/flash/store-port"
import { decodeState, encodeProgress, encodeState, REC_PROGRESS, REC_STATE, SlotState, StoreState } from "../src/flash/store-records"
import { crc32 } from "../src/lib/crc32"
import { StepBudget } from "../src/lib/step-budget"
import { runBootStage } from "../sim/boot/boot-stage"
import { CutKind, CutPlan, NorFlash, NorSnapshot, PowerCut } from "../sim/flash/nor-flash"
import { Rng } from "../sim/lib/rng"
import { goodImage, imageVariants, programHash, sha256, SIGNED_STORE_COUNTER, TEST_KEY, TestImage } from "../test/boot-c/images"
import { Expected, SECTOR, VectorWriter } from "../test/boot-c/vector-file"
import { ED_KINDS, ed25519Cases } from "../test/boot-c/ed25519-cases"
import { TRUSTED_KEYS } from "../src/image/trusted-keys"

interface Geo {
    name: string
    size: number
    unit: number
    trials: number
    block: number
    layout: StoreLayout
}

const SMALL: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [8192, 20480], slotSize: 12288 }
const GEOS: Geo[] = [
    { name: "unit1", size: 32768, unit: 1, trials: 2, block: 1024, layout: SMALL },
    { name: "unit1-trial1", size: 32768, unit: 1, trials: 1, block: 256, layout: SMALL },
    { name: "unit8", size: 32768, unit: 8, trials: 1, block: 1024, layout: SMALL },
    { name: "unit32-meta3", size: 65536, unit: 32, trials: 2, block: 512, layout: { metaAddress: 49152, metaSectors: 3, slotAddress: [0, 20480], slotSize: 20480 } },
]
const ENDURANCE = 1000
const FAST = { yielder: async () => {}, yieldEvery: 1 << 30 }
const budget = () => new StepBudget(1 << 30, async () => {})

const blank = (g: Geo) => new NorFlash({ sectorSize: SECTOR, programUnit: g.unit, size: g.size, endurance: ENDURANCE })
function copyOf(g: Geo, nor: NorFlash): NorFlash {
    const c = blank(g)
    c.restore(nor.snapshot())
    return c
}
const metaOf = (g: Geo, nor: NorFlash) => nor.peek(g.layout.metaAddress, g.layout.metaSectors * SECTOR)

// ---- the collector: expected decisions, fstor, dedupe, chains ----

class Collector {
    w = new VectorWriter()
    seen = new Set<string>()
    families: Record<string, number> = {}
    states = new Set<string>()
    chains = 0

    /** Add the flash as a vector (unless the same input is in already); returns its expected result. */
    async add(family: string, name: string, g: Geo, nor: NorFlash, fstor?: Buffer | null): Promise<Expected> {
        const worn = wornOf(g, nor)
        const c = copyOf(g, nor)
        let outcome = 0
        let launch: Awaited<ReturnType<typeof runBootStage>> = null
        try {
            launch = await runBootStage(c, g.layout, stageOptions())
        } catch (e) {
            if (e instanceof PowerCut) throw e
            outcome = e instanceof StoreError && e.reason === "no-image" ? 1 : 2
        }
        const state = createHash("sha1").update(g.name).update(JSON.stringify(worn)).update(nor.data).digest()
        if (fstor === undefined) {
            // the same flash always meets the same fstor: the program it launches, V1's, or none
            const pick = state[0] % 3
            fstor = pick === 0 && launch ? programHash(launch.program) : pick === 1 ? V1_PROGRAM : null
        }
        const key = state.toString("hex") + (fstor ? fstor.toString("hex") : "-")
        const program = launch ? programHash(launch.program) : fstor || Buffer.alloc(32)
        const e: Expected = {
            outcome,
            slot: launch ? launch.slot : -1,
            trial: !!launch && launch.trial,
            rolledBack: !!launch && launch.rolledBack,
            wrote: !!launch && launch.wrote,
            metaFault: !!launch && !!launch.metaFault,
            why: launch ? launch.why : 0,
            failedVersion: launch ? launch.failedVersion : "",
            deploy: !!launch && !(fstor && fstor.equals(program)),
            program,
            metaAfter: metaOf(g, c),
        }
        if (this.seen.has(key)) return e
        this.seen.add(key)
        this.states.add(state.toString("hex"))
        this.families[family] = (this.families[family] || 0) + 1
        const L = g.layout
        const index = this.w.add({
            name: `${family}: ${name}`,
            layout: { flashSize: g.size, metaAddr: L.metaAddress, metaSectors: L.metaSectors, unit: g.unit, slots: [L.slotAddress[0], L.slotAddress[1]], slotSize: L.slotSize },
            fstor,
            worn,
            flash: Buffer.from(nor.data),
            expected: e,
            chain: -1,
        })
        // now and then, the next boot after a deploy cut short (fstor holds no program): the C
        // test cuts the deploy of this vector and boots again from what the stage recorded
        if (e.deploy && !e.metaFault && index % 37 === 0 && family !== "chain") {
            const before = this.w.count
            await this.add("chain", `the boot after ${name}`, g, c, null)
            if (this.w.count > before) {
                this.w.setChain(index, before)
                this.chains++
            }
        }
        return e
    }
}

/** The worn sectors of a flash, as the vector file says them (see vector-file.ts). */
function wornOf(g: Geo, nor: NorFlash): { sector: number; flags: number }[] {
    const out: { sector: number; flags: number }[] = []
    for (let s = 0; s < g.size / SECTOR; s++)
        if (nor.eraseCounts[s] >= ENDURANCE) out.push({ sector: s, flags: nor.eraseCounts[s] > ENDURANCE ? 3 : 1 })
    return out
}

// ---- a device's life, as the firmware and the boot stage live it ----

let V1: TestImage
let V2: TestImage
/** The signed set (--signed): images signed by the TEST KEY, the TypeScript stage with the trusted keys. */
let SIGNED = false
const stageOptions = () => (SIGNED ? { keys: TRUSTED_KEYS } : {})
let V3: TestImage
let V1_PROGRAM: Buffer

function store(g: Geo, nor: NorFlash, external: boolean) {
    return new ImageStore(nor, g.layout, { ...FAST, maxTrialBoots: g.trials, externalBoot: external })
}

function midstate(n: number): Buffer {
    const b = Buffer.alloc(192)
    for (let i = 0; i < b.length; i++) b[i] = (n * 31 + i * 7) & 0xff
    return b
}

async function receive(s: ImageStore, img: TestImage, block: number) {
    const b = img.bytes
    await s.startReceive({ version: img.version, size: b.length, sha256: sha256(b).toString("hex"), crc32: crc32(b) })
    for (let off = 0; off < b.length; off += block) {
        const end = Math.min(off + block, b.length)
        await s.write(off, b.subarray(off, end))
        await s.saveJournal(end, end, midstate(end))
    }
    await s.markReady()
}

/** The program's start-up: its store learns the boot stage's choice. */
async function program(g: Geo, nor: NorFlash) {
    const s = store(g, nor, true)
    await s.mount()
    await s.boot()
    return s
}

async function provision(g: Geo, nor: NorFlash) {
    const s = store(g, nor, false)
    await s.mount()
    await receive(s, V1, g.block)
    await s.activate(true)
}

type Step = (nor: NorFlash) => Promise<void>

function lifeSteps(g: Geo): Step[] {
    const stage: Step = async nor => {
        await runBootStage(nor, g.layout, stageOptions())
    }
    return [
        stage,
        async nor => {
            const s = await program(g, nor)
            await receive(s, V2, g.block)
            await s.activate()
        },
        stage, // V2 on trial
        async nor => {
            // imgtool's auto counter of 1.0.0: from here on the STATE records are format 2 (the counter's high half)
            await (await program(g, nor)).confirm(0x1000000)
        },
        stage,
        async nor => {
            const s = await program(g, nor)
            await receive(s, V3, g.block / 2)
            await s.activate()
        },
        stage, // V3 on trial: it crashes, never confirms
        stage,
        stage, // rolled back by now
        async nor => {
            await (await program(g, nor)).reported()
        },
        stage,
    ]
}

const TEARS = [0, 0.34, 0.67, 0.99]

/** Every operation of every step: cut before, after, torn; each cut leaves a vector. Returns the state at each step's start. */
async function sweep(c: Collector, family: string, g: Geo, start: NorFlash, steps: Step[]): Promise<NorFlash[]> {
    const nor = copyOf(g, start)
    const snaps: NorSnapshot[] = []
    const ops: number[] = []
    for (const step of steps) {
        snaps.push(nor.snapshot())
        nor.resetCounters()
        await step(nor)
        ops.push(nor.ops)
    }
    const bases = snaps.map(s => {
        const b = blank(g)
        b.restore(s)
        return b
    })
    bases.push(copyOf(g, nor))
    for (let i = 0; i < steps.length; i++)
        for (let k = 1; k <= ops[i]; k++) {
            const plans: CutPlan[] = [{ op: k, kind: "before" }, { op: k, kind: "after" }, ...TEARS.map((at, j) => ({ op: k, kind: "torn" as CutKind, at, seed: k * 31 + j }))]
            for (const plan of plans) {
                nor.restore(snaps[i])
                nor.resetCounters()
                nor.armCut(plan)
                try {
                    await steps[i](nor)
                    throw new Error(`${g.name} step ${i}: the cut at op ${k} never happened`)
                } catch (e) {
                    if (!(e instanceof PowerCut)) throw e
                    nor.powerOn()
                }
                await c.add(family, `${g.name} step ${i} op ${k}/${ops[i]} ${plan.kind}${plan.at !== undefined ? "@" + plan.at : ""}`, g, nor)
            }
        }
    return bases
}

// ---- the log, read and written directly ----

interface Rec {
    address: number
    seq: number
    type: number
    body: Buffer
}

/** Every valid record copy in flash order; the current sector and its append point, as the mount finds them. */
async function readLog(g: Geo, nor: NorFlash) {
    const L = g.layout
    const recs: Rec[] = []
    let cur = -1
    let best = 0
    let tail = 0
    for (let s = 0; s < L.metaSectors; s++) {
        const at = L.metaAddress + s * SECTOR
        const limit = await scanSector(nor, at, SECTOR, g.unit, maxRecordBody(SECTOR, g.unit), budget(), (seq, type, buf, start, len, offset) => {
            recs.push({ address: at + offset, seq, type, body: Buffer.from(buf.subarray(start, start + len)) })
            const d = (seq - best + 0x100000000) % 0x100000000
            if (cur < 0 || (d > 0 && d < 0x80000000)) {
                best = seq
                cur = s
            }
        })
        if (cur === s) tail = limit
    }
    return { recs, cur, best, tail }
}

/** The newest STATE that decodes, as the store mounts it. */
async function stateOf(g: Geo, nor: NorFlash): Promise<{ st: StoreState; seq: number }> {
    const s = store(g, nor, true)
    await s.mount()
    const log = await readLog(g, nor)
    return { st: storeState(s), seq: log.best }
}

/** Program raw bytes at the current sector's append point (false when they do not fit). */
async function appendRaw(g: Geo, nor: NorFlash, bytes: Buffer[]): Promise<boolean> {
    const log = await readLog(g, nor)
    const cur = Math.max(0, log.cur)
    let at = g.layout.metaAddress + cur * SECTOR + log.tail
    const total = bytes.reduce((n, b) => n + b.length, 0)
    if (log.tail + total > SECTOR) return false
    for (const b of bytes) {
        await programSkippingErased(nor, at, padUnit(b, g.unit))
        at += Math.ceil(b.length / g.unit) * g.unit
    }
    return true
}

function padUnit(b: Buffer, unit: number): Buffer {
    const n = Math.ceil(b.length / unit) * unit
    return n === b.length ? b : Buffer.concat([b, Buffer.alloc(n - b.length, 0xff)])
}

const u32 = (n: number) => ((n % 0x100000000) + 0x100000000) % 0x100000000

/** A record, both copies, `seq` relative to the log's newest. */
async function appendRecord(g: Geo, nor: NorFlash, type: number, body: Buffer, seqDelta = 1, copies = 2): Promise<boolean> {
    const log = await readLog(g, nor)
    const rec = encodeRecord(type, u32(log.best + seqDelta), body, g.unit)
    return appendRaw(g, nor, Array(copies).fill(rec))
}

// ---- families ----

async function flips(c: Collector, g: Geo, bases: NorFlash[], r: Rng) {
    for (const [i, base] of bases.entries()) {
        const L = g.layout
        const meta = metaOf(g, base)
        const used: number[] = []
        for (let k = 0; k < meta.length; k++) if (meta[k] !== 0xff) used.push(k)
        const log = await readLog(g, base)
        const newest = log.recs.filter(x => x.seq === log.best)
        for (let n = 0; n < 10; n++) {
            const nor = copyOf(g, base)
            let what = ""
            if (n < 6 && used.length) {
                const k = used[r.int(used.length)]
                nor.flipBit(L.metaAddress + k, r.int(8))
                what = `meta byte ${k}`
            } else if (n < 8 && newest.length === 2) {
                const k = r.int(12 + newest[0].body.length + 4)
                const bit = r.int(8)
                for (const x of newest) nor.flipBit(x.address + k, bit) // both copies of the newest record
                what = `both copies of the newest record, byte ${k}`
            } else {
                const slot = r.int(2)
                const k = r.int(6000)
                nor.flipBit(L.slotAddress[slot] + k, r.int(8))
                what = `slot ${slot} byte ${k}`
            }
            await c.add("flips", `${g.name} base ${i}: ${what}`, g, nor)
        }
    }
}

/** Mutations of a state: what a newer firmware, a bug or a forger could record. */
function mutations(st: StoreState, g: Geo): [string, (s: StoreState) => void][] {
    const out: [string, (s: StoreState) => void][] = []
    const states: SlotState[] = ["empty", "receiving", "ready", "trial", "confirmed", "bad"]
    for (const slot of [0, 1]) {
        for (const state of states) out.push([`slot ${slot} ${state}`, s => (s.slots[slot].state = state)])
        out.push([`slot ${slot} trial, no boots left`, s => ((s.slots[slot].state = "trial"), (s.slots[slot].bootsLeft = 0), (s.active = slot))])
        out.push([`slot ${slot} trial, 255 boots`, s => ((s.slots[slot].state = "trial"), (s.slots[slot].bootsLeft = 255), (s.active = slot))])
        out.push([`slot ${slot} CRC unknown`, s => (s.slots[slot].crcKnown = false)])
        out.push([`slot ${slot} CRC off by one`, s => (s.slots[slot].crc32 = u32(s.slots[slot].crc32 + 1))])
        out.push([`slot ${slot} size 0`, s => (s.slots[slot].size = 0)])
        out.push([`slot ${slot} size into the next region`, s => (s.slots[slot].size = g.layout.slotSize + 2000)])
        out.push([`slot ${slot} size past the chip`, s => (s.slots[slot].size = g.size - g.layout.slotAddress[slot] + 1)])
        for (const v of ["2_0_0_rc1", "V1.0.0", "1", "1_0_0+0", "2_0_0", "", "01_0_0"]) out.push([`slot ${slot} version "${v}"`, s => (s.slots[slot].version = v)])
        out.push([`slot ${slot} bad, news`, s => ((s.slots[slot].state = "bad"), (s.slots[slot].why = 5), (s.slots[slot].unreported = true))])
        out.push([`slot ${slot} why 31`, s => (s.slots[slot].why = 31)])
    }
    for (const c of [0xffff, 0x10000, 0x1000000, 0xffffffff]) out.push([`counter ${c} (format ${c > 0xffff ? 2 : 1})`, s => (s.counter = c)])
    out.push(["active none", s => (s.active = -1)])
    out.push(["active toggled", s => (s.active = s.active < 0 ? 0 : 1 - s.active)])
    out.push(["both bad", s => ((s.slots[0].state = "bad"), (s.slots[1].state = "bad"))])
    out.push(["both confirmed", s => ((s.slots[0].state = "confirmed"), (s.slots[1].state = "confirmed"))])
    out.push(["both trial", s => ((s.slots[0].state = "trial"), (s.slots[1].state = "trial"), (s.slots[0].bootsLeft = 1))])
    out.push(["midstate 255, receiving", s => ((s.slots[1 - Math.max(0, s.active)].state = "receiving"), (s.progress = { written: 7, verified: 3, midstate: Buffer.alloc(255, 0xa7) }))])
    out.push(["digests of odd lengths", s => ((s.slots[0].sha256 = Buffer.alloc(7, 1)), (s.slots[1].md5 = Buffer.alloc(16, 2)))])
    return out
}

async function forged(c: Collector, g: Geo, bases: NorFlash[], r: Rng) {
    for (const [i, base] of bases.entries()) {
        const { st } = await stateOf(g, base)
        const name = (what: string) => `${g.name} base ${i}: ${what}`
        const body = encodeState(st)
        const raw = async (what: string, f: (nor: NorFlash) => Promise<boolean>) => {
            const nor = copyOf(g, base)
            if (await f(nor)) await c.add("forged", name(what), g, nor)
        }
        const patched = (k: number, v: number) => {
            const b = Buffer.from(body)
            b[k] = v
            return b
        }
        // what does not decode must not be read: each carries another state (no active slot)
        const other = encodeState({ ...st, active: -1 })
        for (const f of [0, 3, 0xff]) {
            const otherFormat = Buffer.from(other)
            otherFormat[1] = f
            await raw(`newest STATE of format ${f}`, nor => appendRecord(g, nor, REC_STATE, otherFormat))
        }
        // format 1 and 2 bodies read as the other format (2 bytes short or long for it)
        const wide = encodeState({ ...st, active: -1, counter: 0x1000000 + st.counter })
        const narrow = encodeState({ ...st, active: -1, counter: st.counter & 0xffff })
        await raw("newest STATE, format 2 bytes marked format 1", nor => appendRecord(g, nor, REC_STATE, Buffer.concat([wide.subarray(0, 1), Buffer.from([1]), wide.subarray(2)])))
        await raw("newest STATE, format 1 bytes marked format 2", nor => appendRecord(g, nor, REC_STATE, Buffer.concat([narrow.subarray(0, 1), Buffer.from([2]), narrow.subarray(2)])))
        await raw("newest STATE one byte long", nor => appendRecord(g, nor, REC_STATE, Buffer.concat([other, Buffer.from([0])])))
        await raw("newest STATE one byte short", nor => appendRecord(g, nor, REC_STATE, other.subarray(0, other.length - 1)))
        await raw("newest STATE with a 33-byte version", nor => appendRecord(g, nor, REC_STATE, encodeState({ ...st, active: -1, slots: [{ ...st.slots[0], version: "x".repeat(33) }, st.slots[1]] })))
        await raw("reserved bytes and flag bit 7 set", nor => appendRecord(g, nor, REC_STATE, (() => { const b = patched(2, 0x5a); b[10] |= 0x80; return b })()))
        await raw("newest STATE, copy 0 only", nor => appendRecord(g, nor, REC_STATE, encodeState(st), 1, 1))
        await raw("newest STATE half a second before the old one", nor => appendRecord(g, nor, REC_STATE, encodeState({ ...st, active: -1 }), 0x80000000))
        await raw("newest STATE 2^31 - 1 ahead", nor => appendRecord(g, nor, REC_STATE, encodeState({ ...st, active: -1 }), 0x7fffffff))
        await raw("an older STATE at the tail", nor => appendRecord(g, nor, REC_STATE, encodeState({ ...st, active: -1 }), -3))
        await raw("an unknown record type newest", nor => appendRecord(g, nor, 7, Buffer.from("from the future")))
        await raw("an OUTCOME record (type 3) newest", nor => appendRecord(g, nor, 3, Buffer.from([0, 1, 0, 5, 0, 0, 0, 0, 0, 0])))
        await raw("torn copy", async nor => {
            const rec = encodeRecord(REC_STATE, u32((await readLog(g, nor)).best + 1), body, g.unit)
            return appendRaw(g, nor, [rec.subarray(0, 1 + r.int(rec.length - 1))])
        })
        await raw("bad CRC, both copies", async nor => {
            const rec = encodeRecord(REC_STATE, u32((await readLog(g, nor)).best + 1), body, g.unit)
            rec[rec.length - 1 - ((rec.length - 16 - body.length) % g.unit)] ^= 0x40
            return appendRaw(g, nor, [rec, rec])
        })
        await raw("length and complement disagree", async nor => {
            const rec = encodeRecord(REC_STATE, u32((await readLog(g, nor)).best + 1), body, g.unit)
            rec[4] ^= 1
            return appendRaw(g, nor, [rec, rec])
        })
        // PROGRESS deltas over a receiving slot
        const recv: StoreState = decodeState(encodeState(st))
        const t = recv.active === 0 ? 1 : 0
        recv.slots[t].state = "receiving"
        for (const [what, session, bodyOf] of [
            ["same session", recv.session, (s: number) => encodeProgress(s, { written: 4096, verified: 4096, midstate: midstate(9) })],
            ["another session", recv.session + 1, (s: number) => encodeProgress(s, { written: 100, verified: 0, midstate: Buffer.alloc(0) })],
            ["that does not decode", recv.session, (s: number) => encodeProgress(s, { written: 1, verified: 1, midstate: Buffer.alloc(3) }).subarray(0, 15)],
        ] as [string, number, (s: number) => Buffer][])
            await raw(`receiving, then a PROGRESS of ${what}`, async nor => (await appendRecord(g, nor, REC_STATE, encodeState(recv))) && appendRecord(g, nor, REC_PROGRESS, bodyOf(session)))
        for (const [what, m] of mutations(st, g)) {
            const s = decodeState(encodeState(st))
            m(s)
            await raw(what, nor => appendRecord(g, nor, REC_STATE, encodeState(s)))
        }
    }
}

/** A flash with `st` as its newest STATE (at seq), the slots as given, and a few older records. */
async function deviceWith(g: Geo, st: StoreState, slots: (Buffer | null)[], r: Rng): Promise<NorFlash> {
    const nor = blank(g)
    for (const i of [0, 1]) if (slots[i]) await programSkippingErased(nor, g.layout.slotAddress[i], padUnit(slots[i], g.unit))
    const L = g.layout
    const sector = r.int(L.metaSectors)
    let seq = r.chance(0.3) ? u32(0xffffffff - r.int(4)) : r.nextU32()
    let at = L.metaAddress + sector * SECTOR
    const end = at + SECTOR
    const put = async (type: number, body: Buffer) => {
        const rec = encodeRecord(type, seq, body, g.unit)
        if (at + 2 * rec.length > end) return // the sector is full: fewer older records
        seq = u32(seq + 1)
        for (let k = 0; k < 2; k++) {
            await programSkippingErased(nor, at, rec)
            at += rec.length
        }
    }
    const room = 2 * encodeRecord(REC_STATE, 0, encodeState(st), g.unit).length + 600
    for (let n = r.int(4); n > 0 && at + room < end; n--) {
        const old = decodeState(encodeState(st))
        old.active = r.int(3) - 1
        await put(REC_STATE, encodeState(old))
    }
    await put(REC_STATE, encodeState(st))
    if (r.chance(0.3)) await put(REC_PROGRESS, encodeProgress(r.chance(0.7) ? st.session : st.session + 1, { written: r.int(9000), verified: r.int(9000), midstate: Buffer.alloc(r.int(201), 0x3c) }))
    return nor
}

async function fuzz(c: Collector, g: Geo, count: number, r: Rng) {
    const variants = imageVariants(7, SIGNED ? TEST_KEY() : undefined)
    const imgs = [V1, V2, V3]
    const states: SlotState[] = ["empty", "receiving", "ready", "trial", "confirmed", "bad"]
    for (let n = 0; n < count; n++) {
        const slots: (Buffer | null)[] = []
        // signed: the counters of V1 (1), V2 (2^24) and V3 (2^24 + 1), around them, or any (drawn in this order: the plain set stays as it was)
        const counter = () => (!SIGNED ? (r.chance(0.5) ? r.int(0x10000) : r.nextU32()) : [0, 1, 2, 0x1000000, 0x1000001, 0x1000002, r.nextU32()][r.int(7)])
        const st: StoreState = { active: r.int(3) - 1, session: r.nextU32(), counter: counter(), slots: [], progress: { written: r.int(5000), verified: r.int(5000), midstate: Buffer.alloc(r.int(256), 0x11) } }
        for (const i of [0, 1]) {
            const pick = r.int(10)
            const img = pick < 6 ? imgs[r.int(3)] : null
            const v = pick >= 6 && pick < 9 ? variants[r.int(variants.length)] : null
            const bytes = img ? img.bytes : v ? v.bytes : null
            slots.push(bytes)
            const size = bytes && !r.chance(0.1) ? bytes.length + (r.chance(0.1) ? r.int(100) : 0) : r.int(9000)
            const data = Buffer.concat([bytes || Buffer.alloc(0), Buffer.alloc(Math.max(0, size - (bytes ? bytes.length : 0)), 0xff)]).subarray(0, size)
            st.slots.push({
                state: r.chance(0.6) ? (["trial", "confirmed"] as SlotState[])[r.int(2)] : states[r.int(6)],
                bootsLeft: r.int(4),
                version: img && !r.chance(0.1) ? img.version : ["2_0_0", "1_0_0", "2_0_0_rc1", "x"][r.int(4)],
                size,
                crc32: r.chance(0.9) ? crc32(data) : r.nextU32(),
                crcKnown: r.chance(0.9),
                sha256: Buffer.alloc(r.chance(0.5) ? 32 : 0, 0x22),
                md5: Buffer.alloc(r.chance(0.5) ? 16 : 0, 0x33),
                why: r.int(7),
                unreported: r.chance(0.5),
            })
        }
        await c.add("fuzz", `${g.name} #${n}`, g, await deviceWith(g, st, slots, r))
    }
}

function slotInfo(img: { bytes: Buffer; version?: string }, state: SlotState, version = "2_0_0", size?: number) {
    const n = size ?? img.bytes.length
    const data = Buffer.concat([img.bytes, Buffer.alloc(Math.max(0, n - img.bytes.length), 0xff)]).subarray(0, n)
    return { state, bootsLeft: 1, version, size: n, crc32: crc32(data), crcKnown: true, sha256: Buffer.alloc(0), md5: Buffer.alloc(0), why: 0, unreported: false }
}

async function images(c: Collector, g: Geo, r: Rng) {
    const empty = { ...slotInfo({ bytes: Buffer.alloc(0) }, "empty"), size: 0, crcKnown: false }
    for (const v of imageVariants(3, SIGNED ? TEST_KEY() : undefined)) {
        const put = async (what: string, st: StoreState, slots: (Buffer | null)[]) => c.add("images", `${g.name} ${v.name} (${v.ok ? "good" : "bad"}) ${what}`, g, await deviceWith(g, st, slots, r))
        // signed: the store at 0 (images without SEC_CNT pass), but for the counter variants
        const counter = !SIGNED ? 0x1234 : v.name.startsWith("counter-") ? SIGNED_STORE_COUNTER : 0
        const base = { session: 1, counter, progress: { written: 0, verified: 0, midstate: Buffer.alloc(0) } }
        await put("on trial over V1", { ...base, active: 1, slots: [slotInfo(V1, "confirmed", V1.version), slotInfo(v, "trial", v.version)] }, [V1.bytes, v.bytes])
        await put("alone, confirmed", { ...base, active: 0, slots: [slotInfo(v, "confirmed", v.version), empty] }, [v.bytes, null])
        await put("confirmed, under a trial V3", { ...base, active: 0, slots: [slotInfo(V3, "trial", V3.version), slotInfo(v, "confirmed", v.version)] }, [V3.bytes, v.bytes])
        if (v.name === "plain") {
            await put("recorded 100 bytes longer", { ...base, active: 0, slots: [slotInfo(v, "confirmed", "2_0_0", v.bytes.length + 100), empty] }, [v.bytes, null])
            await put("recorded 1 byte shorter", { ...base, active: 0, slots: [slotInfo(v, "confirmed", "2_0_0", v.bytes.length - 1), empty] }, [v.bytes, null])
            for (const ver of ["V2.0.0", "2", "2.0.0+0", "2_0_0+0", "2_0", "2_0_0_0", "v2_0_0", "2__0", "2_0.0", "+0", "2_0_0+", "2_0_0+4294967296",
                // each byte of the header version on its own (bytes 20..27: a compare that stops short is caught)
                "3_0_0", "2_1_0", "2_0_1", "2_0_256", "2_0_0+1", "2_0_0+256", "2_0_0+65536", "2_0_0+16777216"])
                await put(`recorded as "${ver}"`, { ...base, active: 0, slots: [slotInfo(v, "confirmed", ver), empty] }, [v.bytes, null])
        }
    }
}

/** Metadata sectors that no longer erase (flag 1) or program either (3): the stage's record fails.
 * With the current sector filled (junk after its last record), the record needs an erase of the
 * next sector, which fails: the host test also runs these on a chip whose failed erase stops half
 * way silently (only the stage's read-back after the erase sees it). */
async function worn(c: Collector, g: Geo, bases: NorFlash[]) {
    const L = g.layout
    const first = L.metaAddress / SECTOR
    for (const [i, base] of bases.entries()) {
        const { cur, tail } = await readLog(g, base)
        const next = (cur + 1) % L.metaSectors
        const modes: [string, number[], boolean][] = [
            ["every metadata sector dead", Array(L.metaSectors).fill(ENDURANCE + 1), false],
            ["the current sector dead", Array.from({ length: L.metaSectors }, (_, s) => (s === cur ? ENDURANCE + 1 : 0)), false],
            ["no metadata sector erases", Array(L.metaSectors).fill(ENDURANCE), false],
            ["the current sector full, the next one's erase fails", Array.from({ length: L.metaSectors }, (_, s) => (s === next ? ENDURANCE : 0)), true],
        ]
        for (const [what, counts, fill] of modes)
            for (const damaged of [-1, 0, 1]) {
                if (fill && (cur < 0 || tail >= SECTOR)) continue
                const nor = copyOf(g, base)
                if (fill) await appendRaw(g, nor, [Buffer.alloc(SECTOR - tail)])
                counts.forEach((n, s) => n && (nor.eraseCounts[first + s] = n))
                if (damaged >= 0) nor.flipBit(L.slotAddress[damaged] + 40, 3) // its CRC fails
                await c.add("worn", `${g.name} base ${i}: ${what}${damaged >= 0 ? `, slot ${damaged} damaged` : ""}`, g, nor)
            }
    }
}

/** The same log, every record's seq moved so that the newest is `newest`. */
async function rebase(g: Geo, nor: NorFlash, newest: number) {
    const log = await readLog(g, nor)
    const delta = newest - log.best
    for (let s = 0; s < g.layout.metaSectors; s++) await nor.eraseSector(g.layout.metaAddress + s * SECTOR)
    for (const x of log.recs) await programSkippingErased(nor, x.address, encodeRecord(x.type, u32(x.seq + delta), x.body, g.unit))
}

async function wrap(c: Collector, g: Geo, bases: NorFlash[]) {
    for (const [i, base] of bases.entries())
        for (const newest of [0xffffffff, 0xfffffffe, 0, 0x7fffffff, 0x80000000]) {
            const nor = copyOf(g, base)
            await rebase(g, nor, newest)
            await c.add("wrap", `${g.name} base ${i}: newest seq ${newest}`, g, nor)
        }
}

/** boot/bs_keys.h: the signed C stage's trusted keys, those of src/image/trusted-keys.ts, each as its key then its KEYHASH. */
export function keysHeader(): string {
    const bytes = (b: Buffer) => Array.from(b, x => `0x${x.toString(16).padStart(2, "0")}`).join(", ")
    const rows = TRUSTED_KEYS.map((k, i) => `    {${bytes(k.key)},\n     ${bytes(k.hash)}}, /* key ${i} */`)
    return (
        `/* GENERATED by tools/boot-vectors.ts --keys from src/image/trusted-keys.ts: do not edit.\n` +
        ` * The keys the signed C stage (BS_SIGNATURES) accepts images from, in the TypeScript's order: the\n` +
        ` * raw Ed25519 public key, then its KEYHASH (the SHA-256 of its DER SubjectPublicKeyInfo). */\n` +
        `#ifndef BS_KEYS_H\n#define BS_KEYS_H\n#include <stdint.h>\n\n#define BS_TRUSTED_KEYS ${TRUSTED_KEYS.length}\n` +
        `static const uint8_t bs_trusted_keys[BS_TRUSTED_KEYS][64] = {\n${rows.join("\n")}\n};\n#endif\n`
    )
}

async function main() {
    const t0 = Date.now()
    const args = process.argv.slice(2).filter(a => a !== "--")
    const keysFile = new URL("../boot/bs_keys.h", import.meta.url).pathname
    if (args[0] === "--keys") {
        writeFileSync(keysFile, keysHeader())
        console.log(`boot/bs_keys.h: ${TRUSTED_KEYS.length} trusted keys`)
        return
    }
    // the C stage must trust exactly the keys the firmware does
    if (!existsSync(keysFile) || readFileSync(keysFile, "utf8") !== keysHeader()) throw new Error("boot/bs_keys.h is not src/image/trusted-keys.ts's keys: run `npx vite-node --config vitest.config.ts tools/boot-vectors.ts -- --keys`")
    if (args[0] === "--ed25519") {
        const { file, counts } = await ed25519Cases(Number(args[2] || 2000), 25)
        writeFileSync(args[1], file)
        console.log(`ed25519 cases generated: ${counts.reduce((a, b) => a + b)} (${ED_KINDS.map((k, i) => `${k} ${counts[i]}`).join(", ")}) in ${Date.now() - t0} ms`)
        return
    }
    SIGNED = args.includes("--signed")
    const out = args[0] === "--out" ? args[1] : ".devicescript/boot-c/vectors.bin"
    if (SIGNED) {
        // the life's confirm raises the store's counter to 2^24 (V2's); V3 is above it
        const key = TEST_KEY()
        V1 = await goodImage("1_0_0", 4000, 1, { securityCounter: 1, key })
        V2 = await goodImage("2_0_0", 5000, 2, { headerSize: 0x80, securityCounter: 0x1000000, key })
        V3 = await goodImage("3_0_0", 3008, 3, { securityCounter: 0x1000001, protectedTlvs: [{ type: 0xa1, value: Buffer.from("vendor") }], key })
    } else {
        V1 = await goodImage("1_0_0", 4000, 1)
        V2 = await goodImage("2_0_0", 5000, 2, { headerSize: 0x80, securityCounter: 2, tlvs: [{ type: 0x01, value: Buffer.alloc(32, 9) }] })
        V3 = await goodImage("3_0_0", 3008, 3, { protectedTlvs: [{ type: 0xa1, value: Buffer.from("vendor") }] })
    }
    V1_PROGRAM = V1.program
    const c = new Collector()
    c.w.signed = SIGNED
    const r = new Rng(19)
    // signed: two geometries (each boot verifies a signature: the C host test runs them sanitized)
    for (const g of SIGNED ? [GEOS[0], GEOS[3]] : GEOS) {
        const start = blank(g)
        await provision(g, start)
        const bases = await sweep(c, "sweep", g, start, lifeSteps(g))
        await flips(c, g, bases, r)
        if (g.unit <= 8) await forged(c, g, bases, r)
        await fuzz(c, g, SIGNED ? 100 : 150, r)
        await images(c, g, r)
        await worn(c, g, bases)
        await wrap(c, g, bases)
        if (g.name === "unit1" && !SIGNED) {
            // a whole life across the u32 wrap of sequence numbers
            const near = blank(g)
            await provision(g, near)
            await rebase(g, near, 0xfffffff8)
            await sweep(c, "sweep", g, near, lifeSteps(g))
        }
    }
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, c.w.bytes())
    const fam = Object.entries(c.families).map(([k, n]) => `${k} ${n}`).join(", ")
    console.log(`${SIGNED ? "signed " : ""}boot vectors generated: ${c.w.count} vectors (${c.states.size} distinct flash states; ${fam}; ${c.chains} chained) in ${Date.now() - t0} ms`)
}

main().catch(e => {
    console.error(e)
    process.exit(1)
})
