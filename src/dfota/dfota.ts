// The module firmware upgrade (DFOTA) driven by the MCU (quecthing-at.md §7, §8, §11):
//
//   check the location (nothing is sent for a bad one) → take the upgrade lock (SOTA must not run)
//   → ATI (revision before) → AT+QCFG="fota/cid",<cid> → AT+QFOTADL="<url>" → OK
//   → +QIND: "FOTA","HTTPSTART"/"FTPSTART" (first URC within 90 s; UFS: straight to "START")
//   → "HTTPEND"/"FTPEND",<err> (≠ 0: the download failed, the module stays up)
//   → the module reboots into its updater: the line drops or goes quiet
//   → "START", "UPDATING",<percent>..., "END",<err>
//   → RDY (the new firmware, or the old one after a failed update)
//   → resync, ATE0, ATI (revision after) → AT+QIOTREG=1, +QIOTEVT 2,10200 and 3,10200 → success.
//
// Every wait has its own timeout (the longest silence within the stage). Failures come back as a
// typed reason plus the module's code mapped to a name and the guide's meaning; the result is a
// plain JSON-able object. The module's reboot is expected: a dropped line, a silent line and RDY
// are part of the walk-through, not errors. URCs are taken from the AtClient's URC path into a
// small bounded queue only while an upgrade runs.

import * as ds from "@devicescript/core"
import { AtClient, AtResponse } from "../at/client"
import { AtCmeError, AtCommandError, AtError } from "../at/errors"
import { lineFields, linePrefix } from "../at/fields"
import { Signal } from "../lib/signal"
import { UpgradeLock, upgradeLock } from "../lib/upgrade-lock"
import { FotaCode, FotaCodeKind, fotaCode } from "./codes"
import { FotaLocation, LocationError, parseLocation } from "./location"
import { FotaUrc, parseFotaUrc } from "./urc"
import { errText } from "../lib/err-text"

/** Why an upgrade did not succeed. */
export type DfotaReason =
    | "bad-location" // refused before anything was sent; `rule` names the broken rule
    | "bad-option" // refused before anything was sent: an option out of range (`rule` names it)
    | "busy" // the upgrade lock is held (an MCU SOTA download, or another DFOTA run)
    | "module-error" // ATI or AT+QCFG failed before the upgrade began
    | "rejected" // AT+QFOTADL answered ERROR / +CME ERROR
    | "no-start" // OK, but no first +QIND within startTimeoutMs (90 s, as documented)
    | "download-failed" // "HTTPEND"/"FTPEND" with a non-zero code
    | "download-timeout" // the download went silent for downloadTimeoutMs
    | "module-restarted" // RDY in the middle of the download
    | "update-failed" // "END" with a non-zero code
    | "update-timeout" // the updater went silent, but the module answers again
    | "no-return" // the module did not come back (no RDY, no answer to AT)
    | "old-revision" // it came back with the revision it had before
    | "wrong-revision" // it came back with another revision than options.expectedRevision
    | "registration-failed" // the new firmware runs, but the platform connection did not come up

export type DfotaStage =
    | "checking"
    | "configuring"
    | "requesting"
    | "waiting"
    | "downloading"
    | "rebooting"
    | "updating"
    | "restarting"
    | "reconnecting"
    | "registering"
    | "done"
    | "failed"

export interface DfotaProgress {
    stage: DfotaStage
    /** Download or update percent when the module reported one, else -1. */
    percent: number
    detail: string
}

export interface DfotaOptions {
    /** PDP context for the download, AT+QCFG="fota/cid",<cid> (1..16). Default 1. */
    cid?: number
    /** When set, the revision after the upgrade must be exactly this. */
    expectedRevision?: string
    /** Re-register with the platform (AT+QIOTREG=1) when the module is back. Default true. */
    register?: boolean
    /** From OK to the first +QIND. Default 90 000 (the guide: "within 90 s"). */
    startTimeoutMs?: number
    /** Longest silence during the download (between its URCs). Default 1 800 000. */
    downloadTimeoutMs?: number
    /** From the download's end (UFS: the first URC) to the updater's first URC. Default 300 000. */
    rebootTimeoutMs?: number
    /** Longest silence between the updater's URCs. Default 300 000. */
    updateTimeoutMs?: number
    /** From "END" to RDY. Default 300 000. */
    bootTimeoutMs?: number
    /** After RDY (or after bootTimeoutMs without one): time to get OK for AT. Default 30 000. */
    returnTimeoutMs?: number
    /** From AT+QIOTREG=1 to subscribed (3,10200 or AT+QIOTSTATE? = 8). Default 60 000. */
    registerTimeoutMs?: number
    /** Per-command timeout for the commands of the upgrade. Default: the AtClient's. */
    commandTimeoutMs?: number
}

