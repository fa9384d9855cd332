// Where the module fetches its DFOTA package from, checked before anything is sent
// (quecthing-at.md §7, §8):
//   "HTTP://<server>:<port>/<path>"                    port default 80 (HTTPS: 443)
//   "FTP://<user>:<pass>@<server>:<port>/<path>"       port default 21
//   "UFS:<file>"                                       a file already in the module's file system
// Documented limits: the whole URL at most 255 bytes; FTP user, password, server and path at
// most 50 bytes each; a UFS file name at most 128 bytes. Decisions where the guide is silent:
// - the scheme is matched in any case and the text is sent exactly as given;
// - the FTP path limit counts the leading "/" (as the module emulator does);
// - FTP credentials are part of the documented form, so an FTP URL without `user:pass@` is
//   refused; the password may be empty, the user may not; the first '/' ends the server part, so
//   neither may hold a '/', and an '@' in the password is refused (how the module splits it is
//   not documented);
// - HTTP URLs take no credentials (there is no documented form for them);
// - a host is letters, digits, '-', '_' and '.', without empty labels (no IPv6 literals);
// - nothing may hold a control character, a space, a non-ASCII byte or a double quote (the URL
//   travels inside a quoted AT parameter); the path must name something after its "/".
// No RegExp (DeviceScript has none): every check scans with charCodeAt.

/** The rule a location broke. */
export type LocationRule =
    | "empty"
    | "bad-char" // control, space, non-ASCII or '"'
    | "scheme" // not HTTP://, HTTPS://, FTP:// or UFS:
    | "url-too-long" // over 255 bytes
    | "ufs-name-empty"
    | "ufs-name-too-long" // over 128 bytes
    | "ufs-name-bad" // a UFS name with '/' or '\' at its start, or ending in '/'
    | "host-empty"
    | "host-bad" // characters or labels a host name cannot have
    | "host-too-long" // FTP: over 50 bytes
    | "port" // not 1..65535 in 1..5 digits
    | "path-missing" // no "/<something>" after the host
    | "path-too-long" // FTP: over 50 bytes
    | "credentials-missing" // FTP without user:pass@
    | "credentials-unexpected" // HTTP with user@
    | "user-empty"
    | "user-too-long" // over 50 bytes
    | "password-too-long" // over 50 bytes
    | "password-bad" // '@' in the password (the module's split is undocumented)

export type LocationScheme = "http" | "https" | "ftp" | "ufs"

/** A location that passed every check. */
export interface FotaLocation {
    scheme: LocationScheme
    /** The text to send, unchanged. */
    url: string
    /** "" for UFS. */
    host: string
    /** The explicit or default port; 0 for UFS. */
    port: number
    /** "/path" for HTTP and FTP; the file name for UFS. */
    path: string
    user: string
    password: string
}

export const MAX_URL = 255
export const MAX_UFS_NAME = 128
export const MAX_FTP_FIELD = 50

/** A location that broke a rule. Returned (or thrown by requireLocation), never a crash. */
export class LocationError extends Error {
    rule: LocationRule
    constructor(rule: LocationRule, message: string) {
        super(`bad DFOTA location (${rule}): ${message}`)
        this.name = "LocationError"
        this.rule = rule
    }
}

const SLASH = 47
const COLON = 58
const AT = 64
const DOT = 46
const DASH = 45
const UNDERSCORE = 95
const BACKSLASH = 92

/** Does `s` start with `prefix`, ASCII letters in any case? */
function startsNoCase(s: string, prefix: string): boolean {
    if (s.length < prefix.length) return false
    for (let i = 0; i < prefix.length; i++) {
        let c = s.charCodeAt(i)
        if (c >= 97 && c <= 122) c -= 32
        if (c !== prefix.charCodeAt(i)) return false
    }
    return true
}

/** Index of the first `code` in s[from..to), or -1. */
function find(s: string, code: number, from: number, to: number): number {
    for (let i = from; i < to; i++) if (s.charCodeAt(i) === code) return i
    return -1
}

function isDigit(c: number) {
    return c >= 48 && c <= 57
}

function isAlnum(c: number) {
    return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

/** Host: labels of letters, digits, '-' and '_', separated by single dots, no '-' at a label's ends. */
function hostOk(h: string): boolean {
    let labelStart = 0
    for (let i = 0; i <= h.length; i++) {
        const c = i < h.length ? h.charCodeAt(i) : DOT
        if (c === DOT) {
            if (i === labelStart) return false // empty label: leading, trailing or double dot
            if (h.charCodeAt(labelStart) === DASH || h.charCodeAt(i - 1) === DASH) return false
            labelStart = i + 1
        } else if (!isAlnum(c) && c !== DASH && c !== UNDERSCORE) return false
    }
    return true
}

/** Decimal port 1..65535 in 1..5 digits, else -1. */
function portOf(s: string): number {
    if (s.length === 0 || s.length > 5) return -1
    let v = 0
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (!isDigit(c)) return -1
        v = v * 10 + (c - 48)
    }
    return v >= 1 && v <= 65535 ? v : -1
}

