// The power-cut harness: scenarios, the invariants checked after every cut, the sweep over every
// flash operation (cut before / after / torn at several points, then reboot, sometimes a second
// cut during recovery) and seeded multi-cut runs of a device agent.
//
// Mechanics (the lead's design, MCUboot's counting trick, plus cuts after and inside operations):
// a clean run of the scenario counts its program/erase operations; each point restores the
// flash from a snapshot taken after the scenario's setup, arms one cut, runs until the PowerCut,
// then "reboots": a fresh ImageStore over the same flash (RAM state lost), mount(), boot().
import { Flash } from "../../src/flash/flash"
import { ImageStore, runningSlot, storeState } from "../../src/flash/image-store"
import { encodeState } from "../../src/flash/store-records"
import { crc32 } from "../../src/lib/crc32"
import { CutKind, CutPlan, NorFlash, NorSnapshot, PowerCut, rng } from "../../sim/flash/nor-flash"
import { FAST, Image, LAYOUT, makeImage, markVerified, newStore, receive } from "./fixtures"

/** A device under test: the NOR model (for cuts and inspection) and the Flash the store uses. */
export interface Device {
    name: string
    nor: NorFlash
    flash: Flash
}

export const V1 = makeImage("1_0_0", 7001, 1)
export const V2 = makeImage("2_0_0", 8192, 2)
export const V3 = makeImage("3_0_0", 5003, 3)
export const V9 = makeImage("9_0_0", 4000, 9)
export const IMAGES: Record<string, Image> = { [V1.version]: V1, [V2.version]: V2, [V3.version]: V3, [V9.version]: V9 }

export type Milestones = (m: string) => boolean

export interface Scenario {
    name: string
    /** Bring the device (from blank) to the scenario's starting point; no cuts. */
    setup(d: Device): Promise<void>
    /** The part under the sweep. Starts from power-on; calls mark() after each milestone. */
    run(d: Device, mark: (m: string) => void): Promise<void>
    /** Versions a reboot may boot, given which milestones were durable when the power went. */
    expected(done: Milestones): string[]
}

async function start(d: Device) {
    const s = newStore(d.flash)
    await s.mount()
    await s.boot()
    return s
}

export async function provisionV1(d: Device) {
    const s = newStore(d.flash)
    await s.mount()
    await receive(s, V1)
    await s.activate(true)
}

/**
 * The seven scenarios of the issue. Each run starts at a power-on, and every operation that the
 * firmware would do in one process (boot, then confirm; activate, then a newer plan) stays in one
 * process. Slot 0 holds V1 throughout every one of them.
 */
