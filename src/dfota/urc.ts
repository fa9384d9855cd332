// `+QIND: "FOTA",...` URCs as typed events (quecthing-at.md §7, §8, §11):
//   "HTTPSTART" | "FTPSTART"                    the download began
//   "HTTPEND",<err> | "FTPEND",<err>            the download ended (0 = OK)
//   "DOWNLOADING",<percent>                     newer modules (EC200U, EC800K) during the download
//   "START"                                     the updater began
//   "UPDATING",<percent>                        0..100
//   "END",<err>                                 the updater ended (0 = OK)
// Quectel's guide prints some of them with a space after each comma (`+QIND: "FOTA", "UPDATING", 2`);
// the field splitter (src/at/fields.ts) accepts both. A FOTA line with a missing or non-decimal
// number, a percent outside 0..100, or extra fields is "malformed"; an unknown stage is "unknown":
// the driver counts and ignores both, never crashes on them.

import { lineFields, linePrefix } from "../at/fields"

export type FotaUrcKind =
    | "download-start"
    | "download-end"
    | "downloading"
    | "start"
    | "updating"
    | "end"
    | "unknown"
    | "malformed"

export interface FotaUrc {
    kind: FotaUrcKind
    /** For download-start/-end: "http" or "ftp"; "" otherwise. */
    protocol: "http" | "ftp" | ""
    /** The error code of download-end and end; -1 otherwise. */
    code: number
    /** The percent of updating and downloading; -1 otherwise. */
    percent: number
    /** The stage text as sent ("HTTPEND", ...). */
    stage: string
}

function urc(kind: FotaUrcKind, stage: string): FotaUrc {
    return { kind, protocol: "", code: -1, percent: -1, stage }
}

/** Parse one URC line; null when it is not a `+QIND: "FOTA",...` line at all. */
export function parseFotaUrc(line: string): FotaUrc {
    if (linePrefix(line) !== "+QIND") return null
    const f = lineFields(line)
    if (f.values.length < 2 || f.str(0).toUpperCase() !== "FOTA") return null
    const stage = f.str(1)
    const s = stage.toUpperCase()
    const n = f.values.length
    if (s === "HTTPSTART" || s === "FTPSTART" || s === "START") {
        if (n !== 2) return urc("malformed", stage)
        const u = urc(s === "START" ? "start" : "download-start", stage)
        if (s !== "START") u.protocol = s === "HTTPSTART" ? "http" : "ftp"
        return u
    }
    if (s === "HTTPEND" || s === "FTPEND" || s === "END") {
        const code = f.int(2)
        if (n !== 3 || isNaN(code) || code < 0) return urc("malformed", stage)
        const u = urc(s === "END" ? "end" : "download-end", stage)
        if (s !== "END") u.protocol = s === "HTTPEND" ? "http" : "ftp"
        u.code = code
        return u
    }
    if (s === "UPDATING" || s === "DOWNLOADING") {
        const p = f.int(2)
        if (n !== 3 || isNaN(p) || p < 0 || p > 100) return urc("malformed", stage)
        const u = urc(s === "UPDATING" ? "updating" : "downloading", stage)
        u.percent = p
        return u
    }
    return urc("unknown", stage)
}
