// The SOTA agent: QuecThing's MCU upgrade flow (quecthing-at.md §4, §11) from start-up to the
// version report. It keeps start-up (boot, self-test, confirm or roll back, report) and plans
// (ask, decide, accept or refuse); an accepted plan is a Download (download.ts), the state
// machine that reads it into the store port. It never touches bytes on the wire (src/at, under
// the QuecThing layer src/qiot) nor flash sectors (behind flash/store-port.ts).

import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { AtError } from "../at/errors"
import { BadWhy, UpgradeStore } from "../flash/store-port"
import { errText } from "../lib/err-text"
import { upgradeLock } from "../lib/upgrade-lock"
import { csq, reportMcuVersion, requestPlan, tryPlanAction } from "../qiot/commands"
import { EVT_OTA, isPlanFailed, OTA_DONE, OTA_FAILED, OTA_OFFER, OtaAction, OtaOffer, parseOffer, QiotEvent } from "../qiot/events"
import { EventInbox } from "../qiot/inbox"
import { recover, subscribed } from "../qiot/session"
import { orDefault, requestSha, SotaConfig } from "./config"
import { SotaDeps } from "./deps"
import { Download } from "./download"
import { PieceReader } from "./piece-reader"
import { csqToDbm, decidePlan } from "./policy"
import { SotaPlatform } from "./port"
import { SotaProgress, SotaState, SotaStats } from "./progress"
import { reasonOf, SotaError, SotaReason, storeFailure, whyReason } from "./reasons"

/** "updated": a data component was activated and reported (no reboot; the plan may go on with its next component). */
export type PlanResultKind = "no-plan" | "refused" | "failed" | "rebooting" | "updated"

export interface PlanResult {
    result: PlanResultKind
    reason: SotaReason
    detail: string
    target: string
}

export interface StartResult {
    version: string
    slot: number
    /** "confirmed": a trial image passed its self-test; "rolled-back": it failed or timed out. */
    trial: "none" | "confirmed" | "rolled-back"
    /** The platform's verdict on the reported version after an upgrade: 10705, 10706 or "". */
    platform: "done" | "failed" | ""
    /** A download was interrupted (power cut): checkForUpdate() resumes it. */
    resumable: boolean
    /** The store could not record this boot (its metadata fault, e.g. a worn-out sector): "" when it could. */
    storeFault: string
}

function isOffer(e: QiotEvent) {
    return e.type === EVT_OTA && e.code === OTA_OFFER
}

/** 10708 (multi-component plans): an offer left unanswered was withdrawn. */
const OTA_WITHDRAWN = 10708

function isOfferOrWithdrawn(e: QiotEvent) {
    return e.type === EVT_OTA && (e.code === OTA_OFFER || e.code === OTA_WITHDRAWN)
}

function isVerdict(e: QiotEvent) {
    return e.type === EVT_OTA && (e.code === OTA_DONE || e.code === OTA_FAILED)
}

// ended() and concluded() use only what SotaDeps shows: functions, not methods (a method costs 13 B
// more, its entry in the image's prototype table)

/** The attempt's outcome, when SotaConfig.outcomes keeps them (in the selected component's store). */
async function ended(d: SotaDeps, component: string, from: string, to: string, reason: string) {
    const log = d.cfg.outcomes
    if (log) await log.ended(d, d.store, component, from, to, reason)
}

/** A plan refused or failed: reported (progress state = result) and returned; `offer` null when there was none to name. */
function concluded(d: SotaDeps, result: "refused" | "failed", offer: OtaOffer, reason: SotaReason, detail: string): PlanResult {
    const target = offer ? offer.target : ""
    d.progress(result, target, 0, offer ? offer.size : 0, reason, detail)
    return planResult(result, reason, detail, target)
}

/** Every PlanResult is made here: an object literal costs ~35 B of bytecode at each place that builds one. */
function planResult(result: PlanResultKind, reason: SotaReason, detail: string, target: string): PlanResult {
    return { result, reason, detail, target }
}

