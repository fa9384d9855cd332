// The engine tests' world: the simulator's in-process device (sim/device) on vitest's virtual
// clock. Everything about the device lives in sim/device/device.ts, shared with `npm run sim`.
import { vi } from "vitest"
import { BootLog, DeviceOptions, Reboot, runDevice as runSim, SimDevice } from "../../sim/device/device"
import { CutPlan, PowerCut } from "../../sim/flash/nor-flash"
import { decodeOutcome } from "../../src/sota/outcome"

export { Reboot, layoutFor, SECTOR } from "../../sim/device/device"
export type WorldOptions = DeviceOptions
export class World extends SimDevice {}

/** Run `p` while the virtual clock advances; returns its value or throws its error. */
export async function run<T>(p: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let done = false
    p.then(
        () => (done = true),
        () => (done = true)
    )
    // timers fire in order within one advance; the step only bounds how far past the end time runs
    for (let t = 0; t < limitMs && !done; t += 250) await vi.advanceTimersByTimeAsync(250)
    if (!done) throw new Error(`still running after ${limitMs} ms of virtual time`)
    return p
}

/** The device runs a confirmed image that is byte-identical to the old or the new one. */
export function healthy(w: World): Promise<"old" | "new"> {
    return w.healthy()
}

export function runDevice(w: World, maxBoots = 4): Promise<BootLog[]> {
    return runSim(w, run, maxBoots)
}

/** The module's first URC that `match` picks is lost on the line (the event never reaches the MCU); returns how many were. */
export function loseUrcOnce(w: World, match: (line: string) => boolean): () => number {
    const urc = w.module.urc.bind(w.module)
    let lost = 0
    w.module.urc = (line: string) => {
        if (lost === 0 && match(line)) {
            lost++
            return Promise.resolve()
        }
        return urc(line)
    }
    return () => lost
}

/** One boot: start, then one checkForUpdate; returns its plan result (a reboot is "rebooting"). */
export async function once(w: World) {
    const e = w.powerOn()
    await run(e.start())
    try {
        return await run(e.checkForUpdate())
    } catch (err: any) {
        if (err.name === "Reboot") return { result: "rebooting", reason: null as string, detail: "" }
        throw err
    }
}

/** The sweeps' cut points: every flash operation up to `ops`, cut before, after, and torn at a quarter and three quarters. */
export function everyCut(ops: number): CutPlan[] {
    const plans: CutPlan[] = []
    for (let op = 1; op <= ops; op++) {
        plans.push({ op, kind: "before" }, { op, kind: "after" })
        for (const at of [0.25, 0.75]) plans.push({ op, kind: "torn", at, seed: op })
    }
    return plans
}

/**
 * For a power-cut run: which engine state the cut fell in, and what the module heard while the MCU
 * had no power (must be nothing). `noteCut()` records the phase at the instant the flash went off
 * (call it from a flash wrapper or a timer); progress after the cut is not the MCU's.
 */
export function watchCut(w: World): { phase: () => string; heardDead: () => number; noteCut: () => void } {
    let phase = ""
    let last = "booting"
    let heard = 0
    const noteCut = () => {
        if (!phase && w.flash.isOff()) phase = last
    }
    const powerOn = w.powerOn.bind(w)
    w.powerOn = (...args: Parameters<World["powerOn"]>) => {
        const e = powerOn(...args)
        e.onProgress(p => {
            if (!w.flash.isOff()) last = p.state
            else noteCut()
        })
        return e
    }
    const write = w.tap.inner.write.bind(w.tap.inner)
    w.tap.inner.write = async (data: Buffer) => {
        if (w.flash.isOff()) heard += data.length
        return write(data)
    }
    return { phase: () => phase, heardDead: () => heard, noteCut }
}

/**
 * For a power-cut run: boot the device again and again, as a device in the field would, until a
 * boot has nothing left to do (no plan) or `maxBoots`; a cut ends a boot and the power returns for
 * the next. Returns the package bytes read over all boots (what the cuts cost in re-reads).
 */
export async function settle(w: World, maxBoots: number): Promise<number> {
    let bytesRead = 0
    for (let boot = 0; boot < maxBoots; boot++) {
        const e = w.powerOn()
        try {
            await run(e.start())
            const r = await run(e.checkForUpdate())
            bytesRead += e.stats.bytesRead
            if (r.result === "no-plan") return bytesRead
            if (r.result === "failed" && !w.flash.isOff()) await vi.advanceTimersByTimeAsync(10_000)
        } catch (err) {
            bytesRead += e.stats.bytesRead
            if (err instanceof Reboot) continue
            if (!(err instanceof PowerCut) && !w.flash.isOff()) throw err
        }
        if (w.flash.isOff()) w.flash.powerOn() // the cut took the MCU down; power returns
    }
    return bytesRead
}

/** The program store's last outcome record, decoded, and whether it was told to the platform. */
export async function programOutcome(w: World) {
    const s = w.newStore()
    await s.mount()
    return { outcome: decodeOutcome(s.outcomes.last()), reported: s.outcomes.told() }
}

/** What the device sent over the data channel, each line's time (its last field) as <when>. */
export const sent = (w: World) => w.dc.uplinks.map(u => u.data.toString("latin1").replace(/ \d+$/, " <when>"))

/** Reset the MCU mid-download: its flash is cut before its next write once `blocks` blocks are in; power is back after. */
export async function resetMidDownload(w: World, e: ReturnType<World["powerOn"]>, blocks: number) {
    let n = 0
    e.onProgress(pr => {
        if (pr.state === "downloading" && ++n === blocks + 1) w.flash.armCut({ op: 1, kind: "before" })
    })
    await run(e.checkForUpdate()).catch(() => {})
    if (!w.flash.isOff()) throw new Error(`the download ended before ${blocks} blocks`)
    w.flash.powerOn()
}