/** The outcome, a plain object (JSON.stringify-able) for logs, the simulator CLI and the application. */
export interface DfotaResult {
    ok: boolean
    /** null on success. */
    reason: DfotaReason
    detail: string
    /** The stage the run ended in ("done" on success). */
    stage: DfotaStage
    url: string
    /** "http", "https", "ftp", "ufs"; "" for a bad location. */
    scheme: string
    /** The broken rule for "bad-location", else "". */
    rule: string
    /** The module's code behind the failure (xEND or END), -1 when none. */
    code: number
    codeKind: FotaCodeKind | ""
    codeName: string
    codeReason: string
    revisionBefore: string
    /** "" when the module did not come back (or the run stopped before the upgrade). */
    revisionAfter: string
    /** The last UPDATING percent, -1 if none. */
    percent: number
    /** The module reached the updater's "END" (whatever its code). */
    updaterEnded: boolean
    registered: boolean
    elapsedMs: number
}

interface QueuedEvent {
    /** "fota" | "rdy" | "qiot" */
    what: string
    fota: FotaUrc
    type: number
    code: number
}

const QUEUE_MAX = 32
const MS_STATE_POLL = 5000

export interface DfotaStats {
    urcs: number
    malformed: number
    unknown: number
    dropped: number
    restarts: number
}

export class ModuleUpgrade {
    readonly at: AtClient
    readonly stats: DfotaStats = { urcs: 0, malformed: 0, unknown: 0, dropped: 0, restarts: 0 }
    private lock: UpgradeLock
    private listeners: ((p: DfotaProgress) => void)[] = []
    private queue: QueuedEvent[] = []
    private signal = new Signal()
    private listening = false
    private cmdMs = 0

    /** `lock` defaults to the process-wide lock shared with the SOTA engine. */
    constructor(at: AtClient, lock?: UpgradeLock) {
        this.at = at
        this.lock = lock || upgradeLock
    }

    onProgress(listener: (p: DfotaProgress) => void) {
        this.listeners.push(listener)
    }

    /** True while run() holds the lock. */
    running(): boolean {
        return this.listening
    }

    /**
     * Upgrade the module's firmware from `location` (HTTP/HTTPS/FTP URL or "UFS:<file>").
     * Never throws for anything the module or the location does: the result says what happened.
     */
    async run(location: string, options?: DfotaOptions): Promise<DfotaResult> {
        const o: DfotaOptions = options || {}
        const t0 = ds.millis()
        const res = newResult(location)
        const loc = parseLocation(location)
        if (loc instanceof LocationError) {
            res.rule = loc.rule
            this.fail(res, "bad-location", loc.message, "checking")
        } else {
            res.scheme = loc.scheme
            if (o.cid !== undefined && !(o.cid >= 1 && o.cid <= 16 && Math.floor(o.cid) === o.cid)) {
                res.rule = "cid"
                this.fail(res, "bad-option", `PDP context ${o.cid} is not 1..16`, "checking")
            } else if (!this.lock.tryAcquire("dfota")) {
                this.fail(res, "busy", `an upgrade is in progress (${this.lock.holder()})`, "checking")
            } else {
                this.queue = []
                this.listening = true
                const self = this
                const unsubscribe = this.at.onUrc(line => self.onUrc(line))
                try {
                    await this.upgrade(loc, o, res)
                } catch (err) {
                    // only a bug can get here: every AT failure is handled where it happens
                    this.fail(res, "module-error", errText(err), "failed")
                } finally {
                    unsubscribe()
                    this.listening = false
                    this.queue = []
                    this.lock.release("dfota")
                }
            }
        }
        res.elapsedMs = ds.millis() - t0
        if (res.ok) this.emit("done", res.percent, res.revisionAfter)
        else this.emit("failed", -1, `${res.reason}: ${res.detail}`)
        return res
    }

    // ---------------------------------------------------------------- the walk-through

