// The QuecThing Developer Center, as far as SOTA needs it: products, MCU components and their
// versions, packages (full, or delta from one source version), upgrade plans (whitelist,
// blacklist, a strategy of minimum battery and signal), and what each device reported, kept
// as a log that tests and the simulator CLI read. The module emulator is its only client, the
// way a real module talks to the platform over MQTT; the MCU never sees this object.
//
// Rules modelled (quecthing-at.md §3, §4, §9, §10):
// - A full package is offered to any device of the product that reported the component at a
//   version other than the target (any version with a plan's offerRunning, a misconfiguration the
//   MCU must refuse); a delta package only to a device reporting its source version.
// - Whitelist (when not empty) limits a plan to the listed devices; the blacklist wins over it.
// - The strategy (minimum battery %, minimum signal dBm) is not enforced by the platform: it is
//   announced in 10700 and the device decides (the MCU checks it, then confirms or refuses).
// - When several plans apply to one component, a delta plan is offered before a full one, then
//   the oldest plan first.
// - 5 consecutive failures of a device in a plan mark that device's upgrade in the plan as
//   failed; it is not offered again. Success (the device reported the target version) resets
//   the count. A refusal is logged, but is not a failure.

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
    packageId: number
    name?: string
    whitelist?: string[]
    blacklist?: string[]
    /** Minimum battery level in %. Default 30 (as in the walk-through). */
    minBattery?: number
    /** Minimum signal strength in dBm. Default -113 (as in the walk-through). */
    minSignal?: number
    /** Offer the package even to a device that reports its version (a misconfigured plan: the MCU must refuse it). */
    offerRunning?: boolean
}

export interface Plan {
    id: number
    name: string
    packageId: number
    whitelist: string[]
    blacklist: string[]
    minBattery: number
    minSignal: number
    status: "active" | "stopped"
    offerRunning: boolean
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

/** What the platform sends to a device for one component: the data behind 10700/10701. */
export interface Offer {
    planId: number
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

const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$/

export class DevCenter {
    readonly products = new Map<string, ProductSpec & { components: Set<string> }>()
    readonly packages: Package[] = []
    readonly plans: Plan[] = []
    readonly devices = new Map<string, Device>()
    readonly log: LogEntry[] = []
    private planStates = new Map<string, DevicePlanState>()
    private links = new Map<string, DeviceLink>()
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
        const pkg = this.packages[spec.packageId - 1]
        if (!pkg) throw new Error(`unknown package ${spec.packageId}`)
        const plan: Plan = {
            id: this.plans.length + 1,
            name: spec.name || `plan ${this.plans.length + 1}`,
            packageId: pkg.id,
            whitelist: (spec.whitelist || []).slice(),
            blacklist: (spec.blacklist || []).slice(),
            minBattery: spec.minBattery === undefined ? 30 : spec.minBattery,
            minSignal: spec.minSignal === undefined ? -113 : spec.minSignal,
            status: "active",
            offerRunning: !!spec.offerRunning,
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

    /** The MCU versions the module reports (after AT+QIOTMCUVER and at connection). */
    reportVersions(deviceKey: string, versions: [string, string][]) {
        const d = this.devices.get(deviceKey)
        if (!d) return
        d.versions = new Map(versions)
    }

    /** The plan the device should be offered now, or null. Does not log: see notified(). */
    findOffer(deviceKey: string): Offer | null {
        const d = this.devices.get(deviceKey)
        if (!d) return null
        let best: { plan: Plan; pkg: Package } | null = null
        for (const plan of this.plans) {
            const pkg = this.packages[plan.packageId - 1]
            if (!this.eligible(d, plan, pkg)) continue
            if (best === null || (best.pkg.kind === "full" && pkg.kind === "delta")) best = { plan, pkg }
        }
        if (best === null) return null
        const { plan, pkg } = best
        return {
            planId: plan.id,
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

    /** The device's progress in a plan, as the module reports it. */
    report(deviceKey: string, planId: number, step: DeviceStep, extra: { progress?: number; detail?: string } = {}) {
        const plan = this.plan(planId)
        const pkg = this.packages[plan.packageId - 1]
        const st = this.state(planId, deviceKey)
        if (step === "download-start") {
            st.status = "in-progress"
            st.attempts++
        } else if (step === "updated") {
            st.status = "succeeded"
            st.consecutiveFailures = 0
        } else if (step === "failed") {
            st.consecutiveFailures++
            st.status = st.consecutiveFailures >= FAIL_LIMIT ? "failed" : "pending"
        } else if (step === "refused" || step === "notified") {
            if (st.status === "in-progress") st.status = "pending"
        }
        const e: LogEntry = { seq: this.log.length + 1, time: Date.now(), deviceKey, planId, component: pkg.component, step }
        if (extra.progress !== undefined) e.progress = extra.progress
        if (extra.detail !== undefined) e.detail = extra.detail
        this.log.push(e)
    }

    // ---- reading the model ----

    deviceState(planId: number, deviceKey: string): DevicePlanState {
        return { ...this.state(planId, deviceKey) }
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

    private eligible(d: Device, plan: Plan, pkg: Package): boolean {
        if (plan.status !== "active" || pkg.productKey !== d.productKey) return false
        if (plan.blacklist.indexOf(d.deviceKey) >= 0) return false
        if (plan.whitelist.length > 0 && plan.whitelist.indexOf(d.deviceKey) < 0) return false
        const st = this.state(plan.id, d.deviceKey)
        if (st.status === "failed" || st.status === "succeeded") return false
        const current = d.versions.get(pkg.component)
        if (current === undefined || (current === pkg.version && !plan.offerRunning)) return false
        if (pkg.kind === "delta" && current !== pkg.sourceVersion) return false
        return true
    }

    private state(planId: number, deviceKey: string): DevicePlanState {
        const k = `${planId}/${deviceKey}`
        let s = this.planStates.get(k)
        if (!s) {
            s = { status: "pending", consecutiveFailures: 0, attempts: 0 }
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
