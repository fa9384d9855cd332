// `--engine node`: the firmware's portable code (src/at, src/sota, src/flash, src/verify) runs
// in this process against the module emulator over the paced UART model, in real time.

import { NodeProgram, Reboot, SimDevice } from "../device/device"
import type { PlanResult } from "../../src/sota/engine"
import { SimOptions } from "./options"
import { SimSummary, summarize } from "./summary"
import { View } from "./view"
import { buildSimWorld, runOutcome } from "./world"
import { FaultRun } from "./fault-spec"
import { componentSummaries, otherPackageBytes, walkPlans } from "./plan-options"

export interface NodeEngineEnv {
    /** The run's device, once built (tests read its flash, platform log and store). */
    onDevice?: (d: SimDevice) => void
}

export async function runNodeEngine(o: SimOptions, view: View, env: NodeEngineEnv = {}): Promise<SimSummary> {
    const { d, image, target, packageSha256 } = await buildSimWorld(o, view)
    env.onDevice?.(d)
    d.flash.resetCounters()
    const metaErases0 = d.metaErases()

    // power cuts: at a flash operation, or at the write of a download block (FaultRun arms them)
    let cuts = 0
    const faults = new FaultRun(o.faults, d, o)
    d.listeners.push(p => {
        view.progress(p)
        faults.progress(p)
    })

    const t0 = Date.now()
    let bytesRead = 0
    let retries = 0
    let checkpoints = 0
    let plan: PlanResult = null
    let rolledBack = false
    let runningVersion: string | null = null
    let runningSha256: string | null = null
    let signature: "ed25519" | null = null
    let failure: { reason: string; detail: string } = null
    // boot until the device settles: a reboot or a power cut means another boot; a rollback
    // ends the run at the boot that reports the old version (no new request in the same run).
    // Every boot runs the boot stage first, then the program it launched, as that program behaves.
    for (let boot = 0; boot < 12; boot++) {
        let again = false
        let program: NodeProgram
        try {
            program = await d.bootStage()
        } catch (err) {
            if (!d.flash.isOff()) {
                failure = { reason: "no-image", detail: String((err as Error).message) }
                break
            }
            cuts++ // the power went during the stage's record: power on, and the stage runs again
            faults.powerOn()
            continue
        }
        for (const r of program.launch.refused) view.line(`  boot stage: slot ${r.slot} refused: ${r.reason}`)
        runningSha256 = program.launch.sha256
        signature = program.launch.signedBy >= 0 ? "ed25519" : null
        if (program.behaviour === "throws" || program.behaviour === "hangs") {
            // the program dies at start (the VM panics), or never confirms (the watchdog resets it)
            d.boots++
            view.line(`  the ${program.version} program ${program.behaviour === "throws" ? "threw at start" : "hung"}: reset`)
            continue
        }
        const e = d.powerOn(program)
        try {
            const start = await e.start()
            runningVersion = start.version
            rolledBack = rolledBack || start.trial === "rolled-back"
            // a confirmed new image ends the run (but a plan run walks on to the plan's next component); so does a rollback
            const walk = o.plan && o.plan.asked
            if (!rolledBack && (start.trial !== "confirmed" || walk)) {
                plan = await e.checkForUpdate()
                if (walk) plan = await walkPlans(e, plan)
                again = plan.result === "rebooting"
            }
        } catch (err) {
            if (!(err instanceof Reboot) && !d.flash.isOff()) throw err
            again = true
        }
        bytesRead += e.stats.bytesRead
        retries += e.stats.blockRetries
        checkpoints += e.stats.checkpoints
        rolledBack = rolledBack || d.progress.some(p => p.state === "rolled-back")
        if (d.flash.isOff()) {
            cuts++
            faults.powerOn()
        }
        if (!again) break
    }
    const seconds = (Date.now() - t0) / 1000

    const { result: last, reason, version, healthy, securityCounter } = await runOutcome(d, o, {
        plan,
        rolledBack: rolledBack ? d.progress.find(p => p.state === "rolled-back")?.reason ?? "rolled-back" : null,
        failure,
    })

    const tap = d.tap
    const floor = tap.uartFloorSeconds(o.baud, o.latency)
    const s = summarize({
        result: last,
        reason,
        version,
        runningVersion,
        runningSha256,
        packageSha256,
        signature,
        securityCounter,
        healthy,
        engine: "node",
        from: o.from,
        to: o.to,
        imageBytes: target.length,
        packageKind: o.packageKind,
        profile: o.profile,
        packageBytes: image.length,
        tap,
        seconds,
        uartFloor: floor,
        floor, // in-process, the UART is the only floor
        baud: o.baud,
        latencyMs: o.latency,
        boots: d.boots,
        cuts,
        rereadBytes: Math.max(0, bytesRead - image.length - otherPackageBytes(o.plan)),
        blockRetries: retries,
        journalCheckpoints: checkpoints,
        metaErases: d.metaErases() - metaErases0,
        detail: failure ? failure.detail : plan && plan.reason === reason ? plan.detail : null,
        faults,
    })
    if (o.plan && o.plan.asked) s.components = await componentSummaries(d, o.plan, o.component)
    return s
}