function fail(rule: LocationRule, message: string): LocationError {
    return new LocationError(rule, message)
}

/**
 * Check a DFOTA package location. Returns the parsed location, or a LocationError naming the
 * first rule it broke. Never throws.
 */
export function parseLocation(text: string): FotaLocation | LocationError {
    if (text === null || text === undefined || text.length === 0) return fail("empty", "no location")
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (c <= 0x20 || c > 0x7e || c === 34) return fail("bad-char", `character code ${c} at ${i}`)
    }
    if (startsNoCase(text, "UFS:")) {
        const file = text.slice(4)
        if (file.length === 0) return fail("ufs-name-empty", "no file name after UFS:")
        if (file.length > MAX_UFS_NAME) return fail("ufs-name-too-long", `${file.length} bytes, at most ${MAX_UFS_NAME}`)
        const c0 = file.charCodeAt(0)
        if (c0 === SLASH || c0 === BACKSLASH || file.charCodeAt(file.length - 1) === SLASH)
            return fail("ufs-name-bad", "not a file name")
        return { scheme: "ufs", url: text, host: "", port: 0, path: file, user: "", password: "" }
    }
    let scheme: LocationScheme = null
    let from = 0
    let port = 0
    if (startsNoCase(text, "HTTP://")) {
        scheme = "http"
        from = 7
        port = 80
    } else if (startsNoCase(text, "HTTPS://")) {
        scheme = "https"
        from = 8
        port = 443
    } else if (startsNoCase(text, "FTP://")) {
        scheme = "ftp"
        from = 6
        port = 21
    } else return fail("scheme", "not HTTP://, HTTPS://, FTP:// or UFS:")
    if (text.length > MAX_URL) return fail("url-too-long", `${text.length} bytes, at most ${MAX_URL}`)
    const ftp = scheme === "ftp"
    let slash = find(text, SLASH, from, text.length)
    if (slash < 0) slash = text.length
    // authority = [user:pass@]host[:port]
    let user = ""
    let password = ""
    let hostFrom = from
    const at = find(text, AT, from, slash)
    if (at >= 0) {
        if (!ftp) return fail("credentials-unexpected", "an HTTP URL takes no user name")
        const colon = find(text, COLON, from, at)
        if (colon < 0) return fail("credentials-missing", "FTP needs user:password@")
        user = text.slice(from, colon)
        password = text.slice(colon + 1, at)
        if (user.length === 0) return fail("user-empty", "no FTP user name")
        if (user.length > MAX_FTP_FIELD) return fail("user-too-long", `${user.length} bytes, at most ${MAX_FTP_FIELD}`)
        if (password.length > MAX_FTP_FIELD)
            return fail("password-too-long", `${password.length} bytes, at most ${MAX_FTP_FIELD}`)
        hostFrom = at + 1
    } else if (ftp) return fail("credentials-missing", "FTP needs user:password@")
    const portColon = find(text, COLON, hostFrom, slash)
    const host = text.slice(hostFrom, portColon < 0 ? slash : portColon)
    if (host.length === 0) return fail("host-empty", "no server name")
    if (find(host, AT, 0, host.length) >= 0) return fail("password-bad", "'@' in the password")
    if (!hostOk(host)) return fail("host-bad", `"${host}" is not a host name`)
    if (ftp && host.length > MAX_FTP_FIELD) return fail("host-too-long", `${host.length} bytes, at most ${MAX_FTP_FIELD}`)
    if (portColon >= 0) {
        port = portOf(text.slice(portColon + 1, slash))
        if (port < 0) return fail("port", `"${text.slice(portColon + 1, slash)}" is not a port 1-65535`)
    }
    if (slash >= text.length - 1) return fail("path-missing", "no file path after the server")
    const path = text.slice(slash)
    if (ftp && path.length > MAX_FTP_FIELD) return fail("path-too-long", `${path.length} bytes, at most ${MAX_FTP_FIELD}`)
    return { scheme, url: text, host, port, path, user, password }
}

/** parseLocation, throwing the LocationError. */
export function requireLocation(text: string): FotaLocation {
    const r = parseLocation(text)
    if (r instanceof LocationError) throw r
    return r
}