export class SotaEngine implements SotaDeps {
    // the fields are internal (read by the module functions at the end, which cost less bytecode than methods)
    readonly at: AtClient
    readonly inbox: EventInbox
    /** The selected component's store: the program's, or a data component's while its plan runs. */
    store: UpgradeStore
    readonly cfg: SotaConfig
    readonly stats: SotaStats = { bytesRead: 0, blocks: 0, blockRetries: 0, checkpoints: 0, moduleRestarts: 0, resumedAt: 0, packageKind: 0 }
    running = ""
    /** The running version has been reported to the module since this start. */
    reported = false
    platform: SotaPlatform
    listeners: ((p: SotaProgress) => void)[] = []
    /** Made once: its two block buffers live as long as the agent (no 2 KB churn per plan). */
    reader: PieceReader
    /** The program's store (the component `cfg.component`). */
    program: UpgradeStore
    /** When serve() asks for a plan by itself (ds.millis(); 0: none): a consent's "later until T". */
    askAt = 0

    constructor(at: AtClient, store: UpgradeStore, platform: SotaPlatform, config: SotaConfig) {
        this.at = at
        this.store = store
        this.program = store
        this.cfg = config
        this.platform = platform
        const inbox = new EventInbox()
        this.inbox = inbox
        at.onUrc(line => inbox.urc(line))
        this.reader = new PieceReader(this)
    }

    onProgress(listener: (p: SotaProgress) => void) {
        this.listeners.push(listener)
    }

    /** SotaDeps' ProgressSink: every part of the agent reports here; listeners' failures are theirs. */
    progress(state: SotaState, target: string, bytes: number, total: number, reason?: SotaReason, detail?: string) {
        const p: SotaProgress = { state, version: this.running, target, bytes, total, reason: reason || null, detail: detail || "" }
        for (const l of this.listeners) {
            try {
                l(p)
            } catch (e) {}
        }
    }

    // ---------------------------------------------------------------- start-up

