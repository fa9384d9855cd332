// The SOTA engine: QuecThing's MCU upgrade flow (quecthing-at.md §4, §11) from start-up to the
// version report, against a narrow port (port.ts). It never touches bytes on the wire (that is
// src/at) nor flash sectors (src/flash).
//
// The download is driven by the module's events, not by a fixed script: whatever the module
// (re)sends — 10700 after it restarted, 10701, each piece's 10703 — is answered from what the
// image store's journal says is already held. So a module reboot, a lost plan or an MCU power
// cut all resume the same way: at the last checkpoint, whose digest midstate covers every byte
// before it (nothing written is trusted without it), costing at most one checkpoint of re-read.

import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { AtError } from "../at/errors"
import { FlashError } from "../flash/flash"
import { StoreError } from "../flash/store-error"
import { UpgradeLock, upgradeLock } from "../lib/upgrade-lock"
import { StepBudget } from "../lib/step-budget"
import { DigestSet } from "../verify/digest-set"
import { BlockSink } from "./block-sink"
import { BlockWriter } from "./block-writer"
import { EventInbox, EVT_MODULE_RESTART } from "./inbox"
import { csqToDbm, decidePlan } from "./policy"
import { SotaBoot, SotaPlatform, SotaStore } from "./port"
import { blockReadOptions, csq, echoOff, maxBlock, qiotRegister, qiotState, qiotUpdate, readBlock, reportMcuVersion, requestPlan } from "./qiot-commands"
import {
    EVT_ACCESS,
    EVT_AUTH,
    EVT_OTA,
    EVT_SUBSCRIBE,
    OK_CODE,
    OTA_DONE,
    OTA_FAILED,
    OTA_OFFER,
    OTA_PIECE,
    OTA_START,
    OTA_UPDATING,
    OtaOffer,
    OtaPiece,
    OtaStart,
    parseOffer,
    parsePiece,
    parseStart,
    QiotEvent,
} from "./qiot-events"
import { SotaError, SotaReason } from "./reasons"
import { Signal } from "../lib/signal"
import { errText } from "../lib/err-text"

export interface SotaConfig {
    /** The MCU component the plans name, e.g. "STM32". */
    component: string
    allowDowngrade?: boolean
    /** Ask for SHA-256 in 10701 (AT+QIOTOTAREQ=1). Default true. */
    requestSha256?: boolean
    /** Also compare the 10701 CRC field as CRC-32/ISO-HDLC (its algorithm is undocumented). Default false. */
    checkCrc?: boolean
    /** Cap on the block size; the module's AT+QIOTOTARD=? may lower it. Default 1024. */
    blockSize?: number
    /** Journal checkpoint interval, rounded up to whole flash sectors. Default 4096. */
    checkpointBytes?: number
    /** Per AT+QIOTOTARD. Default 3000 ms. */
    readTimeoutMs?: number
    /** Retries of one block before the download fails. Default 3. */
    blockRetries?: number
    /** Waiting for registration events. Default 30 s. */
    registerTimeoutMs?: number
    /** Waiting for 10700 after a request. Default 10 s. */
    offerTimeoutMs?: number
    /** Waiting for 10701 / 10704. Default 60 s. */
    eventTimeoutMs?: number
    /** Waiting for a piece (10703): the module downloads it from the cloud first. Default 120 s. */
    pieceTimeoutMs?: number
    /** Waiting for the module to come back after it restarted or the line dropped. Default 30 s. */
    restartTimeoutMs?: number
    /** Waiting for 10705/10706 after reporting the version. Default 10 s. */
    resultTimeoutMs?: number
    /** How many times a stalled download asks the module again (AT+QIOTOTAREQ) before failing. Default 3. */
    stallRetries?: number
    /** Shared with the module upgrade (src/dfota): only one of the two runs at a time. Default: the global one. */
    lock?: UpgradeLock
    /**
     * Read the next block while the previous one is hashed and written (a background fiber and a
     * second 1 KB buffer). Default true; off, the download is strictly sequential.
     */
    pipeline?: boolean
    /**
     * How hashing yields between 64-byte slices. Default: a real ds.sleep(0), which the VM's
     * opcode budget needs; in Node, where each sleep costs a ≥ 1 ms timer, pass a no-op.
     */
    yielder?: () => Promise<void>
}

