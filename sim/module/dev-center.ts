// The QuecThing Developer Center, as far as SOTA needs it: products, MCU components and their
// versions, packages (full, or delta from one source version), upgrade plans (one component, or a
// version package of up to 5 components applied in order; silent or user-confirmed; whitelist,
// blacklist, a strategy of minimum battery and signal, a push period, a rejection period, retry
// counts), and what each device reported, kept as a log that tests and the simulator CLI read. The
// module emulator is its only client, the way a real module talks to the platform over MQTT; the
// MCU never sees this object.
//
// Rules modelled (quecthing-at.md §3, §4, §9, §10; [doc] = the Developer Center's own pages on
// iot-docs.acceleronix.io, "Create an Upgrade Plan", "Upgrade Process Overview", "Related OpenAPIs";
// [choice] = the documents are silent, this is what we chose and why):
// - A full package is offered to any device of the product that reported the component at a
//   version other than the target (any version with a plan's offerRunning, a misconfiguration the
//   MCU must refuse); a delta package only to a device reporting its source version.
// - Whitelist (when not empty) limits a plan to the listed devices; the blacklist wins over it.
// - The strategy (minimum battery %, minimum signal dBm) is not enforced by the platform: it is
//   announced in 10700 and the device decides (the MCU checks it, then confirms or refuses).
// - When several plans apply to one component, a delta plan is offered before a full one, then
//   the oldest plan first.
// - Several components (a version package holds up to 5 files [§10]): the plan lists them in the
//   platform's order; one 10700 per component, and the next component's 10700 only after the
//   device reported the previous one's new version (10705), as S10's comment says ("report the
//   component's new version before the next component can be downloaded"). A component already at
//   its target is skipped; a delta component whose source the device does not run stops the plan
//   (it is not offered). A failure ends the attempt at that component: the ones before stay
//   upgraded (the device runs them), the next attempt starts at the failed one. A plan between
//   two components (the module rebooted before the next 10700) is pushed again as soon as the
//   device reconnects, whatever the push period says. [choice] A
//   QuecThing C SDK (ql_iotCmdOTA.c, DMP 2.2.0) announces all the components of a multi-plan at
//   once and takes one AT+QIOTUPDATE for them; we follow S10's one-at-a-time flow, which is what
//   an MCU with one download in flight can serve, and which the brief of issue 20 names.
// - Silent or user-confirmed [doc]: a silent plan is offered when the device asks or pushed by the
//   platform. A user-confirmed ("manual") plan is invisible to the device until its user acts
//   through the app's OpenAPI: confirm (the platform pushes it at once, and the AT side then
//   sees exactly a silent plan: 10700, AT+QIOTUPDATE=1/0, the same events: the user's consent is
//   given before the module hears of the plan), appoint a period of at least one hour (pushed when
//   it opens, offered only inside it), or cancel (the device's upgrade in the plan ends failed).
// - Push period [doc]: "Developer Center will only push the upgrade plan during the push period"
//   (minutes of the day in the plan's time zone; may wrap past midnight). [choice] It gates every
//   offer, asked for or pushed, except the next component of a plan a device is in the middle of;
//   when it opens, online devices that were held back are pushed. A planned time (start, end)
//   bounds the plan the same way.
// - Rejection period (10-1 440 min, default 120): after the device refuses (AT+QIOTUPDATE=0 on
//   an offer) the platform does not push the plan again before it has passed, then pushes it.
//   [choice] A device's own request (AT+QIOTOTAREQ) during the period is answered with the plan:
//   a device that asks has changed its mind (an application's "later until T" asks at T).
// - Retries: `failLimit` consecutive failures (1-5, default 5 [S6 Q8]) mark the device's upgrade
//   in the plan failed; it is not offered again. A failure is counted per device and plan, and
//   per component. After a failure the plan is held back `retryIntervalMin` (0-1 440, default 0;
//   IoTDA advises 5) from pushes and requests alike, then pushed. Success (every component at its
//   target) resets the count. A refusal is logged and counted, but is not a failure.
// - Times are the platform's clock, Date.now() (vitest fake timers make it virtual); the
//   platform's own pushes are timers that do not keep a Node process alive.

import { MaintenanceWindow, nextOpening } from "../../src/sota/consent"
import { digestsOf } from "../lib/digest"

export interface ProductSpec {
    productKey: string
    productSecret: string
    name?: string
}