    /**
     * After every reset: choose the image (the store), bring the module up and register, prove a
     * trial image (confirm it, or roll back and reboot), then report the running version.
     */
    async start(): Promise<StartResult> {
        // one method, not start() around a startUp(): a method costs 16 B of descriptor + 11 B of prototype table
        try {
            this.progress("booting", "", 0, 0)
            await this.store.mount()
            const boot = await this.store.boot()
            // the program's own version when it knows it (compiled in): the store's record must agree
            const program = this.cfg.version || boot.version
            this.running = program
            const res: StartResult = { version: program, slot: boot.slot, trial: "none", platform: "", resumable: false, storeFault: "" }
            // the confirmed image runs unrecorded: say why, not "not confirmed"
            if (boot.metaFault) res.storeFault = errText(boot.metaFault)
            this.progress("registering", "", 0, 0)
            const why = await this.reconnect()
            if (why) throw new SotaError("registration-failed", why)
            if (boot.rolledBack) {
                res.trial = "rolled-back"
                if (res.storeFault) this.progress("rolled-back", "", 0, 0, "flash-error", `the store cannot record a boot: ${res.storeFault}`)
                else if (boot.why) this.progress("rolled-back", boot.failedVersion, 0, 0, whyReason(boot.why), `${boot.failedVersion} was not kept`)
                else this.progress("rolled-back", "", 0, 0, "rolled-back", "the new image was not confirmed")
            }
            if (program !== boot.version) {
                const detail = `the program is ${program}, the store recorded ${boot.version}`
                if (boot.trial) {
                    await this.store.reject(BadWhy.VersionMismatch)
                    this.progress("rolled-back", boot.version, 0, 0, "version-mismatch", detail)
                    res.trial = "rolled-back"
                    await reboot(this)
                    return res
                }
                this.progress("fault", "", 0, 0, "version-mismatch", detail)
            }
            if (boot.trial) {
                this.progress("self-test", "", 0, 0)
                // at least: the module answers and the platform connection is up; then the application's own test
                let passed = false
                try {
                    await this.at.command("AT")
                    passed = (await subscribed(this.at)) && (!this.platform.selfTest || (await this.platform.selfTest()))
                } catch (e) {}
                if (!passed) {
                    await this.store.reject()
                    this.progress("rolled-back", "", 0, 0, "self-test-failed", "self-test failed; back to the confirmed image")
                    res.trial = "rolled-back"
                    await reboot(this)
                    return res
                }
                // persisted before anything reports success (aws#506); the security counter rises only here
                const sig = this.cfg.signatures
                await this.store.confirm(sig ? await sig.runningCounter(this.store) : undefined)
                res.trial = "confirmed"
                this.progress("confirmed", "", 0, 0)
            }
            this.inbox.clear()
            await reportVersion(this)
            // one test of `reported` for the steps that need it (each `&&` costs ~15 B of jumps)
            if (this.reported) {
                if (boot.trial || boot.rolledBack) {
                    const e = await this.inbox.next(isVerdict, orDefault(this.cfg.resultTimeoutMs, 10000))
                    if (e) res.platform = e.code === OTA_DONE ? "done" : "failed"
                }
                // issue 20's optional ports: the data components' versions, then the outcomes
                const comps = this.cfg.components
                if (comps) await comps.bootAll(this)
                const log = this.cfg.outcomes
                if (log) await log.started(this, boot.why, boot.failedVersion, res.trial === "confirmed")
                // the failure is told (the old version reported): keep it as the last outcome, not as news
                if (boot.why) await this.store.reported()
                this.progress("reported", "", 0, 0)
            }
            res.resumable = this.store.interrupted()
            return res
        } catch (err) {
            const reason = reasonOf(err)
            if (reason === null) throw err
            throw new SotaError(reason === "connection-lost" || reason === "timeout" ? "registration-failed" : reason, errText(err))
        }
    }

    /** SotaDeps': bring the module back after a reset or a dropped line (registered again); "" or why not. */
    async reconnect(): Promise<string> {
        return await recover(this.at, this.inbox, orDefault(this.cfg.registerTimeoutMs, 30000), orDefault(this.cfg.restartTimeoutMs, 30000))
    }

    // ---------------------------------------------------------------- plans

    /** Ask the platform for a plan and carry it out (or resume an interrupted one). */
    async checkForUpdate(): Promise<PlanResult> {
        this.store = this.program
        try {
            if (!this.reported) {
                await reportVersion(this)
                if (!this.reported) throw new SotaError("module-error", "the running version could not be reported")
            }
            this.progress("requesting", "", 0, 0)
            const offerMs = orDefault(this.cfg.offerTimeoutMs, 10000)
            // a download interrupted by our own reset that the module no longer announces (it waits
            // for reads or for "all read"): end its stale plan and ask again; the same package resumes
            // from the journal. At once when the module had started it (the journal holds its 10701's
            // digests, or the slot is verified); after a request otherwise (the offer may be unanswered)
            const j = this.store.journal()
            const comps = this.cfg.components
            const stale = (this.store.interrupted() && !(j && j.md5 === "")) || (comps && comps.interrupted(true))
            if (stale) await this.endPlan()
            // an offer already here (the platform pushes a plan's next component after a version
            // report) is the plan: a request would bring it twice, and the second would look like a restart
            let e = await this.inbox.next(isOffer, 0)
            if (!e) {
                await requestPlan(this.at, requestSha(this.cfg))
                e = await this.inbox.next(isOffer, offerMs)
            }
            if (!e && !stale && (this.store.interrupted() || (comps && comps.interrupted(false)))) {
                await this.endPlan()
                await requestPlan(this.at, requestSha(this.cfg))
                e = await this.inbox.next(isOffer, offerMs)
            }
            if (!e) return planResult("no-plan", null, "", "")
            const offer = parseOffer(e)
            e = null // a frame keeps its locals alive: the event's line is not needed during the download
            return await handleOffer(this, offer)
        } catch (err) {
            const reason = reasonOf(err)
            if (reason === null) throw err // not ours: a power cut or the platform's reboot unwinding
            return concluded(this, "failed", null, reason, errText(err))
        }
    }

