// What a module firmware upgrade (DFOTA) is asked and what it answers: its options, progress,
// reasons and the plain JSON-able result, with the small helpers that fill the result in. Apart
// from dfota.ts (the walk-through) so that a caller can read the vocabulary without the logic.

import { FotaCode, FotaCodeKind, fotaCode } from "./codes"

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

export interface DfotaStats {
    /** +QIND: "FOTA" indications taken (malformed and unknown ones are counted apart). */
    urcs: number
    malformed: number
    unknown: number
    dropped: number
    restarts: number
}

export function newResult(url: string): DfotaResult {
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

export function setCode(res: DfotaResult, kind: FotaCodeKind, code: number) {
    const c: FotaCode = fotaCode(kind, code)
    res.code = code
    res.codeKind = kind
    res.codeName = c.name
    res.codeReason = c.reason
}

export function ms(v: number, d: number): number {
    return v === undefined || v === null ? d : v
}

export function phaseTimeout(phase: string, o: DfotaOptions): number {
    if (phase === "first") return ms(o.startTimeoutMs, 90000)
    if (phase === "download") return ms(o.downloadTimeoutMs, 1800000)
    if (phase === "reboot") return ms(o.rebootTimeoutMs, 300000)
    return ms(o.updateTimeoutMs, 300000)
}
