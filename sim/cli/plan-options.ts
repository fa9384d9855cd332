// `npm run sim` options for what a QuecThing plan can ask (issue 20): a second, data component,
// a user-confirmed plan, a consent hook that defers once, the platform's rejection period, push
// period, failure limit and retry interval. --components 2, alone or with --defer-once, runs in
// the VM (the firmware's components and consent profiles, src/simulator/profiles/); the others run
// in the node engine (the platform's timing options and --user-confirmed are untested there).
// With any of them the run keeps outcome records (SotaConfig.outcomes), walks the plan's
// components in the platform's order, and its summary gains `components`, one entry per
// component from the outcome records.

import { UsageError } from "./usage-error"
import type { SimDevice } from "../device/device"
import type { MaintenanceWindow } from "../../src/sota/consent"
import { consentLater, consentNow } from "../../src/sota/consent"
import { ConsentGate } from "../../src/sota/consent-gate"
import { OutcomeReporter } from "../../src/sota/outcomes"
import { decodeOutcome } from "../../src/sota/outcome"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { OutcomeKeeper } from "../../src/flash/outcome-keeper"
import { makeImage, PRODUCT, SECTOR } from "../device/device"
import { DATA_NAME, DATA_SLOT_SECTORS } from "../../src/simulator/profiles/components"
import type { PlanResult, SotaEngine } from "../../src/sota/engine"
import type { SotaConfig } from "../../src/sota/config"

export interface PlanOptions {
    /** any of these options was given: a plan run (node engine, outcome records, the walk, `components` in the summary) */
    asked: boolean
    /** 1: the program; 2: the program, then a data component ("DATA", V1 → V2) */
    components: number
    userConfirmed: boolean
    deferOnce: boolean
    rejectionMin: number | null
    pushPeriod: MaintenanceWindow | null
    failLimit: number | null
    retryMin: number | null
}

export function planDefaults(): PlanOptions {
    return { asked: false, components: 1, userConfirmed: false, deferOnce: false, rejectionMin: null, pushPeriod: null, failLimit: null, retryMin: null }
}

export const PLAN_USAGE = `plans (issue 20; --components 2, alone or with --defer-once, runs in the VM; the others
imply the node engine):
  --components N       1 (the program) or 2 (the program, then a data component DATA V1 → V2 in a store
                       of its own); the summary's "components" has one entry per component
  --user-confirmed     the plan is user-confirmed: pushed once the user confirms it (at once, here)
  --defer-once         the application's consent hook says "later" once (for 3 s), then "now"
  --rejection-min M    the platform's rejection period after a refusal, 10-1440 minutes (default 120)
  --push-period HH:MM-HH:MM  the plan is pushed only inside this daily period (UTC; may wrap midnight)
  --fail-limit N       consecutive failures that end the device's upgrade in the plan, 1-5 (default 5)
  --retry-min M        minutes the plan is held back after a failure, 0-1440 (default 0)`

// the name and slot the VM firmware's components profile uses for its data store
const DATA = { name: DATA_NAME, from: "V1", to: "V2", size: 3000, slotSize: DATA_SLOT_SECTORS * SECTOR }

function whole(name: string, v: string | undefined, min: number, max: number): number {
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got "${v ?? ""}"`)
    const n = Number(v)
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`)
    return n
}

function period(v: string | undefined): MaintenanceWindow {
    const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(v ?? "")
    const ok = m && Number(m[1]) < 24 && Number(m[2]) < 60 && Number(m[3]) < 24 && Number(m[4]) < 60
    if (!ok) throw new UsageError(`--push-period must be HH:MM-HH:MM, got "${v ?? ""}"`)
    return { start: Number(m![1]) * 60 + Number(m![2]), end: Number(m![3]) * 60 + Number(m![4]) }
}

/**
 * The VM's firmware runs this plan: --components 2 (the host builds DATA's region only then), maybe
 * with --defer-once, with a full package (the components and consent profiles carry no rebuilder).
 * Every other plan option is the node engine's.
 */
export function vmPlan(p: PlanOptions, packageKind: string): boolean {
    return packageKind === "full" && p.components > 1 && !p.userConfirmed && p.rejectionMin === null && p.pushPeriod === null && p.failLimit === null && p.retryMin === null
}

/** One of the plan options at argv's `a` (its value from `next`): true when it was one. */
export function parsePlanOption(a: string, next: () => string | undefined, p: PlanOptions): boolean {
    if (PLAN_FLAGS.includes(a)) p.asked = true
    switch (a) {
        case "--components":
            p.components = whole(a, next(), 1, 2)
            return true
        case "--user-confirmed":
            p.userConfirmed = true
            return true
        case "--defer-once":
            p.deferOnce = true
            return true
        case "--rejection-min":
            p.rejectionMin = whole(a, next(), 10, 1440)
            return true
        case "--push-period":
            p.pushPeriod = period(next())
            return true
        case "--fail-limit":
            p.failLimit = whole(a, next(), 1, 5)
            return true
        case "--retry-min":
            p.retryMin = whole(a, next(), 0, 1440)
            return true
    }
    return false
}

