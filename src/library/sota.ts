// The library's one entry, startSota(options): QuecThing SOTA added to a DeviceScript application.
// The application brings the module's UART (a ByteTransport) and a NOR flash (a Flash, with a
// layout or the default one), and optionally the platform hooks (reboot, battery, self-test) and
// a consent hook; the library builds the AT client, the dual-bank image store and the SOTA agent,
// and runs them in a fiber of their own: start-up after every reset (self-test, confirm or roll
// back, version report), then a plan request now and every `checkEveryMs`, pushed plans in between.
// It reports what happens as typed events: progress (SotaProgressEvent) and outcomes (SotaOutcome).
//
// Portable (vitest runs it with the module emulator, test/library) and DeviceScript (devs build):
// the dialect's rules hold (no getters, no do/while, no closures over loop variables, no `this`
// in arrow functions made in a constructor).
//
// The consent hook is wired through the platform port without touching the agent (src/sota):
// the agent asks the platform for the battery level once per offer, right after it reports the
// offer ("offered"); the library asks the application's consent there, and a refusal reads as a
// battery of -1 %, which the agent's policy refuses below any plan's minimum. The library then
// reports that refusal as reason "declined" (not "low-battery"). A plan the policy refuses for an
// earlier reason (same version, downgrade, another component, ...) keeps that reason: consent may
// be asked for a plan that is then refused anyway.

import { ImageVerifier } from "../sota/image-verifier"
import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { Flash } from "../flash/flash"
import { ImageStore } from "../flash/image-store"
import { StoreLayout } from "../flash/store-config"
import { UpgradeStore } from "../flash/store-port"
import { errText } from "../lib/err-text"
import { startFiber } from "../lib/fiber"
import { PlanResult, SotaEngine, StartResult } from "../sota/engine"
import { SotaPlatform } from "../sota/port"
import { SotaProgress, SotaState, SotaStats } from "../sota/progress"
import { reasonOf, SotaReason } from "../sota/reasons"
import { ByteTransport } from "../link/transport"

/** Why a plan was refused or failed: the agent's reasons, and "declined" (the consent hook said no). */
export type SotaEventReason = SotaReason | "declined"

/** A plan the platform offers, as the consent hook sees it. */
export interface SotaPlan {
    /** The version offered. */
    target: string
    /** The package's size in bytes. */
    size: number
    /** The version running now. */
    running: string
}

/** One step of the agent's work, as it happens. */
export interface SotaProgressEvent {
    /** What the agent is doing: "booting", "registering", "self-test", "confirmed", "requesting", "offered", "downloading", ... */
    state: SotaState
    /** The running version. */
    version: string
    /** The version being installed ("" when none). */
    target: string
    /** Bytes received of `total` while downloading; 0 otherwise. */
    bytes: number
    /** The package's size ("offered", "downloading", "verifying"); 0 otherwise. */
    total: number
    /** Set on "refused", "failed", "rolled-back" and "fault"; null otherwise. */
    reason: SotaEventReason
    /** One line for a person. */
    detail: string
}

/**
 * What a start-up or a plan came to. `kind`:
 * - "started": the agent started after a reset (`result` says whether a new image was confirmed or rolled back);
 * - "plan": a plan request or a pushed plan ended (`result`: no-plan, refused, failed, or rebooting into the new image);
 * - "error": the start-up failed (the module never registered, the store cannot be read): the device
 *   resets after `retryMs` through the reboot hook.
 */
export interface SotaOutcome {
    kind: "started" | "plan" | "error"
    /** "started": the running version. "plan": the target ("" when there was no plan). */
    version: string
    /** "plan": no-plan, refused, failed or rebooting; "started": none, confirmed or rolled-back (the trial); "error": "error". */
    result: string
    /** Why it was refused, failed or rolled back; null otherwise. */
    reason: SotaEventReason
    /** One line for a person ("started": the store's fault when it could not record the boot, else ""). */
    detail: string
    /** "started": the slot the image runs from; -1 otherwise. */
    slot: number
    /** "started": the platform's verdict on the version reported after an upgrade: "done", "failed" or "". */
    platform: string
}

