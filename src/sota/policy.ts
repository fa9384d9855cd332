// The decision on a plan (10700), as a plain function of the offer and the device's situation,
// so that every rule is testable alone. The order is the order of the checks a person would make:
// is it for us, is it well-formed, is it new, does it apply to what runs, may we, did it fail here
// before, can we now, does it fit.

import { ImagePlan, MAX_VERSION_LENGTH } from "../flash/store-port"
import { compareVersions } from "../lib/version"
import { quotable } from "../qiot/commands"
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
    /** The package that failed its self-test here (the store's failedTrial()), or null. */
    failed?: ImagePlan
    /** Delta packages can be applied (SotaConfig.rebuilder is set). */
    rebuilds?: boolean
}

export interface PolicyDecision {
    accept: boolean
    /** set when refused */
    reason: SotaReason
    detail: string
}

/** Every decision is made here (an object literal costs ~30 B at each place that builds one): accepted when `reason` is null. */
function refuse(reason: SotaReason, detail: string): PolicyDecision {
    return { accept: reason === null, reason, detail }
}

export function decidePlan(offer: OtaOffer, ctx: PolicyContext): PolicyDecision {
    if (offer.component !== ctx.component)
        return refuse("not-our-component", `plan for "${offer.component}", this MCU is "${ctx.component}"`)
    // the target becomes the store's record and, after the reboot, the quoted AT+QIOTMCUVER argument
    const n = Buffer.from(offer.target).length
    if (n > MAX_VERSION_LENGTH || !quotable(offer.target))
        return refuse("bad-plan", `target version of ${n} bytes (1..${MAX_VERSION_LENGTH} printable, no quotes)`)
    if (compareVersions(offer.target, ctx.running) === 0) return refuse("same-version", `already running ${ctx.running}`)
    // a delta rebuilds its target from the running image: only from its source version (the
    // rebuild checks the running image's own bytes before it writes: base-mismatch)
    if (offer.source.length > 0 && offer.source !== ctx.running)
        return refuse("wrong-source-version", `delta from ${offer.source}, running ${ctx.running}`)
    // a delta package is a patch, not an image: without an applier it must not be written as one
    if (offer.source.length > 0 && !ctx.rebuilds) return refuse("unsupported-package", `a delta from ${offer.source}; this firmware has no delta applier`)
    if (!ctx.allowDowngrade && compareVersions(offer.target, ctx.running) < 0)
        return refuse("downgrade", `${offer.target} is older than ${ctx.running}`)
    // 10700 carries no digest: the version and the size name the package; a delta's or a
    // compressed package's size is its patch's while the store keeps the rebuilt image's, so where
    // packages are rebuilt (a compressed one is told only by its first byte) the version alone does
    const f = ctx.failed
    if (f && f.version === offer.target && (f.size === offer.size || offer.source.length > 0 || ctx.rebuilds))
        return refuse("failed-before", `${f.version} failed its self-test here`)
    if (ctx.battery < offer.minBattery) return refuse("low-battery", `battery ${ctx.battery}% < ${offer.minBattery}%`)
    if (!isNaN(ctx.signal) && ctx.signal < offer.minSignal)
        return refuse("weak-signal", `signal ${ctx.signal} dBm < ${offer.minSignal} dBm`)
    if (offer.size > ctx.slotSize) return refuse("too-large", `${offer.size} bytes, a slot holds ${ctx.slotSize}`)
    return refuse(null, "") // accepted
}

/** AT+CSQ's <rssi> 0..31 → dBm (−113 + 2·n); 99 (unknown) → NaN. */
export function csqToDbm(rssi: number): number {
    if (rssi >= 0 && rssi <= 31) return -113 + 2 * rssi
    return NaN
}