export interface PackageSpec {
    productKey: string
    component: string
    /** Target version, QuecThing style ("2_0_0", "V1_0"). */
    version: string
    /** Source version for a delta package; omit for a full package. */
    sourceVersion?: string
    data: Buffer
    name?: string
}

export interface Package {
    id: number
    productKey: string
    component: string
    kind: "full" | "delta"
    /** "" for a full package (10700 then carries an empty source version). */
    sourceVersion: string
    version: string
    data: Buffer
    md5: string
    sha256: string
    crc32: number
    name: string
}

export interface PlanSpec {
    /** One component: its package. */
    packageId?: number
    /** A version package: up to 5 packages of distinct components of one product, in the order they are applied. */
    packageIds?: number[]
    name?: string
    whitelist?: string[]
    blacklist?: string[]
    /** Minimum battery level in % (0-100). Default 30 (as in the walk-through). */
    minBattery?: number
    /** Minimum signal strength in dBm (-140..0). Default -113 (as in the walk-through). */
    minSignal?: number
    /** Offer the package even to a device that reports its version (a misconfigured plan: the MCU must refuse it). */
    offerRunning?: boolean
    /** Default "silent". */
    mode?: "silent" | "user-confirmed"
    /** Minutes of the day in the plan's time zone, [start, end); start > end wraps past midnight. Default: any time. */
    pushPeriod?: MaintenanceWindow
    /** The plan's time zone: minutes east of UTC. Default 0. */
    utcOffset?: number
    /** Planned time: not offered before / after (ms on the platform's clock). */
    startsAt?: number
    endsAt?: number
    /** After a refusal, not pushed again for this long: 10-1 440 minutes, default 120. */
    rejectionPeriodMin?: number
    /** Consecutive failures that end a device's upgrade in the plan: 1-5, default 5. */
    failLimit?: number
    /** After a failure, not offered again for this long: 0-1 440 minutes, default 0. */
    retryIntervalMin?: number
}

export interface Plan {
    id: number
    name: string
    /** The first (or only) component's package. */
    packageId: number
    /** Every component's package, in the order they are applied. */
    packageIds: number[]
    whitelist: string[]
    blacklist: string[]
    minBattery: number
    minSignal: number
    status: "active" | "stopped"
    offerRunning: boolean
    mode: "silent" | "user-confirmed"
    pushPeriod: MaintenanceWindow | null
    utcOffset: number
    startsAt: number
    endsAt: number
    rejectionPeriodMin: number
    failLimit: number
    retryIntervalMin: number
}

/** The steps of a device's upgrade as the platform's log shows them. */
export type DeviceStep =
    | "notified" // the plan was sent to the device (10700)
    | "refused" // the MCU refused (AT+QIOTUPDATE=0 before the download)
    | "download-start" // confirmed (AT+QIOTUPDATE=1)
    | "downloading" // a piece reached the module; progress = % of the package delivered
    | "downloaded" // every byte delivered and read
    | "updating" // the MCU reported updating (AT+QIOTUPDATE=3)
    | "updated" // the MCU reported the target version (10705)
    | "failed" // 10706: wrong version, aborted, or the connection was lost

export interface LogEntry {
    seq: number
    /** Date.now() when it was logged (vitest fake timers make this virtual time). */
    time: number
    deviceKey: string
    planId: number
    component: string
    step: DeviceStep
    progress?: number
    detail?: string
}

export interface Device {
    productKey: string
    deviceKey: string
    /** Issued at the first authentication. */
    deviceSecret: string | null
    /** The MCU component versions the device last reported. */
    versions: Map<string, string>
    online: boolean
}

export interface DevicePlanState {
    status: "pending" | "in-progress" | "succeeded" | "failed"
    consecutiveFailures: number
    attempts: number
}

/** Where one component of a plan stands for one device. */
export interface ComponentProgress {
    component: string
    /** The version the device ran when the component was last offered ("" before that). */
    from: string
    to: string
    status: "pending" | "offered" | "refused" | "downloading" | "updating" | "updated" | "failed"
    failures: number
    /** The last failure's detail ("" when none). */
    detail: string
}