export const SCENARIOS: Scenario[] = [
    {
        name: "receive an image",
        setup: provisionV1,
        async run(d, mark) {
            const s = await start(d)
            await receive(s, V2, { block: 1024 })
            mark("ready")
        },
        expected: () => [V1.version],
    },
    {
        name: "activate",
        async setup(d) {
            await provisionV1(d)
            await receive(await start(d), V2)
        },
        async run(d, mark) {
            const s = await start(d)
            await s.activate()
            mark("activated")
        },
        expected: done => (done("activated") ? [V2.version] : [V1.version]),
    },
    {
        name: "first boot",
        async setup(d) {
            await provisionV1(d)
            const s = await start(d)
            await receive(s, V2)
            await s.activate()
        },
        async run(d, mark) {
            await start(d) // spends the trial boot
            mark("booted")
        },
        // a trial boot that became durable and then lost power counts as a failed trial
        expected: done => (done("booted") ? [V1.version] : [V2.version]),
    },
    {
        name: "confirm",
        async setup(d) {
            await provisionV1(d)
            const s = await start(d)
            await receive(s, V2)
            await s.activate()
        },
        async run(d, mark) {
            const s = await start(d)
            mark("booted")
            await s.confirm() // the self-test passed
            mark("confirmed")
        },
        expected: done => {
            if (done("confirmed")) return [V2.version]
            if (done("booted")) return [V1.version]
            return [V2.version]
        },
    },
    {
        name: "rollback of an unconfirmed trial",
        async setup(d) {
            await provisionV1(d)
            const s = await start(d)
            await receive(s, V2)
            await s.activate()
            await start(d) // trial boot spent, never confirmed
        },
        async run(d, mark) {
            await start(d)
            mark("rolled-back")
        },
        expected: () => [V1.version],
    },
    {
        name: "new download while a trial is pending",
        setup: provisionV1,
        async run(d, mark) {
            const s = await start(d)
            await receive(s, V2)
            await s.activate()
            mark("activated-v2") // V2 on trial, not booted yet; now a newer plan arrives
            await receive(s, V3, { block: 1024, onStarted: () => mark("receiving-v3") })
            await s.activate()
            mark("activated-v3")
            await start(d)
            mark("booted")
        },
        expected: done => {
            if (done("booted")) return [V1.version]
            if (done("activated-v3")) return [V3.version]
            if (done("receiving-v3")) return [V1.version]
            if (done("activated-v2")) return [V2.version]
            return [V1.version]
        },
    },
    {
        // an earlier cut tore a write past the journal: the resume finds the sector not blank and
        // restarts it, so the store erases a sector below the journal's mark (and must rewind first)
        name: "resume after a write torn past the journal",
        async setup(d) {
            await provisionV1(d)
            const s = await start(d)
            await s.startReceive({ version: V2.version, size: V2.bytes.length, crc32: V2.crc, sha256: V2.sha256 })
            for (let off = 0; off < 6144; off += 1024) {
                await s.write(off, V2.bytes.subarray(off, off + 1024))
                await s.saveJournal(off + 1024, off + 1024)
            }
            await s.write(6144, V2.bytes.subarray(6144, 6144 + 512)) // not journaled: the cut came here
        },
        async run(d, mark) {
            const s = await start(d)
            await writeFrom(s, V2, s.journal().written)
            await markVerified(s, V2, s.journal().slot)
            mark("ready")
        },
        expected: () => [V1.version],
    },
    {
        name: "metadata log wrap-around",
        setup: provisionV1,
        async run(d, mark) {
            const s = await start(d)
            // small blocks, a journal record per block: the log wraps onto the other sector and back
            await receive(s, V2, { block: 512, journalEvery: 1 })
            await s.activate()
            mark("activated")
            const t = await start(d)
            mark("booted")
            await t.confirm()
            mark("confirmed")
        },
        expected: done => {
            if (done("confirmed")) return [V2.version]
            if (done("booted")) return [V1.version]
            if (done("activated")) return [V2.version]
            return [V1.version]
        },
    },
]

export interface CheckResult {
    ok: boolean
    why: string
    booted: string
}

/**
 * The invariants after a reboot. The device boots (never none); the booted slot holds exactly
 * the image its record names, with the recorded CRC; no slot that the metadata calls ready,
 * trial or confirmed holds anything else; slot 0 still holds V1 byte for byte.
 */
export async function checkDevice(d: Device, allowed: string[], protectV1 = true): Promise<CheckResult> {
    let store: ImageStore
    let booted = ""
    try {
        store = newStore(d.flash)
        await store.mount()
        const b = await store.boot()
        booted = b.version
    } catch (e) {
        if (e instanceof PowerCut) throw e
        return { ok: false, why: `boot failed: ${(e as Error).message}`, booted }
    }
    const st = storeState(store)
    const run = runningSlot(store)
    for (let slot = 0; slot < 2; slot++) {
        const info = st.slots[slot]
        if (!(info.state === "ready" || info.state === "trial" || info.state === "confirmed")) continue
        const img = IMAGES[info.version]
        const bytes = d.nor.peek(LAYOUT.slotAddress[slot], info.size)
        if (!img || !bytes.equals(img.bytes))
            return { ok: false, why: `slot ${slot} (${info.state} ${info.version}) does not hold that image`, booted }
        if (!info.crcKnown || crc32(bytes) !== info.crc32)
            return { ok: false, why: `slot ${slot} CRC differs from its record`, booted }
    }
    if (!(st.slots[run].state === "trial" || st.slots[run].state === "confirmed"))
        return { ok: false, why: `booted slot ${run} is ${st.slots[run].state}`, booted }
    if (protectV1 && !d.nor.peek(LAYOUT.slotAddress[0], V1.bytes.length).equals(V1.bytes))
        return { ok: false, why: "slot 0 (V1) was modified", booted }
    if (allowed.length > 0 && allowed.indexOf(booted) < 0)
        return { ok: false, why: `booted ${booted}, expected one of ${allowed.join("/")}`, booted }
    return { ok: true, why: "", booted }
}