const PLAN_FLAGS = ["--components", "--user-confirmed", "--defer-once", "--rejection-min", "--push-period", "--fail-limit", "--retry-min"]

/** Bytes of the plan's packages besides the program's (DATA's): read once, not re-read. */
export function otherPackageBytes(p: PlanOptions | undefined): number {
    return p && p.asked && p.components > 1 ? DATA.size : 0
}

/** The device options and engine configuration a plan run adds. */
export function planDevice(p: PlanOptions): { data?: { name: string; version: string; slotSize: number }; engine: Partial<SotaConfig> } {
    const engine: Partial<SotaConfig> = { outcomes: new OutcomeReporter() }
    if (p.deferOnce) {
        let asked = 0
        engine.consent = new ConsentGate(() => (asked++ === 0 ? consentLater(Math.floor(Date.now() / 1000) + 3, "deferred once (--defer-once)") : consentNow()))
    }
    return { ...(p.components > 1 ? { data: { name: DATA.name, version: DATA.from, slotSize: DATA.slotSize } } : {}), engine }
}

/** Replace the device's single-package plan with the plan the options describe (after install()). */
export function planPlatform(d: SimDevice, p: PlanOptions, seed: number) {
    const dc = d.dc
    const old = dc.plans.find(x => x.packageIds.includes(d.pkg.id))!
    dc.stopPlan(old.id)
    const ids = [d.pkg.id]
    if (p.components > 1) {
        dc.addComponent(PRODUCT.productKey, DATA.name)
        ids.push(dc.addPackage({ productKey: PRODUCT.productKey, component: DATA.name, version: DATA.to, data: makeImage(DATA.size, seed + 1) }).id)
    }
    const plan = dc.createPlan({
        packageIds: ids,
        minBattery: old.minBattery,
        minSignal: old.minSignal,
        offerRunning: old.offerRunning,
        mode: p.userConfirmed ? "user-confirmed" : "silent",
        ...(p.pushPeriod ? { pushPeriod: p.pushPeriod, utcOffset: 0 } : {}),
        ...(p.rejectionMin !== null ? { rejectionPeriodMin: p.rejectionMin } : {}),
        ...(p.failLimit !== null ? { failLimit: p.failLimit } : {}),
        ...(p.retryMin !== null ? { retryIntervalMin: p.retryMin } : {}),
    })
    if (p.userConfirmed) dc.userConfirm(plan.id, PRODUCT.imei)
}

/**
 * After a plan result, the rest of the walk in the same boot: the next component the platform pushes
 * after a data component's version report, and the plan again after a deferral (the engine asks by
 * itself when the consent's time comes). A reboot (the program's new image) ends the boot.
 */
export async function walkPlans(e: SotaEngine, first: PlanResult): Promise<PlanResult> {
    let r = first
    for (let turn = 0; turn < 8; turn++) {
        if (r.result === "updated") {
            const n = await e.waitForPlan(5_000) // the next component comes within a cloud round trip of the report
            if (n.result === "no-plan") return r
            r = n
        } else if (r.result === "refused" && r.reason === "deferred") {
            await new Promise(res => setTimeout(res, 3_500))
            r = await e.checkForUpdate()
        } else return r
    }
    return r
}

export interface ComponentSummary {
    name: string
    from: string | null
    to: string | null
    /** upgraded, refused, rolled-back, failed, pending (accepted, not finished), none (no attempt recorded) */
    result: "upgraded" | "refused" | "rolled-back" | "failed" | "pending" | "none"
    reason: string | null
    /** IoTDA's result code (0 success, 1 device in use, ... 255 internal); null without an attempt */
    code: number | null
}

const REFUSALS = new Set(["not-our-component", "same-version", "wrong-source-version", "base-mismatch", "unsupported-package", "downgrade", "low-battery", "weak-signal", "too-large", "failed-before", "busy", "deferred", "declined"])
const ROLLBACKS = new Set(["self-test-failed", "rolled-back", "bad-image", "version-mismatch"])

/** One entry per component, read from the outcome records in its store (as the platform was told). */
export async function componentSummaries(d: SimDevice, p: PlanOptions, program: string): Promise<ComponentSummary[]> {
    const stores: [string, ImageStore][] = [[program, d.newStore({ outcomes: new OutcomeKeeper() })]]
    if (p.components > 1) stores.push([DATA.name, new ImageStore(d.flash, d.dataLayout!, { yielder: async () => {}, yieldEvery: 1 << 30, outcomes: new OutcomeKeeper() })])
    const out: ComponentSummary[] = []
    for (const [name, s] of stores) {
        await s.mount()
        const o = decodeOutcome(s.outcomes!.last())
        if (!o) {
            const st = storeState(s)
            out.push({ name, from: st.active >= 0 ? st.slots[st.active].version : null, to: null, result: "none", reason: null, code: null })
            continue
        }
        const result = o.reason === "" ? "upgraded" : o.reason === "pending" ? "pending" : REFUSALS.has(o.reason) ? "refused" : ROLLBACKS.has(o.reason) ? "rolled-back" : "failed"
        out.push({ name, from: o.from || null, to: o.to || null, result, reason: o.reason || null, code: o.reason === "pending" ? null : o.result })
    }
    return out
}