/** The running agent. */
export interface Sota {
    /** Also tell `listener` about every progress event. */
    onProgress(listener: (p: SotaProgressEvent) => void): void
    /** Also tell `listener` about every outcome. */
    onOutcome(listener: (o: SotaOutcome) => void): void
    /** The last progress event (null before the first). */
    last(): SotaProgressEvent
    /** Counters of this boot: bytes read, blocks, retries, checkpoints, module restarts, the offset a download resumed at. */
    stats(): SotaStats
}

/** Timeouts and retries; every one has a default (src/sota/config.ts says which). */
export interface SotaTuning {
    /** Cap on the AT+QIOTOTARD block size; the module may lower it. Default 1024. */
    blockSize?: number
    readTimeoutMs?: number
    blockRetries?: number
    registerTimeoutMs?: number
    offerTimeoutMs?: number
    eventTimeoutMs?: number
    pieceTimeoutMs?: number
    restartTimeoutMs?: number
    resultTimeoutMs?: number
    stallRetries?: number
    /** Ask for SHA-256 in the module's 10701. Default true. */
    requestSha256?: boolean
    /** Read the next block while the previous one is written. Default true. */
    pipeline?: boolean
    /** How hashing yields; default a real ds.sleep(0) (the VM needs it). */
    yielder?: () => Promise<void>
}

export interface SotaOptions {
    /** The module's UART. */
    transport: ByteTransport
    /** The NOR flash that holds the two image slots and the metadata log (or give `store`). */
    flash?: Flash
    /** Where the store lives on `flash`. Default: `defaultLayout(flash)`, the whole device. */
    layout?: StoreLayout
    /** An image store of your own instead of `flash` and `layout`. */
    store?: UpgradeStore
    /** The MCU component the platform's plans name, e.g. "STM32". */
    component: string
    /** This program's own version (what AT+QIOTMCUVER reports). Default: the version the store recorded. */
    version?: string
    /**
     * Restart the MCU. Default: ds.restart() (restarts the program). On a device it does not
     * return; if it returns or throws (a simulator unwinding), the agent stops.
     */
    reboot?: () => Promise<void>
    /** Battery level in percent. Default: 100 (mains power). */
    battery?: () => Promise<number>
    /** The application's check of a new image after its first boot; false rolls it back. Default: passes. */
    selfTest?: () => Promise<boolean>
    /**
     * Called before accepting a plan; return false to refuse it (reported with reason "declined":
     * the platform offers it again later). Default: every plan the agent's policy accepts.
     */
    consent?: (plan: SotaPlan) => Promise<boolean>
    /** Every progress event. */
    onProgress?: (p: SotaProgressEvent) => void
    /** Every outcome. */
    onOutcome?: (o: SotaOutcome) => void
    /** Ask the platform for a plan this often; pushed plans are taken at any time. Default 600 000 ms. */
    checkEveryMs?: number
    /** After a failed start-up, wait this long, then reset through `reboot`. Default 60 000 ms. */
    retryMs?: number
    /** A boot stage chose and checked the image before this program ran: the store only learns its choice. Default false. */
    bootStage?: boolean
    /** Boots a new image gets to confirm itself before it is rolled back. Default 2. */
    trialBoots?: number
    /** Accept plans for lower versions than the running one. Default false. */
    allowDowngrade?: boolean
    /**
     * Signed images: `new SignedImages(keys)` (the library's `signatures` entry), with the Ed25519
     * public keys images must be signed with, e.g. the `TRUSTED_KEYS` module that
     * `npm run image -- keys keys.json -o src/trusted-keys.ts` writes. A downloaded image must
     * carry a KEYHASH naming one of them, a valid ED25519 signature of its SHA-256 and a security
     * counter at least the store's before it is installed (reasons unsigned, unknown-key,
     * bad-signature, counter-too-low); a confirmed image raises the store's counter to its own.
     * Default: none, no signature is checked, and none of the check's ≈ 7 KB of bytecode is in
     * the program (a separate entry, not a `keys` option, for that reason).
     */
    signatures?: ImageVerifier
    /** Timeouts and retries. */
    tuning?: SotaTuning
}