/** After recovery the device must still take a full update (no stuck metadata). */
export async function liveness(d: Device): Promise<string> {
    let s = newStore(d.flash)
    await s.mount()
    const b = await s.boot()
    if (b.trial) await s.confirm()
    await receive(s, V9, { block: 1024, journalEvery: 2 })
    await s.activate()
    s = newStore(d.flash)
    await s.mount()
    const t = await s.boot()
    if (t.version !== V9.version || !t.trial) return `after update booted ${t.version} trial=${t.trial}`
    await s.confirm()
    s = newStore(d.flash)
    await s.mount()
    const c = await s.boot()
    if (c.version !== V9.version || c.trial || c.wrote) return `after confirm booted ${c.version} wrote=${c.wrote}`
    return ""
}

export interface SweepStats {
    points: number
    /** points after which an interrupted receive was resumed from its journal and checked */
    resumes: number
    ops: number
    secondCuts: number
    failures: string[]
    metaErases: number
}

const TEARS = [0, 0.34, 0.67, 0.99]

/** The state (and journal) a fresh mount of the flash sees, as text. */
async function mountedState(d: Device): Promise<string> {
    const s = newStore(d.flash)
    await s.mount()
    return encodeState(storeState(s)).toString("hex")
}

function metaEraseTotal(d: Device): number {
    let n = 0
    for (let i = 0; i < LAYOUT.metaSectors; i++) n += d.nor.eraseCounts[(LAYOUT.metaAddress / d.nor.geometry.sectorSize) + i]
    return n
}

async function runUntilCut(d: Device, sc: Scenario, plan: CutPlan): Promise<boolean> {
    d.nor.armCut(plan)
    try {
        await sc.run(d, () => {})
    } catch (e) {
        if (e instanceof PowerCut) {
            d.nor.powerOn()
            return true
        }
        throw e
    }
    d.nor.disarm()
    return false
}