/** Everything the platform keeps about one device in one plan. */
export interface DevicePlanDetail extends DevicePlanState {
    /** Every failure, consecutive or not. */
    failures: number
    refusals: number
    /** No offer before this time (ms): the rejection period after a refusal, the retry interval after a failure. */
    notBefore: number
    notBeforeWhy: "" | "refused" | "failed"
    /** A user-confirmed plan: what the device's user did. */
    user: "none" | "confirmed" | "appointed" | "cancelled"
    appointment: { start: number; end: number } | null
    /** One entry per component, in the plan's order. */
    components: ComponentProgress[]
}

/** How an offer is sought: the device asked (AT+QIOTOTAREQ), the platform pushes, or the next component of a plan under way. */
export type OfferWhy = "request" | "push" | "continue"

/** What the platform sends to a device for one component: the data behind 10700/10701. */
export interface Offer {
    planId: number
    packageId: number
    /** The component's place in the plan (0-based) and the plan's number of components. */
    index: number
    count: number
    component: string
    sourceVersion: string
    targetVersion: string
    minBattery: number
    minSignal: number
    data: Buffer
    md5: string
    sha256: string
    crc32: number
}

/** How the platform reaches a connected device (the module registers one when it connects). */
export interface DeviceLink {
    /** The platform has a plan for this device (it re-checks periodically, or a plan was pushed). */
    planAvailable(): void
}

export type AuthResult = { code: 10200; deviceSecret: string } | { code: number }

export const FAIL_LIMIT = 5
/** The most files a version package holds (quecthing-at.md §10). */
export const MAX_COMPONENTS = 5
export const DEFAULT_REJECTION_MIN = 120
const MIN = 60_000

const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$/

export class DevCenter {
    readonly products = new Map<string, ProductSpec & { components: Set<string> }>()
    readonly packages: Package[] = []
    readonly plans: Plan[] = []
    readonly devices = new Map<string, Device>()
    readonly log: LogEntry[] = []
    /** Transparent data the devices sent (AT+QIOTSEND), in order of arrival. */
    readonly uplinks: { seq: number; time: number; deviceKey: string; data: Buffer }[] = []
    private planStates = new Map<string, DevicePlanDetail>()
    private links = new Map<string, DeviceLink>()
    private wakes = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>()
    private nextSecret = 1

    addProduct(spec: ProductSpec): this {
        if (!spec.productKey || !spec.productSecret) throw new Error("product needs a key and a secret")
        this.products.set(spec.productKey, { ...spec, components: new Set() })
        return this
    }

    /** Declare an MCU component of a product ("STM32"). */
    addComponent(productKey: string, component: string): this {
        const p = this.product(productKey)
        if (!/^[A-Za-z0-9_]{1,32}$/.test(component)) throw new Error(`bad component number "${component}"`)
        p.components.add(component)
        return this
    }

    addPackage(spec: PackageSpec): Package {
        const p = this.product(spec.productKey)
        if (!p.components.has(spec.component)) throw new Error(`unknown component ${spec.component}`)
        if (!VERSION_RE.test(spec.version)) throw new Error(`bad version "${spec.version}"`)
        if (spec.sourceVersion !== undefined && !VERSION_RE.test(spec.sourceVersion))
            throw new Error(`bad source version "${spec.sourceVersion}"`)
        if (spec.sourceVersion === spec.version) throw new Error("a delta package must change the version")
        if (spec.data.length === 0) throw new Error("empty package")
        const d = digestsOf(spec.data)
        const pkg: Package = {
            id: this.packages.length + 1,
            productKey: spec.productKey,
            component: spec.component,
            kind: spec.sourceVersion === undefined ? "full" : "delta",
            sourceVersion: spec.sourceVersion || "",
            version: spec.version,
            data: Buffer.from(spec.data),
            md5: d.md5,
            sha256: d.sha256,
            crc32: d.crc32,
            name: spec.name || `${spec.component}_${spec.sourceVersion ? spec.sourceVersion + "-" : ""}${spec.version}.bin`,
        }
        this.packages.push(pkg)
        return pkg
    }