export type SotaState =
    | "booting"
    | "registering"
    | "self-test"
    | "confirmed"
    | "rolled-back"
    | "reported"
    | "requesting"
    | "offered"
    | "refused"
    | "downloading"
    | "verifying"
    | "updating"
    | "activating"
    | "rebooting"
    | "failed"
    | "recovering"

export interface SotaProgress {
    state: SotaState
    version: string
    target: string
    bytes: number
    total: number
    reason: SotaReason
    detail: string
}

export type PlanResultKind = "no-plan" | "refused" | "failed" | "rebooting"

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
}

export interface SotaStats {
    /** Payload bytes read with AT+QIOTOTARD in this run. */
    bytesRead: number
    blocks: number
    blockRetries: number
    checkpoints: number
    moduleRestarts: number
    /** Bytes the download started from thanks to the journal (0: from scratch). */
    resumedAt: number
}

/** A block being hashed and written in the background. */
interface WriteJob {
    done: boolean
    error: any
}

/** One download in progress (an interface, not a class: a class costs heap for its prototype). */
interface Download {
    offer: OtaOffer
    /** null until the 10701 */
    start: OtaStart
    digests: DigestSet
    writer: BlockWriter
}

function isOta(e: QiotEvent) {
    return e.type === EVT_OTA || e.type === EVT_MODULE_RESTART
}

export class SotaEngine {
    readonly at: AtClient
    readonly inbox: EventInbox
    readonly stats: SotaStats = { bytesRead: 0, blocks: 0, blockRetries: 0, checkpoints: 0, moduleRestarts: 0, resumedAt: 0 }
    running = ""
    /** The running version has been reported to the module since this start. */
    private reported = false
    private store: SotaStore
    private platform: SotaPlatform
    private cfg: SotaConfig
    private listeners: ((p: SotaProgress) => void)[] = []
    /** Two block buffers: one is read into while the other is hashed and written. */
    private blocks: Buffer[]
    private cur = 0
    private blockSize: number
    private writeDone = new Signal()
    private sink: BlockSink

    constructor(at: AtClient, store: SotaStore, platform: SotaPlatform, config: SotaConfig) {
        this.at = at
        this.store = store
        this.platform = platform
        this.cfg = config
        this.inbox = new EventInbox()
        const inbox = this.inbox
        at.onUrc(line => inbox.urc(line))
        this.blockSize = config.blockSize || 1024
        this.blocks = config.pipeline === false ? [Buffer.alloc(this.blockSize)] : [Buffer.alloc(this.blockSize), Buffer.alloc(this.blockSize)]
        this.sink = new BlockSink(this.blocks[0])
    }

    onProgress(listener: (p: SotaProgress) => void) {
        this.listeners.push(listener)
    }

    private emit(state: SotaState, target: string, bytes: number, total: number, reason?: SotaReason, detail?: string) {
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
        try {
            return await this.startUp()
        } catch (err) {
            const reason = reasonOf(err)
            if (reason === null) throw err
            throw new SotaError(reason === "connection-lost" || reason === "timeout" ? "registration-failed" : reason, errText(err))
        }
    }

    private async startUp(): Promise<StartResult> {
        this.emit("booting", "", 0, 0)
        await this.store.mount()
        const boot: SotaBoot = await this.store.boot()
        this.running = boot.version
        const res: StartResult = { version: boot.version, slot: boot.slot, trial: "none", platform: "", resumable: false }
        await this.recoverModule()
        if (boot.rolledBack) {
            res.trial = "rolled-back"
            this.emit("rolled-back", "", 0, 0, "rolled-back", "the new image was not confirmed")
        }
        if (boot.trial) {
            this.emit("self-test", "", 0, 0)
            if (!(await this.selfTest())) {
                await this.store.reject()
                this.emit("rolled-back", "", 0, 0, "self-test-failed", "self-test failed; back to the confirmed image")
                res.trial = "rolled-back"
                await this.reboot()
                return res
            }
            await this.store.confirm() // persisted before anything reports success (aws#506)
            res.trial = "confirmed"
            this.emit("confirmed", "", 0, 0)
        }
        this.inbox.clear()
        await this.reportVersion()
        if (this.reported && (boot.trial || boot.rolledBack)) {
            const e = await this.inbox.next(
                x => x.type === EVT_OTA && (x.code === OTA_DONE || x.code === OTA_FAILED),
                orDefault(this.cfg.resultTimeoutMs, 10000)
            )
            if (e) res.platform = e.code === OTA_DONE ? "done" : "failed"
        }
        if (this.reported) this.emit("reported", "", 0, 0)
        res.resumable = this.store.journal() !== null
        return res
    }

