// The DFOTA error codes (quecthing-at.md §7, §8: Quectel UC20/UC15 and EP06 DFOTA guides):
// `"FTPEND",<ftp_err>` 0 or 601..630, `"HTTPEND",<http_err>` 0 or 701..730, and the updater's
// `"END",<err>` 0, 502, 504, 505, 510, 511, 520..530, 540..546. Each maps to a stable name (for
// programs) and the guide's meaning (for people). The guide's scan lost some numbers in the FTP
// table from 619 on; the meanings are in the printed order (see the reference).

/** What a module code means. */
export interface FotaCode {
    code: number
    /** Stable machine name, e.g. "dns-error"; "ok" for 0; "unknown-<kind>-<code>" when undocumented. */
    name: string
    /** The guide's meaning. */
    reason: string
    /** False for a code the guides do not list. */
    documented: boolean
}

export type FotaCodeKind = "ftp" | "http" | "update"

// name|meaning, indexed from 601
const FTP = [
    "unknown|unknown error",
    "service-blocked|FTP service blocked",
    "service-busy|FTP service busy",
    "dns-failed|DNS parse failed",
    "network-error|network error",
    "control-closed|control connection closed",
    "data-closed|data connection closed",
    "socket-closed|socket closed by peer",
    "timeout|timeout",
    "invalid-parameter|invalid parameter",
    "open-file-failed|failed to open file",
    "file-position-invalid|file position invalid",
    "file-error|file error",
    "service-unavailable|service not available, closing control connection",
    "data-open-failed|open data connection failed",
    "transfer-aborted|connection closed; transfer aborted",
    "file-action-not-taken|requested file action not taken",
    "local-error|requested action aborted: local error in processing",
    "insufficient-storage|requested action not taken: insufficient system storage",
    "command-unrecognized|syntax error, command unrecognized",
    "argument-syntax|syntax error in parameters or arguments",
    "command-not-implemented|command not implemented",
    "bad-sequence|bad sequence of commands",
    "parameter-not-implemented|command parameter not implemented",
    "login-failed|failed to log in to FTP",
    "account-needed|need account for storing files",
    "action-not-taken|requested action not taken",
    "page-type-unknown|requested action aborted: page type unknown",
    "file-action-aborted|requested file action aborted",
    "file-name-invalid|requested file name invalid",
]

// indexed from 701
const HTTP = [
    "unknown|unknown error",
    "timeout|timeout",
    "busy|busy",
    "uart-busy|UART busy",
    "no-request|no GET/POST request",
    "network-busy|network busy",
    "network-open-failed|network open failed",
    "network-not-configured|network not configured",
    "network-deactivated|network deactivated",
    "network-error|network error",
    "url-error|URL error",
    "url-empty|empty URL",
    "ip-address-error|IP address error",
    "dns-error|DNS error",
    "socket-create-error|socket create error",
    "socket-connect-error|socket connect error",
    "socket-read-error|socket read error",
    "socket-write-error|socket write error",
    "socket-closed|socket closed",
    "data-encode-error|data encode error",
    "data-decode-error|data decode error",
    "read-timeout|read timeout",
    "response-failed|response failed",
    "incoming-call-busy|incoming call busy",
    "voice-call-busy|voice call busy",
    "input-timeout|input timeout",
    "wait-data-timeout|wait-for-data timeout",
    "response-timeout|response timeout",
    "out-of-memory|memory allocation failed",
    "invalid-parameter|invalid parameter",
]

export const FTP_FIRST = 601
export const FTP_LAST = 630
export const HTTP_FIRST = 701
export const HTTP_LAST = 730

/** Every documented non-zero `"END",<err>` code. */
export function updateErrorCodes(): number[] {
    const out = [502, 504, 505, 510, 511]
    for (let c = 520; c <= 530; c++) out.push(c)
    for (let c = 540; c <= 546; c++) out.push(c)
    return out
}

function entry(code: number, text: string): FotaCode {
    const bar = text.indexOf("|")
    return { code, name: text.slice(0, bar), reason: text.slice(bar + 1), documented: true }
}

function unknown(kind: FotaCodeKind, code: number): FotaCode {
    return { code, name: `unknown-${kind}-${code}`, reason: `${kind} error ${code} (not in the DFOTA guide)`, documented: false }
}

const OK: FotaCode = { code: 0, name: "ok", reason: "success", documented: true }

/** `"FTPEND",<code>`. */
export function ftpCode(code: number): FotaCode {
    if (code === 0) return OK
    if (code >= FTP_FIRST && code <= FTP_LAST) return entry(code, FTP[code - FTP_FIRST])
    return unknown("ftp", code)
}

/** `"HTTPEND",<code>`. */
export function httpCode(code: number): FotaCode {
    if (code === 0) return OK
    if (code >= HTTP_FIRST && code <= HTTP_LAST) return entry(code, HTTP[code - HTTP_FIRST])
    return unknown("http", code)
}

/** `"END",<code>` from the updater. */
export function updateCode(code: number): FotaCode {
    if (code === 0) return OK
    if (code === 502) return entry(code, "unpredictable-exit|unpredictable exit of the updater")
    if (code === 504 || code === 505) return entry(code, "package-invalid|the package file is wrong")
    if (code === 510) return entry(code, "source-mismatch|the patch does not match the running firmware")
    if (code === 511) return entry(code, "no-space|not enough space for the upgrade")
    if ((code >= 520 && code <= 530) || (code >= 540 && code <= 546))
        return entry(code, `upgrade-failed|upgrade failed (${code})`)
    return unknown("update", code)
}

/** Any of the three by kind. */
export function fotaCode(kind: FotaCodeKind, code: number): FotaCode {
    if (kind === "ftp") return ftpCode(code)
    if (kind === "http") return httpCode(code)
    return updateCode(code)
}