    createPlan(spec: PlanSpec): Plan {
        const ids = spec.packageIds ? spec.packageIds.slice() : spec.packageId !== undefined ? [spec.packageId] : []
        if (ids.length === 0) throw new Error("a plan needs a package")
        if (spec.packageIds && spec.packageId !== undefined) throw new Error("packageId or packageIds, not both")
        if (ids.length > MAX_COMPONENTS) throw new Error(`a version package holds at most ${MAX_COMPONENTS} files`)
        const pkgs = ids.map(id => {
            const pkg = this.packages[id - 1]
            if (!pkg) throw new Error(`unknown package ${id}`)
            return pkg
        })
        if (pkgs.some(p => p.productKey !== pkgs[0].productKey)) throw new Error("a plan's packages belong to one product")
        if (new Set(pkgs.map(p => p.component)).size !== pkgs.length) throw new Error("one package per component")
        const minBattery = spec.minBattery === undefined ? 30 : spec.minBattery
        const minSignal = spec.minSignal === undefined ? -113 : spec.minSignal
        if (!(minBattery >= 0 && minBattery <= 100)) throw new Error(`minimum battery ${minBattery} is not 0-100 %`)
        if (!(minSignal >= -140 && minSignal <= 0)) throw new Error(`minimum signal ${minSignal} is not -140..0 dBm`)
        const rejection = spec.rejectionPeriodMin === undefined ? DEFAULT_REJECTION_MIN : spec.rejectionPeriodMin
        if (!(rejection >= 10 && rejection <= 1440)) throw new Error(`rejection period ${rejection} is not 10-1440 minutes`)
        const failLimit = spec.failLimit === undefined ? FAIL_LIMIT : spec.failLimit
        if (!(Number.isInteger(failLimit) && failLimit >= 1 && failLimit <= FAIL_LIMIT)) throw new Error(`fail limit ${failLimit} is not 1-${FAIL_LIMIT}`)
        const retry = spec.retryIntervalMin || 0
        if (!(retry >= 0 && retry <= 1440)) throw new Error(`retry interval ${retry} is not 0-1440 minutes`)
        const pp = spec.pushPeriod
        if (pp && !(pp.start >= 0 && pp.start < 1440 && pp.end >= 0 && pp.end < 1440)) throw new Error("a push period is minutes of the day, 0-1439")
        const plan: Plan = {
            id: this.plans.length + 1,
            name: spec.name || `plan ${this.plans.length + 1}`,
            packageId: ids[0],
            packageIds: ids,
            whitelist: (spec.whitelist || []).slice(),
            blacklist: (spec.blacklist || []).slice(),
            minBattery,
            minSignal,
            status: "active",
            offerRunning: !!spec.offerRunning,
            mode: spec.mode || "silent",
            pushPeriod: pp ? { start: pp.start, end: pp.end } : null,
            utcOffset: spec.utcOffset || 0,
            startsAt: spec.startsAt || 0,
            endsAt: spec.endsAt || 0,
            rejectionPeriodMin: rejection,
            failLimit,
            retryIntervalMin: retry,
        }
        this.plans.push(plan)
        return plan
    }

    stopPlan(planId: number) {
        this.plan(planId).status = "stopped"
    }

    /** Pre-provision a device (as if it had authenticated before). */
    addDevice(productKey: string, deviceKey: string, deviceSecret: string | null = null): Device {
        this.product(productKey)
        const d: Device = { productKey, deviceKey, deviceSecret, versions: new Map(), online: false }
        this.devices.set(deviceKey, d)
        return d
    }

    /** Tell connected devices that plans may be waiting (the platform's push; unsolicited 10700). */
    push() {
        for (const link of this.links.values()) link.planAvailable()
    }

    // ---- the user's side of a user-confirmed plan (the app's OpenAPI) ----

    /** The user confirms: the platform pushes the plan to the device at once (when it is online). */
    userConfirm(planId: number, deviceKey: string) {
        const st = this.userPlan(planId, deviceKey)
        st.user = "confirmed"
        st.appointment = null
        this.wake(deviceKey, this.now())
    }

    /** The user appoints a period (at least an hour, inside the planned time): pushed when it opens, offered only inside it. */
    userAppoint(planId: number, deviceKey: string, start: number, end: number) {
        const plan = this.plan(planId)
        if (!(end - start >= 60 * MIN)) throw new Error("an appointed period lasts at least one hour")
        if ((plan.startsAt && start < plan.startsAt) || (plan.endsAt && end > plan.endsAt))
            throw new Error("an appointed period lies inside the plan's planned time")
        const st = this.userPlan(planId, deviceKey)
        st.user = "appointed"
        st.appointment = { start, end }
        this.wake(deviceKey, start)
    }

    /** The user cancels: the device's upgrade in the plan ends failed, and it is not offered again. */
    userCancel(planId: number, deviceKey: string) {
        const st = this.userPlan(planId, deviceKey)
        st.user = "cancelled"
        st.status = "failed"
    }

