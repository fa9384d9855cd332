// The simulated world of one `npm run sim` run, built the same way for both engines (node and
// vm): the faults sorted into where they act, and the in-process device (module emulator,
// Developer Center, UART model, NOR flash) with the factory image installed.

import { makeImage, SimDevice } from "../device/device"
import type { PlanResult } from "../../src/sota/engine"
import type { SimResult } from "./summary"
import type { FaultRule } from "../module/faults"
import type { ScriptedByteFault, ByteFaultRates } from "../link/uart-line"
import type { FaultSpec } from "./fault-spec"
import { SimOptions } from "./options"
import { View } from "./view"

export interface SimWorld {
    d: SimDevice
    image: Buffer
    /** power cuts at the flash write of a download block (the engine arms them as blocks go by) */
    blockCuts: Extract<FaultSpec, { kind: "cut-block" }>[]
    /** power cuts at a flash operation */
    opCuts: Extract<FaultSpec, { kind: "cut-op" }>[]
}

export async function buildSimWorld(o: SimOptions, view: View): Promise<SimWorld> {
    const image = o.image ?? makeImage(o.size, o.seed)
    const moduleFaults: FaultRule[] = []
    const script: ScriptedByteFault[] = []
    let rates: ByteFaultRates = {}
    let selfTestFails = false
    const blockCuts: SimWorld["blockCuts"] = []
    const opCuts: SimWorld["opCuts"] = []
    for (const f of o.faults) {
        if (f.kind === "module") moduleFaults.push(f.rule(o.block))
        else if (f.kind === "byte") script.push(f.fault)
        else if (f.kind === "rate") rates = { ...rates, ...f.rates }
        else if (f.kind === "self-test-fail") selfTestFails = true
        else if (f.kind === "cut-block") blockCuts.push(f)
        else if (f.kind === "cut-op") opCuts.push(f)
    }
    const d = new SimDevice({
        image,
        fromVersion: o.from,
        toVersion: o.to,
        component: o.component,
        module: { pieceSize: o.piece || image.length, maxRead: o.block, latencyMs: o.latency, faults: moduleFaults, seed: o.seed },
        uart: { baud: o.baud, seed: o.seed, script, toMcu: rates },
        engine: { blockSize: o.block },
        trace: o.trace ? line => view.trace(line) : undefined,
    })
    await d.install()
    d.selfTestOk = !selfTestFails
    return { d, image, blockCuts, opCuts }
}

export interface RunEnd {
    /** the last plan result the firmware reported (null: none) */
    plan: PlanResult | null
    /** why the new image was rolled back, null when it was not */
    rolledBack: string | null
    /** the run itself failed (the VM engine's timeout, a crash): null when it did not */
    failure?: { reason: string } | null
}

/**
 * How a run ended, for both engines: the device read as a bootloader would (a confirmed image
 * byte-identical to the old or the new one is "healthy"), then the run's own story.
 */
export async function runOutcome(d: SimDevice, o: SimOptions, end: RunEnd) {
    let version = "?"
    let healthy = false
    try {
        version = (await d.healthy()) === "new" ? o.to : o.from
        healthy = true
    } catch (e) {
        version = (await d.runningImage()).version
    }
    const plan = end.plan
    const failure = end.failure || null
    let result: SimResult = "failed"
    let reason: string | null = failure ? failure.reason : plan ? plan.reason : "no-plan"
    if (!failure) {
        if (healthy && version === o.to) [result, reason] = ["upgraded", null]
        else if (end.rolledBack) [result, reason] = ["rolled-back", end.rolledBack]
        else if (plan && plan.result === "refused") result = "refused"
        else if (plan && plan.result === "no-plan") reason = "no-plan"
    }
    return { result, reason, version, healthy }
}
