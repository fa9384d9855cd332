// Power cuts over the whole SOTA flow, not just the store: for every flash operation of an
// upgrade (download, journal checkpoints, verification, activation, the trial boot, the
// confirm), cut before it, after it, and in the middle of it (torn), then let the device boot
// again and again as a device in the field would. Every run must end on a confirmed image that
// is byte-identical to the old or the new one (in practice the new one: the platform re-offers),
// and the bytes read again on the UART because of the cut are counted.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { CutPlan } from "../../sim/flash/nor-flash"
import { everyCut, healthy, settle, watchCut, World } from "./world"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const SIZE = 13000
// short waits keep the sweep fast; the recovery paths are the same
const OPTS = { packageSize: SIZE, module: { pieceSize: 6000 }, engine: { offerTimeoutMs: 2000, resultTimeoutMs: 2000 } }

interface Outcome {
    image: "old" | "new"
    /** AT+QIOTOTARD payload bytes beyond one clean download */
    reread: number
    /** the engine state when the cut fell ("" if it never fired) */
    phase: string
    boots: number
    /** what the dead MCU's code still tried after the cut: bytes dropped from the line, flash accesses refused */
    deadBytes: number
    deadFlashOps: number
    /** bytes the module received from the MCU while the MCU was dead (must be 0) */
    heardDead: number
}

async function cleanOps(): Promise<number> {
    const w = new World(OPTS)
    await w.install()
    w.flash.resetCounters()
    await settle(w, 4)
    expect(await healthy(w)).toBe("new")
    return w.flash.ops
}

async function cutRun(plan: CutPlan): Promise<Outcome> {
    const w = new World(OPTS)
    await w.install()
    w.flash.armCut(plan)
    const cut = watchCut(w)
    const watch = setInterval(cut.noteCut, 1)
    const bytesRead = await settle(w, 12)
    clearInterval(watch)
    return { image: await healthy(w), reread: bytesRead - SIZE, phase: cut.phase(), boots: w.boots, deadBytes: w.deadBytes, deadFlashOps: w.deadFlashOps, heardDead: cut.heardDead() }
}

describe("SOTA power-cut sweep", () => {
    it("every flash operation of an upgrade: cut before, after, torn; the device always settles on a whole image", async () => {
        const ops = await cleanOps()
        const plans = everyCut(ops)
        let unrecoverable = 0
        let stillOld = 0
        let maxDownloadReread = 0
        let fullRedownloads = 0
        let deadBytes = 0
        let deadFlashOps = 0
        let heardDead = 0
        const phases = new Map<string, number>()
        for (const plan of plans) {
            let o: Outcome
            try {
                o = await cutRun(plan)
            } catch (err) {
                unrecoverable++
                console.log(`cut ${JSON.stringify(plan)}: ${err}`)
                continue
            }
            if (o.image === "old") {
                stillOld++
                console.log(`cut ${JSON.stringify(plan)} (phase ${o.phase}, ${o.boots} boots): ended on the old image`)
            }
            phases.set(o.phase, (phases.get(o.phase) || 0) + 1)
            deadBytes += o.deadBytes
            deadFlashOps += o.deadFlashOps
            heardDead += o.heardDead
            if (o.reread >= SIZE) fullRedownloads++
            else if (o.phase === "downloading") maxDownloadReread = Math.max(maxDownloadReread, o.reread)
        }
        console.log(
            `sota power-cut sweep: ${plans.length} points over ${ops} flash operations, ${unrecoverable} unrecoverable, ` +
                `${stillOld} ended on the old image, max re-read after a download cut ${maxDownloadReread} bytes, ` +
                `${fullRedownloads} full re-downloads; the dead MCU's code tried ${deadBytes} bytes and ${deadFlashOps} flash accesses after its cuts, ` +
                `the module heard ${heardDead} of them; cuts by phase: ${[...phases].map(([k, v]) => `${k || "none"} ${v}`).join(", ")}`
        )
        expect(unrecoverable).toBe(0)
        expect(heardDead).toBe(0) // a dead MCU sends nothing (sim/device: every boot's link and flash die with its power)
        expect(stillOld).toBe(0) // the platform re-offers, so every run ends upgraded
        expect(plans.length).toBeGreaterThan(100)
        // a cut during the download costs at most one checkpoint (one 4 KB sector) plus the two
        // blocks in flight (the pipeline reads one block ahead of the one being written)
        expect(maxDownloadReread).toBeLessThanOrEqual(4096 + 2 * 1024)
    }, 600_000)
})