    private async upgrade(loc: FotaLocation, o: DfotaOptions, res: DfotaResult) {
        this.cmdMs = o.commandTimeoutMs || 0
        this.emit("checking", -1, "")
        try {
            res.revisionBefore = await this.revision()
        } catch (err) {
            this.fail(res, "module-error", errText(err), "checking")
            return
        }
        this.emit("configuring", -1, "")
        try {
            await this.command(`AT+QCFG="fota/cid",${o.cid || 1}`)
        } catch (err) {
            this.fail(res, "module-error", errText(err), "configuring")
            return
        }
        this.emit("requesting", -1, loc.url)
        this.queue = []
        try {
            await this.command(`AT+QFOTADL="${loc.url}"`)
        } catch (err) {
            const refused = err instanceof AtCommandError || err instanceof AtCmeError
            this.fail(res, refused ? "rejected" : "module-error", errText(err), "requesting")
            return
        }
        await this.follow(loc, o, res)
    }

    /**
     * Follow the +QIND sequence up to "END" (or RDY), then bring the module back and judge.
     * The outcome is in `res`.
     */
    private async follow(loc: FotaLocation, o: DfotaOptions, res: DfotaResult) {
        // "first": waiting for the first URC; "download"; "reboot": download done, updater not yet heard;
        // "update": in the updater
        let phase = "first"
        let sawUpdater = false
        let downloadKind: FotaCodeKind = loc.scheme === "ftp" ? "ftp" : "http"
        this.emit("waiting", -1, "")
        while (true) {
            const waitMs = phaseTimeout(phase, o)
            const e = await this.next(x => x.what === "fota" || x.what === "rdy", waitMs)
            if (!e) {
                if (phase === "first") {
                    this.fail(res, "no-start", `no +QIND: "FOTA" within ${waitMs} ms`, "waiting")
                    return
                }
                if (phase === "download") {
                    this.fail(res, "download-timeout", `download silent for ${waitMs} ms`, "downloading")
                    return
                }
                // rebooting or updating: the updater went silent; is the module there at all?
                const stage: DfotaStage = phase === "update" ? "updating" : "rebooting"
                const back = await this.reconnect(ms(o.returnTimeoutMs, 30000))
                if (!back) {
                    this.fail(res, "no-return", `silent for ${waitMs} ms in the ${phase} stage and no answer to AT`, stage)
                    return
                }
                // it answers: if it finished without telling us, the revision says so
                res.detail = `silent for ${waitMs} ms in the ${phase} stage`
                await this.restore(o, res, true)
                if (res.reason === "old-revision") {
                    this.fail(res, "update-timeout", `silent for ${waitMs} ms in the ${phase} stage; still ${res.revisionAfter}`, stage)
                }
                return
            }
            if (e.what === "rdy") {
                this.stats.restarts++
                if (phase === "download") {
                    this.fail(res, "module-restarted", "RDY during the download", "downloading")
                    return
                }
                if (phase === "update") {
                    // the module booted without an END: the revision will tell
                    res.detail = "RDY without END"
                    await this.afterEnd(o, res, true, true)
                    return
                }
                continue // "first" or "reboot": a module may announce its reboot into the updater
            }
            const u = e.fota
            if (u.kind === "download-start") {
                if (u.protocol === "http" || u.protocol === "ftp") downloadKind = u.protocol
                phase = "download"
                this.emit("downloading", -1, u.stage)
            } else if (u.kind === "downloading") {
                phase = "download"
                this.emit("downloading", u.percent, "")
            } else if (u.kind === "download-end") {
                if (u.protocol === "http" || u.protocol === "ftp") downloadKind = u.protocol
                if (u.code !== 0) {
                    setCode(res, downloadKind, u.code)
                    this.fail(res, "download-failed", `${u.stage},${u.code}: ${res.codeReason}`, "downloading")
                    return
                }
                phase = "reboot"
                this.emit("rebooting", -1, "")
            } else if (u.kind === "start" || u.kind === "updating") {
                if (!sawUpdater) this.emit("updating", 0, "")
                sawUpdater = true
                phase = "update"
                if (u.kind === "updating") {
                    res.percent = u.percent
                    this.emit("updating", u.percent, "")
                }
            } else if (u.kind === "end") {
                res.updaterEnded = true
                if (u.code !== 0) setCode(res, "update", u.code)
                // END before any START and before a download end (UFS:<missing file> → END,504):
                // the updater never ran and the module does not reboot
                await this.afterEnd(o, res, sawUpdater || phase === "reboot", false)
                return
            }
        }
    }