    /**
     * AT+QIOTMCUVER with retries. A start-up does not fail on it (the image is confirmed by
     * then); checkForUpdate() reports first if it is still owed, since plans depend on it.
     */
    private async reportVersion() {
        const retries = orDefault(this.cfg.blockRetries, 3)
        for (let attempt = 0; !this.reported; attempt++) {
            try {
                await reportMcuVersion(this.at, this.cfg.component, this.running)
                this.reported = true
            } catch (err) {
                if (!(err instanceof AtError) || attempt >= retries) return
                await ds.sleep(1000)
            }
        }
    }

    /** Echo off and registration; after a module restart too. */
    private async bringUpModule() {
        this.emit("registering", "", 0, 0)
        await this.at.resync()
        await echoOff(this.at)
        if ((await qiotState(this.at)) === 8) return
        this.inbox.clear()
        await qiotRegister(this.at)
        const deadline = ds.millis() + orDefault(this.cfg.registerTimeoutMs, 30000)
        let subscribed = false
        while (!subscribed) {
            const e = await this.inbox.next(
                x => x.type === EVT_AUTH || x.type === EVT_ACCESS || x.type === EVT_SUBSCRIBE,
                Math.max(1, deadline - ds.millis())
            )
            if (!e) throw new SotaError("registration-failed", "no registration events")
            if (e.code !== OK_CODE) throw new SotaError("registration-failed", `event ${e.type},${e.code}`)
            if (e.type === EVT_SUBSCRIBE) subscribed = true
        }
    }

    /** At least: the module answers and the platform connection is up; then the application's own test. */
    private async selfTest(): Promise<boolean> {
        try {
            await this.at.command("AT")
            if ((await qiotState(this.at)) !== 8) return false
            if (this.platform.selfTest && !(await this.platform.selfTest())) return false
            return true
        } catch (e) {
            return false
        }
    }

    private async reboot() {
        this.emit("rebooting", "", 0, 0)
        await this.platform.reboot()
    }

    // ---------------------------------------------------------------- plans

    /** Ask the platform for a plan and carry it out (or resume an interrupted one). */
    async checkForUpdate(): Promise<PlanResult> {
        try {
            if (!this.reported) {
                await this.reportVersion()
                if (!this.reported) throw new SotaError("module-error", "the running version could not be reported")
            }
            this.emit("requesting", "", 0, 0)
            await requestPlan(this.at, this.requestSha())
            const offerMs = orDefault(this.cfg.offerTimeoutMs, 10000)
            let e = await this.inbox.next(x => x.type === EVT_OTA && x.code === OTA_OFFER, offerMs)
            if (!e && this.store.journal()) {
                // a download interrupted by our own reset that the module no longer announces:
                // end its stale plan and ask again; the same package resumes from the journal
                await this.tryUpdate(0)
                await this.inbox.next(x => x.type === EVT_OTA && x.code === OTA_FAILED, offerMs)
                await requestPlan(this.at, this.requestSha())
                e = await this.inbox.next(x => x.type === EVT_OTA && x.code === OTA_OFFER, offerMs)
            }
            if (!e) return { result: "no-plan", reason: null, detail: "", target: "" }
            const offer = parseOffer(e)
            e = null // a frame keeps its locals alive: the event's line is not needed during the download
            return await this.handleOffer(offer)
        } catch (err) {
            const reason = reasonOf(err)
            if (reason === null) throw err // not ours: a power cut or the platform's reboot unwinding
            return this.failed(null, reason, errText(err), "")
        }
    }