/** Sweep one scenario on one device: every operation × (before, after, torn at each TEARS point). */
export async function sweepScenario(mk: () => Device | Promise<Device>, sc: Scenario, secondCutEvery = 3): Promise<SweepStats> {
    const d = await mk()
    await sc.setup(d)
    const snap: NorSnapshot = d.nor.snapshot()
    // clean run: count operations, and after each one note the state a reboot would mount
    d.nor.resetCounters()
    const at: Record<string, number> = {}
    const changedAt: number[] = [0] // ops after which the mounted state differs from the op before
    let lastState = await mountedState(d)
    const metaBefore = metaEraseTotal(d)
    d.nor.afterOp = async op => {
        const now = await mountedState(d)
        if (now !== lastState) changedAt.push(op)
        lastState = now
    }
    await sc.run(d, m => {
        at[m] = d.nor.ops
    })
    d.nor.afterOp = null
    const metaErases = metaEraseTotal(d) - metaBefore
    const total = d.nor.ops
    const stats: SweepStats = { points: 0, resumes: 0, ops: total, secondCuts: 0, failures: [], metaErases }
    // a milestone is durable from the last state change at or before the op that ended it
    const commit: Record<string, number> = {}
    for (const m of Object.keys(at)) commit[m] = Math.max(...changedAt.filter(op => op <= at[m]))
    const durable = (completed: number) => (m: string) => commit[m] !== undefined && completed >= commit[m]
    const r = rng(total * 7919 + sc.name.length)
    for (let k = 1; k <= total; k++) {
        const plans: CutPlan[] = [
            { op: k, kind: "before" },
            { op: k, kind: "after" },
            ...TEARS.map((t, i) => ({ op: k, kind: "torn" as CutKind, at: t, seed: k * 31 + i })),
        ]
        for (const plan of plans) {
            d.nor.restore(snap)
            d.nor.resetCounters()
            const label = `${sc.name} op ${k}/${total} ${plan.kind}${plan.at !== undefined ? "@" + plan.at : ""}`
            stats.points++
            try {
                if (!(await runUntilCut(d, sc, plan))) {
                    stats.failures.push(`${label}: the cut never happened`)
                    continue
                }
                const completed = plan.kind === "after" ? k : k - 1
                const res = await checkDevice(d, sc.expected(durable(completed)))
                if (!res.ok) {
                    stats.failures.push(`${label}: ${res.why}`)
                    continue
                }
                // an interrupted receive resumes from its journal and must bring exactly its image
                const resumed = await resumeCheck(d)
                if (resumed.why) {
                    stats.failures.push(`${label}: resume: ${resumed.why}`)
                    continue
                }
                if (resumed.resumed) stats.resumes++
                // a sample of points: cut again during recovery (reboot + a full update), then recover
                if (stats.points % secondCutEvery === 0) {
                    d.nor.resetCounters()
                    d.nor.armCut({ op: 1 + Math.floor(r() * 24), kind: (["before", "after", "torn"] as CutKind[])[Math.floor(r() * 3)], seed: k })
                    try {
                        await liveness(d)
                        d.nor.disarm()
                    } catch (e) {
                        if (!(e instanceof PowerCut)) throw e
                        d.nor.powerOn()
                        stats.secondCuts++
                    }
                    const res2 = await checkDevice(d, [], false)
                    if (!res2.ok) {
                        stats.failures.push(`${label} + second cut: ${res2.why}`)
                        continue
                    }
                }
                const live = await liveness(d)
                if (live) stats.failures.push(`${label}: recovery: ${live}`)
            } catch (e) {
                stats.failures.push(`${label}: ${(e as Error).stack}`)
            }
        }
    }
    return stats
}

// ---- seeded multi-cut runs ----

export type AgentMode = "ok" | "reject" | "crash"

/**
 * The device side of one update, as firmware would run it from every power-on: boot, judge a
 * trial (confirm, reject, or crash before confirming), otherwise resume or start the download
 * from the journal, verify, activate and reboot. Returns "done" or "reboot".
 */
async function agentPass(d: Device, mode: AgentMode, target: Image, trace?: string[]): Promise<"done" | "reboot"> {
    const log = (m: string) => trace && trace.push(m)
    const s = newStore(d.flash, FAST)
    await s.mount()
    const b = await s.boot()
    if (b.trial) {
        if (mode === "ok") await s.confirm()
        else if (mode === "reject") {
            await s.reject()
            return "reboot"
        } else return "reboot" // crashed before confirming
    }
    const st = storeState(s)
    const other = 1 - runningSlot(s)
    if (b.version === target.version) return "done"
    // after a rollback: "ok" devices get the update pushed again, the others give up on it
    if (mode !== "ok" && st.slots[other].state === "bad" && st.slots[other].version === target.version) return "done"
    if (!(st.slots[other].state === "ready" && st.slots[other].version === target.version)) {
        const j = s.journal()
        let from = 0
        if (j && j.version === target.version) from = j.written
        else await s.startReceive({ version: target.version, size: target.bytes.length, crc32: target.crc, sha256: target.sha256 })
        log(`boot ${b.version} slot ${b.slot}; other ${st.slots[other].state}; resume from ${from} (journal ${j ? j.written : "-"})`)
        await writeFrom(s, target, from, log)
        await s.markReady()
    }
    await s.activate()
    return "reboot"
}