    /**
     * SotaDeps': AT+QIOTUPDATE=0 on a plan the module may still hold; its 10706 (when it had one)
     * is awaited (up to the offer timeout) so that it ends nothing later.
     */
    async endPlan() {
        if (await tryPlanAction(this.at, OtaAction.Refuse)) await this.inbox.next(isPlanFailed, orDefault(this.cfg.offerTimeoutMs, 10000))
    }

    /** Wait up to `ms` for a plan the platform pushes by itself (10700), and carry it out. */
    async waitForPlan(ms: number): Promise<PlanResult> {
        let e = await this.inbox.next(isOfferOrWithdrawn, ms)
        if (!e) return planResult("no-plan", null, "", "")
        // 10708: the platform withdrew an offer left unanswered (a failure on its side): ask again; serve() takes the answer
        if (e.code === OTA_WITHDRAWN) {
            await requestPlan(this.at, requestSha(this.cfg))
            return planResult("no-plan", null, "", "")
        }
        const offer = parseOffer(e)
        e = null // as in checkForUpdate()
        return await handleOffer(this, offer)
    }

    /**
     * The device's loop after start(): ask for a plan now and then every `periodMs`, and carry
     * out plans the platform pushes in between. `onPlan` sees every result. Returns when a plan
     * ends in a reboot (on a device, reboot() does not return at all).
     */
    async serve(periodMs: number, onPlan?: (r: PlanResult) => void): Promise<PlanResult> {
        let r = await this.checkForUpdate()
        while (true) {
            if (onPlan) onPlan(r)
            if (r.result === "rebooting") return r
            let deadline = ds.millis() + periodMs
            // a consent's "later until T": ask by itself at T
            if (this.askAt && this.askAt < deadline) deadline = this.askAt
            this.askAt = 0
            r = null
            while (!r && ds.millis() < deadline) {
                const pushed = await this.waitForPlan(Math.max(1, deadline - ds.millis()))
                if (pushed.result !== "no-plan") r = pushed
            }
            if (!r) r = await this.checkForUpdate()
        }
    }
}

/**
 * AT+QIOTMCUVER with retries. A start-up does not fail on it (the image is confirmed by
 * then); checkForUpdate() reports first if it is still owed, since plans depend on it.
 */
async function reportVersion(eng: SotaEngine) {
    const retries = orDefault(eng.cfg.blockRetries, 3)
    for (let attempt = 0; !eng.reported; attempt++) {
        try {
            await reportMcuVersion(eng.at, eng.cfg.component, eng.running)
            eng.reported = true
        } catch (err) {
            if (!(err instanceof AtError) || attempt >= retries) return
            await ds.sleep(1000)
        }
    }
}

async function reboot(eng: SotaEngine) {
    eng.progress("rebooting", "", 0, 0)
    await eng.platform.reboot()
}