    /** Wait up to `ms` for a plan the platform pushes by itself (10700), and carry it out. */
    async waitForPlan(ms: number): Promise<PlanResult> {
        let e = await this.inbox.next(x => x.type === EVT_OTA && x.code === OTA_OFFER, ms)
        if (!e) return { result: "no-plan", reason: null, detail: "", target: "" }
        const offer = parseOffer(e)
        e = null // as in checkForUpdate()
        return await this.handleOffer(offer)
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
            const deadline = ds.millis() + periodMs
            r = null
            while (!r && ds.millis() < deadline) {
                const pushed = await this.waitForPlan(Math.max(1, deadline - ds.millis()))
                if (pushed.result !== "no-plan") r = pushed
            }
            if (!r) r = await this.checkForUpdate()
        }
    }

    private requestSha() {
        return this.cfg.requestSha256 === undefined ? true : this.cfg.requestSha256
    }

    /** A 10700 (null when it did not parse): refuse it, or accept it and download. */
    private async handleOffer(offer: OtaOffer): Promise<PlanResult> {
        // a 10705/10706 still queued predates this offer (e.g. the verdict on the version reported
        // at start-up): it must not be taken for the outcome of this plan
        this.inbox.discard(x => x.type === EVT_OTA && (x.code === OTA_DONE || x.code === OTA_FAILED))
        if (!offer) return this.failed(null, "bad-plan", "malformed 10700", "")
        this.emit("offered", offer.target, 0, offer.size)
        const refused = await this.refusal(offer)
        if (refused) return refused
        const lock = this.cfg.lock || upgradeLock
        if (!lock.tryAcquire("sota")) {
            // the module is being upgraded: it cannot download a package now; the plan comes again
            this.emit("refused", offer.target, 0, offer.size, "busy", `held by ${lock.holder()}`)
            return { result: "refused", reason: "busy", detail: `held by ${lock.holder()}`, target: offer.target }
        }
        try {
            await this.beginPlan(offer)
            await this.update(1)
            return await this.download(offer)
        } catch (err) {
            const reason = reasonOf(err)
            if (reason === null) throw err
            if (reason !== "platform-failed") await this.tryUpdate(0) // tell the platform this attempt is over
            return this.failed(offer, reason, errText(err), offer.target)
        } finally {
            lock.release("sota")
        }
    }

    /**
     * The policy's decision on an offer: null to go ahead, or the refusal, already sent to the
     * module. A method of its own so that its objects are gone before the download starts.
     */
    private async refusal(offer: OtaOffer): Promise<PlanResult> {
        let signal = NaN
        try {
            signal = csqToDbm(await csq(this.at))
        } catch (err) {}
        const decision = decidePlan(offer, {
            component: this.cfg.component,
            running: this.running,
            allowDowngrade: !!this.cfg.allowDowngrade,
            battery: await this.platform.battery(),
            signal,
            slotSize: this.store.layout.slotSize,
        })
        if (decision.accept) return null
        await this.tryUpdate(0)
        this.emit("refused", offer.target, 0, offer.size, decision.reason, decision.detail)
        return { result: "refused", reason: decision.reason, detail: decision.detail, target: offer.target }
    }

    /**
     * AT+QIOTUPDATE=<action>. An ERROR is retried after a pause; a timeout is not: the module
     * may have acted, and repeating "next piece" could skip one. The download loop's stall
     * handling repeats it when the expected event does not come.
     */
    private async update(action: number) {
        const retries = orDefault(this.cfg.blockRetries, 3)
        for (let attempt = 0; ; attempt++) {
            try {
                await qiotUpdate(this.at, action)
                return
            } catch (err) {
                if (!(err instanceof AtError)) throw err
                if (err.reason === "timeout") return
                if (err.reason === "module-reboot" || err.reason === "link-lost" || attempt >= retries) throw err
                await ds.sleep(500)
            }
        }
    }

    /** Best effort (refusals, aborts): a failure here changes nothing. */
    private async tryUpdate(action: number) {
        try {
            await qiotUpdate(this.at, action)
        } catch (err) {
            if (!(err instanceof AtError)) throw err
        }
    }

    private failed(offer: OtaOffer, reason: SotaReason, detail: string, target: string): PlanResult {
        this.emit("failed", target, 0, offer ? offer.size : 0, reason, detail)
        return { result: "failed", reason, detail, target }
    }

    // ---------------------------------------------------------------- download

    private async download(offer: OtaOffer): Promise<PlanResult> {
        const dl: Download = { offer, start: null, digests: null, writer: null }
        let waiting = OTA_START
        let lastAction = 1
        let stalls = 0
        while (true) {
            const timeout = waiting === OTA_PIECE ? orDefault(this.cfg.pieceTimeoutMs, 120000) : orDefault(this.cfg.eventTimeoutMs, 60000)
            const e = await this.inbox.next(isOta, timeout)
            if (!e) {
                // the module went quiet: repeat what should have produced the event, then ask for
                // the plan again; the journal makes any repeat cheap
                if (++stalls > orDefault(this.cfg.stallRetries, 3)) throw new SotaError("timeout", `no event ${waiting}`)
                if (stalls === 1) await this.tryUpdate(lastAction)
                else await requestPlan(this.at, this.requestSha())
                continue
            }
            if (e.type === EVT_MODULE_RESTART) {
                await this.moduleRestarted()
                continue
            }
            if (e.code === OTA_FAILED) {
                // the receiving slot stays unbootable; the next plan's startReceive reclaims it
                throw new SotaError("platform-failed", "the platform failed the plan (10706)")
            }
            if (e.code === OTA_OFFER) {
                // re-sent after a module restart or our own request: the same plan goes on
                const again = parseOffer(e)
                if (again && again.target === offer.target && again.size === offer.size) {
                    await this.update(1)
                    lastAction = 1
                    waiting = OTA_START
                }
                continue
            }
            if (e.code === OTA_START) {
                await this.prepare(dl, e)
                waiting = OTA_PIECE
                continue
            }
            if (e.code === OTA_PIECE && dl.start) {
                const piece = parsePiece(e)
                if (!piece || piece.total !== dl.start.length) throw new SotaError("bad-plan", "malformed 10703")
                stalls = 0
                const end = piece.start + piece.length
                if (await this.readPiece(dl, piece)) {
                    if (end < piece.total) {
                        await this.update(2)
                        lastAction = 2
                    } else {
                        await this.verify(dl)
                        await this.update(3)
                        lastAction = 3
                        waiting = OTA_UPDATING
                    }
                }
                continue
            }
            if (e.code === OTA_UPDATING && waiting === OTA_UPDATING) {
                this.emit("activating", offer.target, dl.start.length, dl.start.length)
                await this.store.activate({ allowDowngrade: !!this.cfg.allowDowngrade })
                await this.reboot()
                return { result: "rebooting", reason: null, detail: "", target: offer.target }
            }
        }
    }

    /**
     * Write-ahead: the store records the accepted plan (version and size; the digests come with
     * 10701) before the module is told yes. After a reset at any later instant the journal shows
     * that the module may be in the middle of this plan, so checkForUpdate() can end and restart it.
     */
    private async beginPlan(offer: OtaOffer) {
        const j = this.store.journal()
        if (j && j.version === offer.target && j.total === offer.size) return // resuming this plan
        try {
            await this.store.startReceive({ version: offer.target, size: offer.size }, { allowDowngrade: !!this.cfg.allowDowngrade })
        } catch (err) {
            throw storeFailure(err)
        }
    }

    /** 10701: a new receive, or the resumption of the one the journal describes. */
    private async prepare(dl: Download, e: QiotEvent) {
        const start = parseStart(e)
        if (!start || start.component !== this.cfg.component || start.length !== dl.offer.size)
            throw new SotaError("bad-plan", "10701 does not match the plan")
        if (start.length > this.store.layout.slotSize) throw new SotaError("too-large", `${start.length} bytes`)
        if (dl.start && dl.start.md5 === start.md5 && dl.start.length === start.length) return // repeated 10701
        dl.start = start
        const opts = { sha256: start.sha256.length > 0, crc32: true, budget: new StepBudget(64, this.cfg.yielder) }
        const j = this.store.journal()
        let from = 0
        let digests: DigestSet = null
        if (
            j &&
            j.version === dl.offer.target &&
            j.total === start.length &&
            j.md5 === start.md5 && // "" when only the write-ahead record exists: nothing to resume
            j.sha256 === (start.sha256 || j.sha256) &&
            j.verified > 0
        ) {
            // resume only from a checkpoint boundary (a sector start) with a midstate for it
            digests = DigestSet.restore(j.midstate, opts)
            if (digests && digests.length() === j.verified && j.verified % this.checkpointBytes() === 0) from = j.verified
            else digests = null
        }
        if (!digests) {
            await this.store.startReceive(
                { version: dl.offer.target, size: start.length, md5: start.md5, sha256: start.sha256 || undefined },
                { allowDowngrade: !!this.cfg.allowDowngrade }
            )
            digests = new DigestSet(opts)
            from = 0
        }
        this.stats.resumedAt = from
        dl.digests = digests
        dl.writer = new BlockWriter(this.store, digests, start.length, from, this.checkpointBytes(), this.checkpointer(digests))
        const max = await maxBlock(this.at)
        const unit = this.store.flash.geometry.programUnit
        let size = Math.min(this.blocks[0].length, max > 0 ? max : this.blocks[0].length)
        if (size > unit) size -= size % unit
        this.blockSize = size
        this.emit("downloading", dl.offer.target, from, start.length)
    }

    /**
     * The journal checkpoint for a BlockWriter. Made here, not inline in prepare(): a closure
     * keeps its whole enclosing frame alive, and prepare()'s holds the 10701 event and a copy of
     * the journal, which would then stay on the heap for the whole download.
     */
    private checkpointer(digests: DigestSet) {
        const self = this
        return async (written: number) => {
            await self.store.saveJournal(written, written, digests.save())
            self.stats.checkpoints++
        }
    }

    /**
     * Read the part of a piece not yet held. True when the piece is complete. A module restart
     * or a dropped line returns false after recovery: the module re-sends what it holds.
     *
     * Pipelined: while block k is hashed and written (a background fiber), the read of block
     * k+1 is already on the wire. In the VM a 1 KB flash write over the simulator's channel
     * costs about as much as the 1 KB read on a 115 200-baud UART, so this nearly halves it.
     */
    private async readPiece(dl: Download, piece: OtaPiece): Promise<boolean> {
        const end = piece.start + piece.length
        if (dl.writer.next() < piece.start) throw new SotaError("bad-plan", `piece at ${piece.start}, need ${dl.writer.next()}`)
        const readOpts = blockReadOptions(this.sink, orDefault(this.cfg.readTimeoutMs, 3000))
        const retries = orDefault(this.cfg.blockRetries, 3)
        let readAt = dl.writer.next()
        let job: WriteJob = null
        try {
            while (readAt < end) {
                const off = readAt
                const n = Math.min(this.blockSize, end - off)
                let attempt = 0
                while (true) {
                    let failure: any = null
                    try {
                        this.sink.block = this.blocks[this.cur]
                        const r = await readBlock(this.at, off, n, readOpts)
                        this.stats.bytesRead += this.sink.got
                        if (r.start === off && r.length === n && this.sink.ok && this.sink.got === n) break
                        failure = new SotaError("module-error", `block at ${off}: reply ${r.start},${r.length}`)
                    } catch (err) {
                        if (err instanceof AtError && (err.reason === "module-reboot" || err.reason === "link-lost")) {
                            await this.finishWrite(job)
                            job = null
                            await this.moduleRestarted()
                            return false
                        }
                        if (!(err instanceof AtError)) throw err
                        failure = err
                    }
                    // reads fail once the platform has ended the plan: its 10706 is the real reason
                    if (this.inbox.has(x => x.type === EVT_OTA && x.code === OTA_FAILED))
                        throw new SotaError("platform-failed", "the platform failed the plan (10706) during the download")
                    // on a plain UART a module that restarts mid-reply can have its RDY swallowed by the
                    // stalled payload: a module that is no longer registered has restarted
                    if (attempt === 0 && (await this.sessionLost())) {
                        await this.finishWrite(job)
                        job = null
                        await this.moduleRestarted()
                        return false
                    }
                    if (attempt >= retries) throw new SotaError(reasonOf(failure), errText(failure))
                    attempt++
                    this.stats.blockRetries++
                }
                this.stats.blocks++
                readAt = off + n
                // the previous block must be stored before this one (the writer is sequential)
                await this.finishWrite(job)
                if (this.cfg.pipeline === false) {
                    await this.storeBlock(dl, off, this.blocks[0], n)
                    this.emit("downloading", dl.offer.target, dl.writer.next(), dl.start.length)
                    continue
                }
                job = this.startWrite(dl, off, this.blocks[this.cur], n)
                this.cur = 1 - this.cur
            }
        } finally {
            // never leave a write running behind an error: wait for it (its own failure, if any,
            // is secondary to the one already propagating)
            if (job) while (!job.done) await this.writeDone.wait(1000)
        }
        return true
    }

    /** Did the module lose its platform session (AT+QIOTSTATE? not 8)? False when it cannot tell. */
    private async sessionLost(): Promise<boolean> {
        try {
            return (await qiotState(this.at)) !== 8
        } catch (err) {
            if (!(err instanceof AtError)) throw err
            return false
        }
    }

    /** Hash and write a block in a background fiber (setTimeout starts one in DeviceScript). */
    private startWrite(dl: Download, off: number, block: Buffer, n: number): WriteJob {
        const job: WriteJob = { done: false, error: null }
        const self = this
        setTimeout(async () => {
            try {
                await self.storeBlock(dl, off, block, n)
                self.emit("downloading", dl.offer.target, dl.writer.next(), dl.start.length)
            } catch (err) {
                job.error = err
            }
            job.done = true
            self.writeDone.notify()
        }, 0)
        return job
    }

    /** Wait for a background write; rethrow its failure. */
    private async finishWrite(job: WriteJob) {
        if (!job) return
        while (!job.done) await this.writeDone.wait(1000)
        if (job.error) {
            const e = job.error
            job.error = null
            throw e
        }
    }

    private checkpointBytes(): number {
        const sector = this.store.flash.geometry.sectorSize
        const want = this.cfg.checkpointBytes || 4096
        return Math.max(sector, Math.ceil(want / sector) * sector)
    }

    /** All bytes are in: compare the digests, then let the store check the slot against them. */
    private async verify(dl: Download) {
        const total = dl.start.length
        this.emit("verifying", dl.offer.target, total, total)
        const v = dl.digests.finish()
        let reason: SotaReason = null
        if (v.length !== total) reason = "bad-plan"
        else if (v.md5 !== dl.start.md5) reason = "md5-mismatch"
        else if (dl.start.sha256 && v.sha256 !== dl.start.sha256) reason = "sha256-mismatch"
        else if (this.cfg.checkCrc && dl.start.crc >= 0 && v.crc32 !== dl.start.crc) reason = "crc-mismatch"
        let flashOk = true
        try {
            // the store marks the slot bad when this says no: a mismatch leaves nothing bootable
            // behind. It measured the slot's CRC-32 already: compare it with the bytes received.
            await this.store.markReady(async (slot: number, size: number, crc: number) => {
                flashOk = crc === v.crc32
                return !reason && flashOk
            })
        } catch (err) {
            if (!reason) reason = flashOk ? "flash-error" : "flash-mismatch"
        }
        if (reason) throw new SotaError(reason, `verification of ${total} bytes`)
    }

    /** Write a block (the writer checkpoints on sector boundaries); store failures become "flash-error". */
    private async storeBlock(dl: Download, off: number, block: Buffer, n: number) {
        try {
            await dl.writer.put(off, block, n)
        } catch (err) {
            throw storeFailure(err)
        }
    }

    /** The module restarted or the line dropped mid-download. */
    private async moduleRestarted() {
        this.stats.moduleRestarts++
        this.emit("recovering", "", 0, 0)
        await this.recoverModule()
    }

    /** Bring the module up, waiting for it if it is restarting or the line is down. */
    private async recoverModule() {
        const deadline = ds.millis() + orDefault(this.cfg.restartTimeoutMs, 30000)
        while (true) {
            try {
                await this.bringUpModule()
                return
            } catch (err) {
                if (ds.millis() >= deadline) throw new SotaError("connection-lost", errText(err))
                await ds.sleep(1000)
            }
        }
    }
}

/** A store or flash failure becomes "flash-error"; anything else (a power cut in the simulator) is rethrown as it is. */
function storeFailure(err: any): any {
    if (err instanceof FlashError || err instanceof StoreError) return new SotaError("flash-error", errText(err))
    return err
}

/** A configured number, or its default when not set (0 is a setting). */
function orDefault(v: number, d: number): number {
    return v === undefined ? d : v
}

function reasonOf(err: any): SotaReason {
    if (err instanceof SotaError) return err.reason
    if (err instanceof AtError) {
        if (err.reason === "timeout") return "timeout"
        if (err.reason === "link-lost" || err.reason === "module-reboot" || err.reason === "no-sync") return "connection-lost"
        return "module-error"
    }
    return null
}
