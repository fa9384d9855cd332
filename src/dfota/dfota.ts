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
// are part of the walk-through, not errors. URCs are taken from the AtClient's URC path into the
// QuecThing layer's bounded event inbox (src/qiot) only while an upgrade runs; the +QIND lines it
// queues are the FOTA ones this class accepts. The re-registration is the QuecThing session's.

import * as ds from "@devicescript/core"
import { AtClient, offUrc } from "../at/client"
import { AtResponse } from "../at/client-types"
import { AtCmeError, AtCommandError, AtError } from "../at/errors"
import { UpgradeLock, upgradeLock } from "../lib/upgrade-lock"
import { EVT_INDICATION, EVT_MODULE_RESTART, QiotEvent } from "../qiot/events"
import { EventInbox, IndicationFilter } from "../qiot/inbox"
import { subscribe } from "../qiot/session"
import { FotaCodeKind } from "./codes"
import { DfotaOptions, DfotaProgress, DfotaReason, DfotaResult, DfotaStage, DfotaStats, ms, newResult, phaseTimeout, setCode } from "./result"
import { FotaLocation, LocationError, parseLocation } from "./location"
import { parseFotaUrc } from "./urc"
import { errText } from "../lib/err-text"

/** Why an upgrade did not succeed. */

const QUEUE_MAX = 32

function isFotaOrRestart(e: QiotEvent) {
    return e.type === EVT_INDICATION || e.type === EVT_MODULE_RESTART
}

function isRestart(e: QiotEvent) {
    return e.type === EVT_MODULE_RESTART
}


export class ModuleUpgrade implements IndicationFilter {
    readonly at: AtClient
    readonly stats: DfotaStats = { urcs: 0, malformed: 0, unknown: 0, dropped: 0, restarts: 0 }
    private lock: UpgradeLock
    private listeners: ((p: DfotaProgress) => void)[] = []
    /** The events of the run in progress (null between runs). */
    private inbox: EventInbox = null
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
                const inbox = new EventInbox(QUEUE_MAX, this)
                this.inbox = inbox
                this.listening = true
                const handler = (line: string) => inbox.urc(line)
                this.at.onUrc(handler)
                try {
                    await this.upgrade(loc, o, res)
                } catch (err) {
                    // only a bug can get here: every AT failure is handled where it happens
                    this.fail(res, "module-error", errText(err), "failed")
                } finally {
                    offUrc(this.at, handler)
                    this.listening = false
                    this.stats.dropped += inbox.dropped
                    this.inbox = null
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
        this.inbox.clear()
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
            const e = await this.inbox.next(isFotaOrRestart, waitMs)
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
            if (e.type === EVT_MODULE_RESTART) {
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
            const u = parseFotaUrc(e.line)
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
            const e = await this.inbox.next(isRestart, ms(o.bootTimeoutMs, 300000))
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
        this.inbox.clear() // nothing from before the reboot answers what follows
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
            regError = await subscribe(this.at, this.inbox, ms(o.registerTimeoutMs, 60000))
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

    // ---------------------------------------------------------------- events

    /** IndicationFilter: which +QIND lines the inbox queues (the FOTA ones); the others are counted. */
    indication(line: string): boolean {
        const u = parseFotaUrc(line)
        if (!u) return false
        if (u.kind === "malformed") this.stats.malformed++
        else if (u.kind === "unknown") this.stats.unknown++
        else {
            this.stats.urcs++
            return true
        }
        return false
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