    // ---- the device side: what the module asks over its connection ----

    /** First connection of a device: product key and secret checked, a DeviceSecret issued. */
    authenticate(productKey: string, productSecret: string, deviceKey: string): AuthResult {
        const p = this.products.get(productKey)
        if (!p) return { code: 10423 } // bad ProductKey
        if (p.productSecret !== productSecret) return { code: 10424 } // PK/PS do not decode
        let d = this.devices.get(deviceKey)
        if (!d) d = this.addDevice(productKey, deviceKey)
        if (d.productKey !== productKey) return { code: 10423 }
        if (d.deviceSecret !== null) return { code: 10422 } // already authenticated: reset DS on the platform
        d.deviceSecret = `ds${(this.nextSecret++).toString().padStart(6, "0")}`
        return { code: 10200, deviceSecret: d.deviceSecret }
    }

    /** Access with a DeviceSecret. 10200 on success; the link receives plan pushes while online. */
    connect(productKey: string, deviceKey: string, deviceSecret: string, link: DeviceLink): number {
        if (!this.products.has(productKey)) return 10438
        const d = this.devices.get(deviceKey)
        if (!d || d.productKey !== productKey) return 10438 // device information not found
        if (d.deviceSecret !== deviceSecret) return 10430 // wrong DeviceSecret
        d.online = true
        this.links.set(deviceKey, link)
        // a plan stopped between two components (the module rebooted, the link dropped) goes on
        if (this.plans.some(p => this.midPlan(this.state(p.id, deviceKey)))) this.wake(deviceKey, this.now())
        return 10200
    }

    /** Has this device ever authenticated (so it only needs access, not authentication)? */
    isAuthenticated(deviceKey: string): boolean {
        const d = this.devices.get(deviceKey)
        return !!d && d.deviceSecret !== null
    }

    disconnect(deviceKey: string) {
        const d = this.devices.get(deviceKey)
        if (d) d.online = false
        this.links.delete(deviceKey)
    }

    /** Transparent data from a device (AT+QIOTSEND). */
    uplink(deviceKey: string, data: Buffer) {
        this.uplinks.push({ seq: this.uplinks.length + 1, time: this.now(), deviceKey, data: Buffer.from(data) })
    }

    /** The MCU versions the module reports (after AT+QIOTMCUVER and at connection). */
    reportVersions(deviceKey: string, versions: [string, string][]) {
        const d = this.devices.get(deviceKey)
        if (!d) return
        d.versions = new Map(versions)
    }

    /**
     * The component the device should be offered now, or null. Does not log (see report()), but
     * when a plan is held back only by time (push period, rejection period, retry interval, an
     * appointment, the planned start) the platform arranges to push it when that time comes.
     */
    findOffer(deviceKey: string, why: OfferWhy = "request"): Offer | null {
        const d = this.devices.get(deviceKey)
        if (!d) return null
        const now = this.now()
        let best: { plan: Plan; pkg: Package; index: number } | null = null
        let wakeAt = 0
        for (const plan of this.plans) {
            const next = this.eligible(d, plan)
            if (next === null) continue
            const opens = this.opensAt(d, plan, why, now)
            if (opens > now) {
                if (wakeAt === 0 || opens < wakeAt) wakeAt = opens
                continue
            }
            if (opens < 0) continue
            if (best === null || (best.pkg.kind === "full" && next.pkg.kind === "delta")) best = { plan, ...next }
        }
        if (best === null) {
            if (wakeAt > 0) this.wake(deviceKey, wakeAt)
            return null
        }
        const { plan, pkg, index } = best
        return {
            planId: plan.id,
            packageId: pkg.id,
            index,
            count: plan.packageIds.length,
            component: pkg.component,
            sourceVersion: pkg.sourceVersion,
            targetVersion: pkg.version,
            minBattery: plan.minBattery,
            minSignal: plan.minSignal,
            data: pkg.data,
            md5: pkg.md5,
            sha256: pkg.sha256,
            crc32: pkg.crc32,
        }
    }