/** A 10700 (null when it did not parse): refuse it, or accept it and download. */
async function handleOffer(eng: SotaEngine, offer: OtaOffer): Promise<PlanResult> {
    // a 10705/10706 still queued predates this offer (e.g. the verdict on the version reported
    // at start-up): it must not be taken for the outcome of this plan
    eng.inbox.discard(isVerdict)
    if (!offer) return concluded(eng, "failed", null, "bad-plan", "malformed 10700")
    eng.progress("offered", offer.target, 0, offer.size)
    // the component the plan names: the program, or a data component with a store of its own
    const comps = eng.cfg.components
    const data = comps && offer.component !== eng.cfg.component ? comps.named(offer.component) : null
    let component = eng.cfg.component
    let running = eng.running
    // checkForUpdate() selects the program's again
    eng.store = eng.program
    if (data) {
        component = data.name
        running = comps.versionOf(component)
        eng.store = data.store
    }
    const refused = await refusal(eng, offer, component, running)
    if (refused) return refused
    const lock = eng.cfg.lock || upgradeLock
    if (!lock.tryAcquire("sota")) {
        // the module is being upgraded: it cannot download a package now; the plan comes again
        const busy = concluded(eng, "refused", offer, "busy", `held by ${lock.holder()}`)
        await ended(eng, component, running, offer.target, "busy")
        return busy
    }
    try {
        // write-ahead: the store records the accepted plan (version and size; the digests come
        // with 10701) before the module is told yes. After a reset at any later instant the
        // journal shows that the module may be in the middle of this plan, so checkForUpdate()
        // can end and restart it. Resuming this plan, or a new receive:
        const j = eng.store.journal()
        if (!(j && j.version === offer.target && j.total === offer.size)) {
            try {
                await eng.store.startReceive({ version: offer.target, size: offer.size })
            } catch (err) {
                throw storeFailure(err)
            }
        }
        // what ran before (also on a resume: a cut may have come before it): the confirm after the reboot makes this the success (outcomes.ts)
        await ended(eng, component, running, offer.target, "pending")
        const gate = eng.cfg.consent
        await new Download(eng, eng.reader, offer, data ? 2 : gate ? 1 : 0).run()
        if (data) {
            await eng.cfg.components.apply(eng, data, offer.target)
            await ended(eng, component, running, offer.target, "")
            return planResult("updated", null, "", offer.target)
        }
        if (gate) {
            // download now, reboot later: an activation window, or the application's moment (the module waits for the version)
            await gate.activation(eng, offer.target)
            await eng.program.activate()
        }
        await reboot(eng)
        return planResult("rebooting", null, "", offer.target)
    } catch (err) {
        const reason = reasonOf(err)
        if (reason === null) throw err
        if (reason !== "platform-failed") await tryPlanAction(eng.at, OtaAction.Refuse) // tell the platform this attempt is over
        await ended(eng, component, running, offer.target, reason)
        return concluded(eng, "failed", offer, reason, errText(err))
    } finally {
        lock.release("sota")
    }
}

/**
 * The policy's decision on an offer: null to go ahead, or the refusal, already sent to the
 * module. A method of its own so that its objects are gone before the download starts.
 */
async function refusal(eng: SotaEngine, offer: OtaOffer, component: string, running: string): Promise<PlanResult> {
    let signal = NaN
    try {
        signal = csqToDbm(await csq(eng.at))
    } catch (err) {}
    const decision = decidePlan(offer, {
        component,
        running,
        allowDowngrade: eng.store.allowDowngrade,
        battery: await eng.platform.battery(),
        signal,
        slotSize: eng.store.slotSize,
        failed: eng.store.failedTrial(),
        rebuilds: !!eng.cfg.rebuilder && component === eng.cfg.component,
    })
    // the application's say comes after the policy's (whose reasons win)
    if (decision.accept) {
        const gate = eng.cfg.consent
        if (!gate) return null
        const v = await gate.decide(eng, offer, running)
        if (!v) return null
        decision.reason = v.reason
        decision.detail = v.detail
        if (v.againMs >= 0) eng.askAt = ds.millis() + v.againMs
    }
    await tryPlanAction(eng.at, OtaAction.Refuse)
    const refused = concluded(eng, "refused", offer, decision.reason, decision.detail)
    // a plan for a component this device does not have has no store to keep its outcome
    if (decision.reason !== "not-our-component") await ended(eng, component, running, offer.target, decision.reason)
    return refused
}