/** Metadata sectors of the default layout. */
const META_SECTORS = 2

/**
 * The default layout on a flash device: 2 metadata sectors at address 0, then two equal slots
 * sharing the rest of the device. Throws when the device cannot hold two slots.
 */
export function defaultLayout(flash: Flash): StoreLayout {
    const g = flash.geometry
    const sec = g.sectorSize
    const slotSectors = Math.floor((Math.floor(g.size / sec) - META_SECTORS) / 2)
    if (slotSectors < 1) throw new Error(`sota: a flash of ${g.size} bytes is too small for two slots`)
    const slot = slotSectors * sec
    return { metaAddress: 0, metaSectors: META_SECTORS, slotAddress: [META_SECTORS * sec, META_SECTORS * sec + slot], slotSize: slot }
}

/** The default reboot: DeviceScript's ds.restart() (the Node shim of @devicescript/core has none). */
function restartProgram() {
    const core: any = ds
    core.restart()
}

/** The platform port the agent sees: the application's hooks, and consent asked through battery(). */
class HookedPlatform implements SotaPlatform {
    agent: Agent
    constructor(agent: Agent) {
        this.agent = agent
    }
    async reboot(): Promise<void> {
        const o = this.agent.options
        this.agent.rebooting = true
        if (o.reboot) await o.reboot()
        else restartProgram()
    }
    async battery(): Promise<number> {
        const a = this.agent
        const o = a.options
        if (o.consent && a.offered) {
            const plan: SotaPlan = { target: a.offered.target, size: a.offered.total, running: a.offered.version }
            let yes = false
            try {
                yes = !!(await o.consent(plan))
            } catch (e) {
                yes = false
            }
            if (!yes) {
                a.declined = plan.target
                return -1
            }
        }
        return o.battery ? await o.battery() : 100
    }
    async selfTest(): Promise<boolean> {
        const o = this.agent.options
        return o.selfTest ? !!(await o.selfTest()) : true
    }
}

class Agent implements Sota {
    options: SotaOptions
    engine: SotaEngine
    /** The offer being decided (its "offered" event), null outside a decision. */
    offered: SotaProgressEvent = null
    /** The target the consent hook declined, until the next offer. */
    declined: string = null
    /** The reboot hook was called: whatever it returns or throws ends this agent. */
    rebooting = false
    private lastEvent: SotaProgressEvent = null
    private progressListeners: ((p: SotaProgressEvent) => void)[] = []
    private outcomeListeners: ((o: SotaOutcome) => void)[] = []

    constructor(options: SotaOptions) {
        this.options = options
        if (options.onProgress) this.progressListeners.push(options.onProgress)
        if (options.onOutcome) this.outcomeListeners.push(options.onOutcome)
        const store = options.store ? options.store : makeStore(options)
        const t: SotaTuning = options.tuning || {}
        const at = new AtClient(options.transport)
        this.engine = new SotaEngine(at, store, new HookedPlatform(this), {
            component: options.component,
            version: options.version,
            blockSize: t.blockSize,
            readTimeoutMs: t.readTimeoutMs,
            blockRetries: t.blockRetries,
            registerTimeoutMs: t.registerTimeoutMs,
            offerTimeoutMs: t.offerTimeoutMs,
            eventTimeoutMs: t.eventTimeoutMs,
            pieceTimeoutMs: t.pieceTimeoutMs,
            restartTimeoutMs: t.restartTimeoutMs,
            resultTimeoutMs: t.resultTimeoutMs,
            stallRetries: t.stallRetries,
            requestSha256: t.requestSha256,
            pipeline: t.pipeline,
            yielder: t.yielder,
            signatures: options.signatures,
        })
        const self = this
        this.engine.onProgress((p: SotaProgress) => self.fromEngine(p))
    }