    /** The device's progress in a plan, as the module reports it (for one component: the plan's first by default). */
    report(
        deviceKey: string,
        planId: number,
        step: DeviceStep,
        extra: { progress?: number; detail?: string; component?: string } = {},
    ) {
        const plan = this.plan(planId)
        const component = extra.component || this.packages[plan.packageId - 1].component
        const st = this.state(planId, deviceKey)
        const c = st.components.find(x => x.component === component)
        const now = this.now()
        if (step === "notified") {
            if (st.status === "in-progress" && !this.midPlan(st)) st.status = "pending"
            if (c) {
                const d = this.devices.get(deviceKey)
                c.from = (d && d.versions.get(component)) || ""
                c.status = "offered"
            }
        } else if (step === "refused") {
            st.refusals++
            if (st.status === "in-progress") st.status = "pending"
            if (c) c.status = "refused"
            this.holdBack(st, deviceKey, now + plan.rejectionPeriodMin * MIN, "refused")
        } else if (step === "download-start") {
            st.status = "in-progress"
            st.attempts++
            if (c) c.status = "downloading"
        } else if (step === "updating") {
            if (c) c.status = "updating"
        } else if (step === "updated") {
            if (c) c.status = "updated"
            const d = this.devices.get(deviceKey)
            if (d && this.allAtTarget(d, plan)) {
                st.status = "succeeded"
                st.consecutiveFailures = 0
            } else st.status = "in-progress" // the next component follows (or the plan is stuck at a delta for another source)
        } else if (step === "failed") {
            st.consecutiveFailures++
            st.failures++
            st.status = st.consecutiveFailures >= plan.failLimit ? "failed" : "pending"
            if (c) {
                c.status = "failed"
                c.failures++
                c.detail = extra.detail || ""
            }
            if (plan.retryIntervalMin > 0 && st.status === "pending") this.holdBack(st, deviceKey, now + plan.retryIntervalMin * MIN, "failed")
        }
        const e: LogEntry = { seq: this.log.length + 1, time: now, deviceKey, planId, component, step }
        if (extra.progress !== undefined) e.progress = extra.progress
        if (extra.detail !== undefined) e.detail = extra.detail
        this.log.push(e)
    }

    /** Does the plan have a component left for this device after the one it just finished? */
    hasNext(deviceKey: string, planId: number): boolean {
        const d = this.devices.get(deviceKey)
        const plan = this.plan(planId)
        return !!d && plan.packageIds.length > 1 && this.state(planId, deviceKey).status !== "succeeded" && this.eligible(d, plan) !== null
    }

    // ---- reading the model ----

    deviceState(planId: number, deviceKey: string): DevicePlanState {
        const s = this.state(planId, deviceKey)
        return { status: s.status, consecutiveFailures: s.consecutiveFailures, attempts: s.attempts }
    }

    /** All the platform keeps about a device in a plan: counts, hold-backs, the user's action, each component. */
    deviceDetail(planId: number, deviceKey: string): DevicePlanDetail {
        const s = this.state(planId, deviceKey)
        return { ...s, appointment: s.appointment && { ...s.appointment }, components: s.components.map(c => ({ ...c })) }
    }

    logFor(deviceKey: string): LogEntry[] {
        return this.log.filter(e => e.deviceKey === deviceKey)
    }

    /** One line per entry, for the simulator CLI. */
    formatLog(entries: LogEntry[] = this.log): string {
        return entries
            .map(e => {
                const extra = (e.progress !== undefined ? ` ${e.progress}%` : "") + (e.detail ? ` (${e.detail})` : "")
                return `#${e.seq} t=${e.time} ${e.deviceKey} plan ${e.planId} ${e.component}: ${e.step}${extra}`
            })
            .join("\n")
    }

    /** Cancel the platform's pending pushes (a test or a CLI run that is over). */
    dispose() {
        for (const w of this.wakes.values()) clearTimeout(w.timer)
        this.wakes.clear()
    }

    /** The platform's clock (ms). */
    now(): number {
        return Date.now()
    }

    // ---- rules ----

    /** The component of the plan the device would be offered, regardless of time; null when none. */
    private eligible(d: Device, plan: Plan): { pkg: Package; index: number } | null {
        if (plan.status !== "active" || this.packages[plan.packageId - 1].productKey !== d.productKey) return null
        if (plan.blacklist.indexOf(d.deviceKey) >= 0) return null
        if (plan.whitelist.length > 0 && plan.whitelist.indexOf(d.deviceKey) < 0) return null
        const st = this.state(plan.id, d.deviceKey)
        if (st.status === "failed" || st.status === "succeeded") return null
        if (plan.mode === "user-confirmed" && st.user !== "confirmed" && st.user !== "appointed") return null
        for (let index = 0; index < plan.packageIds.length; index++) {
            const pkg = this.packages[plan.packageIds[index] - 1]
            const current = d.versions.get(pkg.component)
            if (current === undefined) return null // the device never reported the component
            if (current === pkg.version && !plan.offerRunning) continue // already there
            if (pkg.kind === "delta" && current !== pkg.sourceVersion) return null
            return { pkg, index }
        }
        return null
    }