/**
 * Write `target` from `from` (rounded down to a block) to its end as an agent resumes a download:
 * a journal after every block; a torn write may have left bytes past the journal, so a sector that
 * is not blank where the journal says it should be is restarted from its start (the store erases
 * it, and rewinds its journal first).
 */
async function writeFrom(s: ImageStore, target: Image, from: number, log: (m: string) => void = () => {}) {
    const block = 1024
    for (let off = Math.floor(from / block) * block; off < target.bytes.length; off += block) {
        const end = Math.min(off + block, target.bytes.length)
        try {
            await s.write(off, target.bytes.subarray(off, end))
        } catch (e) {
            if ((e as any).reason !== "not-blank") throw e
            log(`not-blank at ${off}`)
            off = Math.floor(off / 4096) * 4096 - block
            continue
        }
        await s.saveJournal(end, end)
    }
}

/**
 * After a cut in a receive: resume it from the journal as an agent does and check that exactly
 * the image arrives (its SHA-256). why "" when nothing was being received or it arrived.
 */
export async function resumeCheck(d: Device): Promise<{ why: string; resumed: boolean }> {
    const s = newStore(d.flash)
    await s.mount()
    const b = await s.boot()
    const j = s.journal()
    if (b.trial || !j) return { why: "", resumed: false }
    const img = IMAGES[j.version]
    if (!img) return { why: `the journal names ${j.version}, no image of the scenario`, resumed: false }
    await writeFrom(s, img, j.written)
    try {
        await markVerified(s, img, j.slot)
    } catch (e) {
        return { why: `resumed from ${j.written}: ${(e as Error).message}`, resumed: true }
    }
    return { why: "", resumed: true }
}

export interface SeededResult {
    ok: boolean
    why: string
    cuts: number
    passes: number
}

/** One reproducible run: a random mode, up to `maxCuts` cuts at random operations. */
export async function seededRun(mk: () => Device | Promise<Device>, seed: number, maxCuts = 10, trace?: string[]): Promise<SeededResult> {
    const r = rng(seed)
    const d = await mk()
    await provisionV1(d)
    const mode: AgentMode = (["ok", "ok", "reject", "crash"] as AgentMode[])[Math.floor(r() * 4)]
    let cutsLeft = Math.floor(r() * (maxCuts + 1))
    let cuts = 0
    let passes = 0
    for (let guard = 0; guard < 60; guard++) {
        passes++
        if (cutsLeft > 0) {
            d.nor.resetCounters()
            const plan: CutPlan = {
                op: 1 + Math.floor(r() * 30),
                kind: (["before", "after", "torn"] as CutKind[])[Math.floor(r() * 3)],
                seed: Math.floor(r() * 1e9),
            }
            if (trace) trace.push(`arm ${JSON.stringify(plan)}`)
            d.nor.armCut(plan)
        }
        let res: "done" | "reboot" | "cut"
        try {
            res = await agentPass(d, mode, V2, trace)
            d.nor.disarm()
        } catch (e) {
            if (!(e instanceof PowerCut)) return { ok: false, why: `seed ${seed}: ${(e as Error).stack}`, cuts, passes }
            d.nor.powerOn()
            cuts++
            cutsLeft--
            res = "cut"
        }
        // inspect a copy: the check boots, and must not spend the agent's trial boots
        const saved = d.nor.snapshot()
        const chk = await checkDevice(d, [V1.version, V2.version])
        d.nor.restore(saved)
        if (!chk.ok) return { ok: false, why: `seed ${seed} pass ${passes}: ${chk.why}`, cuts, passes }
        if (res === "done") {
            const want = mode === "ok" ? V2.version : V1.version
            if (chk.booted !== want) return { ok: false, why: `seed ${seed}: ended on ${chk.booted}, want ${want}`, cuts, passes }
            return { ok: true, why: "", cuts, passes }
        }
    }
    return { ok: false, why: `seed ${seed}: no convergence`, cuts, passes }
}