    onProgress(listener: (p: SotaProgressEvent) => void) {
        this.progressListeners.push(listener)
    }

    onOutcome(listener: (o: SotaOutcome) => void) {
        this.outcomeListeners.push(listener)
    }

    last(): SotaProgressEvent {
        return this.lastEvent
    }

    stats(): SotaStats {
        return this.engine.stats
    }

    /** The agent's progress, with a consent refusal named as such. */
    fromEngine(p: SotaProgress) {
        const e: SotaProgressEvent = { state: p.state, version: p.version, target: p.target, bytes: p.bytes, total: p.total, reason: p.reason, detail: p.detail }
        if (e.state === "offered") {
            this.offered = e
            this.declined = null
        } else {
            this.offered = null
            if (e.state === "refused" && this.isDeclined(e.target, e.reason)) {
                e.reason = "declined"
                e.detail = "the application declined the plan"
            }
        }
        this.lastEvent = e
        for (const l of this.progressListeners) {
            try {
                l(e)
            } catch (err) {}
        }
    }

    private isDeclined(target: string, reason: SotaEventReason): boolean {
        return this.declined !== null && this.declined === target && reason === "low-battery"
    }

    emit(o: SotaOutcome) {
        for (const l of this.outcomeListeners) {
            try {
                l(o)
            } catch (err) {}
        }
    }

    started(s: StartResult) {
        this.emit({ kind: "started", version: s.version, result: s.trial, reason: null, detail: s.storeFault, slot: s.slot, platform: s.platform })
    }

    planned(r: PlanResult) {
        const o: SotaOutcome = { kind: "plan", version: r.target, result: r.result, reason: r.reason, detail: r.detail, slot: -1, platform: "" }
        if (r.result === "refused" && this.isDeclined(r.target, r.reason)) {
            o.reason = "declined"
            o.detail = "the application declined the plan"
        }
        this.emit(o)
    }

    /** The agent's life after a reset: start, then serve plans until one reboots into a new image. */
    async run() {
        const o = this.options
        try {
            const s = await this.engine.start()
            this.started(s)
            // a rolled-back or rejected trial asked for a reboot already; a reboot hook that returns ends the agent
            if (this.lastEvent && this.lastEvent.state === "rebooting") return
            const self = this
            await this.engine.serve(o.checkEveryMs || 600000, (r: PlanResult) => self.planned(r))
        } catch (err) {
            if (this.rebooting) return // a reboot hook that unwinds (a simulator's): this agent is over
            const reason = reasonOf(err)
            this.emit({ kind: "error", version: "", result: "error", reason: reason, detail: errText(err), slot: -1, platform: "" })
            await ds.sleep(o.retryMs === undefined ? 60000 : o.retryMs)
            try {
                await new HookedPlatform(this).reboot()
            } catch (e) {} // a reboot hook that unwinds: this agent is over
        }
    }
}

function makeStore(o: SotaOptions): UpgradeStore {
    if (!o.flash) throw new Error("sota: give `flash` (and optionally `layout`) or `store`")
    const layout = o.layout ? o.layout : defaultLayout(o.flash)
    return new ImageStore(o.flash, layout, { externalBoot: !!o.bootStage, maxTrialBoots: o.trialBoots, allowDowngrade: !!o.allowDowngrade })
}

/**
 * Start the SOTA agent in a fiber of its own and return at once. Call it once per reset, early
 * (a new image must confirm itself before its trial boots run out). Throws at once when the
 * options cannot work (no flash and no store, a layout that does not fit the flash).
 *
 * @example
 * const sota = startSota({ transport: modem, flash: nor, component: "STM32", version: "1_0_0" })
 * sota.onProgress(p => console.log(`${p.state} ${p.bytes}/${p.total}`))
 */
export function startSota(options: SotaOptions): Sota {
    if (!options || !options.transport) throw new Error("sota: `transport` (the module's UART) is required")
    if (!options.component) throw new Error("sota: `component` (the MCU component plans name) is required")
    const agent = new Agent(options)
    startFiber(async () => {
        await agent.run()
    })
    return agent
}
