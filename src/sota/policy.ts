// The decision on a plan (10700), as a plain function of the offer and the device's situation,
// so that every rule is testable alone. The order is the order of the checks a person would make:
// is it for us, is it new, does it apply to what runs, may we, can we now, does it fit.

import { compareVersions } from "../lib/version"
import { OtaOffer } from "../qiot/events"
import { SotaReason } from "./reasons"

export interface PolicyContext {
    component: string
    running: string
    allowDowngrade: boolean
    /** percent */
    battery: number
    /** dBm; NaN when unknown (AT+CSQ 99): then the signal rule cannot refuse */
    signal: number
    slotSize: number
}

export interface PolicyDecision {
    accept: boolean
    /** set when refused */
    reason: SotaReason
    detail: string
}

function refuse(reason: SotaReason, detail: string): PolicyDecision {
    return { accept: false, reason, detail }
}

export function decidePlan(offer: OtaOffer, ctx: PolicyContext): PolicyDecision {
    if (offer.component !== ctx.component)
        return refuse("not-our-component", `plan for "${offer.component}", this MCU is "${ctx.component}"`)
    if (compareVersions(offer.target, ctx.running) === 0) return refuse("same-version", `already running ${ctx.running}`)
    if (offer.source.length > 0 && offer.source !== ctx.running)
        return refuse("wrong-source-version", `delta from ${offer.source}, running ${ctx.running}`)
    if (!ctx.allowDowngrade && compareVersions(offer.target, ctx.running) < 0)
        return refuse("downgrade", `${offer.target} is older than ${ctx.running}`)
    if (ctx.battery < offer.minBattery) return refuse("low-battery", `battery ${ctx.battery}% < ${offer.minBattery}%`)
    if (!isNaN(ctx.signal) && ctx.signal < offer.minSignal)
        return refuse("weak-signal", `signal ${ctx.signal} dBm < ${offer.minSignal} dBm`)
    if (offer.size > ctx.slotSize) return refuse("too-large", `${offer.size} bytes, a slot holds ${ctx.slotSize}`)
    return { accept: true, reason: null, detail: "" }
}

/** AT+CSQ's <rssi> 0..31 → dBm (−113 + 2·n); 99 (unknown) → NaN. */
export function csqToDbm(rssi: number): number {
    if (rssi >= 0 && rssi <= 31) return -113 + 2 * rssi
    return NaN
}