    /** After "END" (or RDY without it): wait for the boot, bring the link back, judge the revision. */
    private async afterEnd(o: DfotaOptions, res: DfotaResult, rebooting: boolean, rdySeen: boolean) {
        let rdy = rdySeen
        if (rebooting && !rdy) {
            this.emit("restarting", -1, "")
            const e = await this.next(x => x.what === "rdy", ms(o.bootTimeoutMs, 300000))
            if (e) {
                rdy = true
                this.stats.restarts++
            }
        }
        if (!(await this.reconnect(ms(o.returnTimeoutMs, 30000)))) {
            if (res.code > 0) {
                this.fail(res, "update-failed", `END,${res.code}: ${res.codeReason}; the module did not come back`, "restarting")
                return
            }
            this.fail(res, "no-return", rdy ? "RDY, but no answer to AT" : "no RDY and no answer to AT", "restarting")
            return
        }
        await this.restore(o, res, true)
    }

    /**
     * The module answers again: echo off, read the revision, register, and decide.
     * `judge`: decide success or failure here (false: the caller already failed the run).
     */
    private async restore(o: DfotaOptions, res: DfotaResult, judge: boolean) {
        this.emit("reconnecting", -1, "")
        this.queue = [] // nothing from before the reboot answers what follows
        try {
            await this.command("ATE0")
            res.revisionAfter = await this.revision()
        } catch (err) {
            if (judge) this.fail(res, "no-return", `the module answers AT but not ATE0/ATI: ${errText(err)}`, "reconnecting")
            return
        }
        let regError = ""
        if (o.register !== false) {
            this.emit("registering", -1, "")
            regError = await this.register(ms(o.registerTimeoutMs, 60000))
            res.registered = regError === ""
        }
        if (!judge) return
        if (res.code > 0) {
            this.fail(res, "update-failed", `END,${res.code}: ${res.codeReason}`, "updating")
            return
        }
        if (res.revisionAfter === res.revisionBefore) {
            this.fail(res, "old-revision", `still ${res.revisionBefore}`, "reconnecting")
            return
        }
        if (o.expectedRevision && res.revisionAfter !== o.expectedRevision) {
            this.fail(res, "wrong-revision", `${res.revisionAfter}, expected ${o.expectedRevision}`, "reconnecting")
            return
        }
        if (regError !== "") {
            this.fail(res, "registration-failed", regError, "registering")
            return
        }
        res.ok = true
        res.reason = null
        res.stage = "done"
        if (res.detail === "") res.detail = `${res.revisionBefore} -> ${res.revisionAfter}`
    }

    // ---------------------------------------------------------------- module commands

    private async command(cmd: string): Promise<AtResponse> {
        if (this.cmdMs > 0) return await this.at.command(cmd, { timeoutMs: this.cmdMs })
        return await this.at.command(cmd)
    }

    /** ATI → the text after "Revision:". */
    private async revision(): Promise<string> {
        const r = await this.command("ATI")
        for (const l of r.lines) {
            if (l.startsWith("Revision:")) {
                const v = l.slice(9).trim()
                if (v.length > 0) return v
            }
        }
        throw new AtError("malformed", "ATI", "no Revision: line")
    }

    /** AT until OK (AtClient.resync), retried until `timeoutMs` has passed. */
    private async reconnect(timeoutMs: number): Promise<boolean> {
        const deadline = ds.millis() + timeoutMs
        while (true) {
            try {
                await this.at.resync()
                return true
            } catch (err) {}
            const left = deadline - ds.millis()
            if (left <= 0) return false
            await ds.sleep(Math.min(1000, left))
        }
    }

    /** "" when subscribed (3,10200, or AT+QIOTSTATE? = 8), else why not. */
    private async register(timeoutMs: number): Promise<string> {
        const deadline = ds.millis() + timeoutMs
        try {
            if ((await this.state()) === 8) return ""
            await this.command("AT+QIOTREG=1")
        } catch (err) {
            return errText(err)
        }
        while (true) {
            const left = deadline - ds.millis()
            if (left <= 0) return `not subscribed within ${timeoutMs} ms`
            const e = await this.next(x => x.what === "qiot", Math.min(left, MS_STATE_POLL))
            if (e) {
                if (e.code !== 10200) return `+QIOTEVT: ${e.type},${e.code}`
                if (e.type === 3) return ""
            } else {
                try {
                    if ((await this.state()) === 8) return ""
                } catch (err) {}
            }
        }
    }