    private allAtTarget(d: Device, plan: Plan): boolean {
        return plan.packageIds.every(id => d.versions.get(this.packages[id - 1].component) === this.packages[id - 1].version)
    }

    /**
     * When the plan may be offered to the device for `why`: a time (ms; ≤ now means now), or -1
     * when never again (the planned time is over, an appointment has passed).
     */
    private opensAt(d: Device, plan: Plan, why: OfferWhy, now: number): number {
        const st = this.state(plan.id, d.deviceKey)
        if (this.midPlan(st)) return now // a plan under way goes on: its next component is not held back
        if (plan.endsAt && now >= plan.endsAt) return -1
        let at = plan.startsAt > now ? plan.startsAt : now
        if (st.notBefore > at && !(why === "request" && st.notBeforeWhy === "refused")) at = st.notBefore
        if (st.user === "appointed" && st.appointment) {
            if (now >= st.appointment.end) return -1
            if (st.appointment.start > at) at = st.appointment.start
        }
        if (plan.pushPeriod) {
            const s = Math.floor(at / 1000)
            const open = nextOpening([plan.pushPeriod], s, plan.utcOffset)
            if (open > s) at = open * 1000
        }
        if (plan.endsAt && at >= plan.endsAt) return -1
        return at
    }

    /** Between two components: one reported, the next not yet answered (a refusal or a failure ends the attempt). */
    private midPlan(st: DevicePlanDetail): boolean {
        if (st.status !== "in-progress") return false
        return st.components.some(c => c.status === "updated") && st.components.some(c => c.status !== "updated")
    }

    private holdBack(st: DevicePlanDetail, deviceKey: string, until: number, why: "refused" | "failed") {
        st.notBefore = until
        st.notBeforeWhy = why
        this.wake(deviceKey, until)
    }

    /** The platform pushes to the device at `at` (ms), if it is online then; one pending push per device, the earliest. */
    private wake(deviceKey: string, at: number) {
        const w = this.wakes.get(deviceKey)
        if (w && w.at <= at && w.at >= this.now()) return
        if (w) clearTimeout(w.timer)
        const timer = setTimeout(() => {
            this.wakes.delete(deviceKey)
            const link = this.links.get(deviceKey)
            if (link) link.planAvailable()
        }, Math.max(0, at - this.now()))
        const t = timer as any
        if (t && typeof t.unref === "function") t.unref()
        this.wakes.set(deviceKey, { at, timer })
    }

    private userPlan(planId: number, deviceKey: string): DevicePlanDetail {
        if (this.plan(planId).mode !== "user-confirmed") throw new Error(`plan ${planId} is not user-confirmed`)
        if (!this.devices.has(deviceKey)) throw new Error(`unknown device ${deviceKey}`)
        return this.state(planId, deviceKey)
    }

    private state(planId: number, deviceKey: string): DevicePlanDetail {
        const k = `${planId}/${deviceKey}`
        let s = this.planStates.get(k)
        if (!s) {
            const plan = this.plan(planId)
            s = {
                status: "pending",
                consecutiveFailures: 0,
                attempts: 0,
                failures: 0,
                refusals: 0,
                notBefore: 0,
                notBeforeWhy: "",
                user: "none",
                appointment: null,
                components: plan.packageIds.map(id => {
                    const pkg = this.packages[id - 1]
                    return { component: pkg.component, from: "", to: pkg.version, status: "pending", failures: 0, detail: "" } as ComponentProgress
                }),
            }
            this.planStates.set(k, s)
        }
        return s
    }

    private product(productKey: string) {
        const p = this.products.get(productKey)
        if (!p) throw new Error(`unknown product ${productKey}`)
        return p
    }

    private plan(planId: number): Plan {
        const p = this.plans[planId - 1]
        if (!p) throw new Error(`unknown plan ${planId}`)
        return p
    }
}