    private async state(): Promise<number> {
        const r = await this.at.command("AT+QIOTSTATE?", { expect: "+QIOTSTATE" })
        return r.fields("+QIOTSTATE").int(0)
    }

    // ---------------------------------------------------------------- events

    private onUrc(line: string) {
        if (!this.listening) return
        let e: QueuedEvent = null
        if (line === "RDY") e = { what: "rdy", fota: null, type: 0, code: 0 }
        else {
            const p = linePrefix(line)
            if (p === "+QIND") {
                const u = parseFotaUrc(line)
                if (!u) return
                if (u.kind === "malformed" || u.kind === "unknown") {
                    if (u.kind === "malformed") this.stats.malformed++
                    else this.stats.unknown++
                    return
                }
                e = { what: "fota", fota: u, type: 0, code: u.code }
            } else if (p === "+QIOTEVT") {
                const f = lineFields(line)
                const type = f.int(0)
                const code = f.int(1)
                if (!(type >= 1 && type <= 3) || isNaN(code)) return
                e = { what: "qiot", fota: null, type, code }
            } else return
        }
        this.stats.urcs++
        if (this.queue.length >= QUEUE_MAX) {
            this.queue.shift()
            this.stats.dropped++
        }
        this.queue.push(e)
        this.signal.notify()
    }

    /** The first queued event `match` accepts, waiting up to `timeoutMs`; null on timeout. */
    private async next(match: (e: QueuedEvent) => boolean, timeoutMs: number): Promise<QueuedEvent> {
        const deadline = ds.millis() + timeoutMs
        while (true) {
            for (let i = 0; i < this.queue.length; i++) {
                const e = this.queue[i]
                if (match(e)) {
                    const rest: QueuedEvent[] = []
                    for (let k = 0; k < this.queue.length; k++) if (k !== i) rest.push(this.queue[k])
                    this.queue = rest
                    return e
                }
            }
            const left = deadline - ds.millis()
            if (left <= 0) return null
            await this.signal.wait(left)
        }
    }

    private emit(stage: DfotaStage, percent: number, detail: string) {
        const p: DfotaProgress = { stage, percent, detail }
        for (const l of this.listeners) {
            try {
                l(p)
            } catch (err) {}
        }
    }

    private fail(res: DfotaResult, reason: DfotaReason, detail: string, stage: DfotaStage) {
        res.ok = false
        res.reason = reason
        res.detail = detail
        res.stage = stage
    }
}

function newResult(url: string): DfotaResult {
    return {
        ok: false,
        reason: null,
        detail: "",
        stage: "checking",
        url,
        scheme: "",
        rule: "",
        code: -1,
        codeKind: "",
        codeName: "",
        codeReason: "",
        revisionBefore: "",
        revisionAfter: "",
        percent: -1,
        updaterEnded: false,
        registered: false,
        elapsedMs: 0,
    }
}

function setCode(res: DfotaResult, kind: FotaCodeKind, code: number) {
    const c: FotaCode = fotaCode(kind, code)
    res.code = code
    res.codeKind = kind
    res.codeName = c.name
    res.codeReason = c.reason
}

function ms(v: number, d: number): number {
    return v === undefined || v === null ? d : v
}

function phaseTimeout(phase: string, o: DfotaOptions): number {
    if (phase === "first") return ms(o.startTimeoutMs, 90000)
    if (phase === "download") return ms(o.downloadTimeoutMs, 1800000)
    if (phase === "reboot") return ms(o.rebootTimeoutMs, 300000)
    return ms(o.updateTimeoutMs, 300000)
}

/**
 * Run one module upgrade over `at` and return its JSON-able result (the simulator CLI's
 * `--module-upgrade URL --json`). `onProgress` receives every stage and percent.
 */
export async function runModuleUpgrade(
    at: AtClient,
    location: string,
    options?: DfotaOptions,
    onProgress?: (p: DfotaProgress) => void,
    lock?: UpgradeLock
): Promise<DfotaResult> {
    const m = new ModuleUpgrade(at, lock)
    if (onProgress) m.onProgress(onProgress)
    return await m.run(location, options)
}
