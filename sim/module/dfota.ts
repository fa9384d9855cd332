// Module firmware upgrade (DFOTA) with AT+QFOTADL, as the UC20/EP06 DFOTA guides describe it
// (quecthing-at.md §7, §8, §11):
//   AT+QFOTADL="HTTP://host:port/path" → OK, +QIND: "FOTA","HTTPSTART", "HTTPEND",<http_err>;
//   "FTP://user:pass@host:port/path" the same with FTPSTART/FTPEND,<ftp_err>; "UFS:<file>" skips
//   the download. After a successful download the module reboots (the line drops for
//   `rebootMs`), comes back in the updater: "START", "UPDATING",<percent>..., "END",<err>; then
//   it boots the firmware (`finalBootMs`) and says RDY. After "END",0 ATI reports the new revision.
//
// Decisions where the guides are silent:
// - The URL limits of §8 are checked when the command is parsed: the whole URL at most 255
//   bytes (HTTP too); FTP user, password, server and path at most 50 each; the UFS file name at
//   most 128. A violation, a scheme other than HTTP(S)/FTP/UFS, or a second AT+QFOTADL while one
//   runs: ERROR.
// - Download errors: unknown host 714 (HTTP DNS error) / 604 (FTP DNS parse failed); a missing
//   file 723 (HTTP response failed) / 617 (FTP file action not taken); FTP credentials that do
//   not match 625; no PDP context for the fota/cid 708 / 605. A server can script any code.
// - A UFS file that does not exist: "END",504 (package file wrong), no reboot.
// - A delta whose source revision is not the running one: "END",510 after "START", then the
//   old firmware boots again (RDY, same revision). A file can also script an "END" error at a
//   given percent.
// - In the updater the module answers no command (the line is up, URCs only).
// - The line drops once (the reboot into the updater); the boot after "END" keeps it up.
// - `spaced: true` formats the URCs after the reboot as the UC20 guide prints them:
//   `+QIND: "FOTA", "UPDATING", 2`.

import type { QuecModule } from "./module"

export interface FotaFile {
    /** The revision this delta applies to (ATI must report it). */
    fromRevision: string
    /** The revision after the upgrade. */
    toRevision: string
    /** Size in bytes, for the download time. Default 1 MB. */
    size?: number
    /** The update fails with "END",<updateError>... */
    updateError?: number
    /** ...after this UPDATING percent (default: right after START). */
    failAtPercent?: number
}

export interface FotaServer {
    /** path (with leading "/") → file */
    files: Record<string, FotaFile>
    /** FTP login; when set, the URL must carry these. */
    user?: string
    password?: string
    /** Every download from this server ends with this error code. */
    downloadError?: number
}

export interface DfotaOptions {
    /** host name → server, for HTTP and FTP URLs. */
    servers?: Record<string, FotaServer>
    /** From OK to "HTTPSTART"/"FTPSTART" (the guide: within 90 s). Default 0. */
    startMs?: number
    /** Download speed; 0: the download takes no time. Default 0. */
    downloadBytesPerSec?: number
    /** The line is down this long after "HTTPEND",0. Default 1000. */
    rebootMs?: number
    /** The UPDATING percents reported. Default 1..100. */
    percents?: number[]
    /** Between two UPDATING reports. Default 0. */
    stepMs?: number
    /** From "END" to RDY. Default 1000. */
    finalBootMs?: number
    /** Spaces after the commas of the updater's URCs, as the UC20 guide prints them. Default false. */
    spaced?: boolean
}

export type ResolvedDfotaOptions = Required<DfotaOptions>

export function resolveDfotaOptions(o: DfotaOptions = {}): ResolvedDfotaOptions {
    const pct: number[] = []
    for (let i = 1; i <= 100; i++) pct.push(i)
    return {
        servers: o.servers || {},
        startMs: o.startMs || 0,
        downloadBytesPerSec: o.downloadBytesPerSec || 0,
        rebootMs: o.rebootMs === undefined ? 1000 : o.rebootMs,
        percents: o.percents || pct,
        stepMs: o.stepMs || 0,
        finalBootMs: o.finalBootMs === undefined ? 1000 : o.finalBootMs,
        spaced: !!o.spaced,
    }
}

export interface FotaUrl {
    scheme: "HTTP" | "FTP" | "UFS"
    host: string
    port: number
    path: string
    user: string
    password: string
}

/** Parse and check an AT+QFOTADL URL against the documented limits; null if it fails them. */
export function parseFotaUrl(url: string): FotaUrl | null {
    const upper = url.toUpperCase()
    if (upper.startsWith("UFS:")) {
        const file = url.slice(4)
        if (file.length === 0 || file.length > 128) return null
        return { scheme: "UFS", host: "", port: 0, path: file, user: "", password: "" }
    }
    if (url.length > 255) return null
    let scheme: "HTTP" | "FTP"
    let rest: string
    let port: number
    if (upper.startsWith("HTTP://") || upper.startsWith("HTTPS://")) {
        scheme = "HTTP"
        rest = url.slice(url.indexOf("//") + 2)
        port = upper.startsWith("HTTPS") ? 443 : 80
    } else if (upper.startsWith("FTP://")) {
        scheme = "FTP"
        rest = url.slice(6)
        port = 21
    } else return null
    let user = ""
    let password = ""
    const at = rest.lastIndexOf("@", rest.indexOf("/") < 0 ? rest.length : rest.indexOf("/"))
    if (at >= 0) {
        const cred = rest.slice(0, at)
        rest = rest.slice(at + 1)
        const colon = cred.indexOf(":")
        user = colon < 0 ? cred : cred.slice(0, colon)
        password = colon < 0 ? "" : cred.slice(colon + 1)
    }
    const slash = rest.indexOf("/")
    if (slash <= 0) return null
    let host = rest.slice(0, slash)
    const path = rest.slice(slash)
    const colon = host.indexOf(":")
    if (colon >= 0) {
        const p = host.slice(colon + 1)
        if (!/^[0-9]{1,5}$/.test(p) || +p < 1 || +p > 65535) return null
        port = +p
        host = host.slice(0, colon)
    }
    if (host.length === 0 || path.length < 2) return null
    if (scheme === "FTP" && (user.length > 50 || password.length > 50 || host.length > 50 || path.length > 50))
        return null
    return { scheme, host, port, path, user, password }
}

export class Dfota {
    /** True from AT+QFOTADL until the new (or old) firmware has booted. */
    running = false
    private run = 0

    constructor(private m: QuecModule) {}

    /** AT+QFOTADL: false means ERROR. */
    start(url: string): boolean {
        if (this.running) return false
        const u = parseFotaUrl(url)
        if (!u) return false
        this.running = true
        const run = ++this.run
        const o = this.m.opts.dfota
        this.m.afterReply(() => this.m.timer(o.startMs, () => run === this.run && this.download(u)))
        return true
    }

    onPowerLoss() {
        // a reset outside the upgrade's own reboots abandons the download
        if (!this.inOwnReboot) {
            this.running = false
            this.run++
        }
    }

    private inOwnReboot = false

    private urc(text: string, args: (string | number)[]): Promise<void> {
        const sep = this.m.opts.dfota.spaced && this.m.power === "updater" ? ", " : ","
        const parts = ['"FOTA"', `"${text}"`].concat(args.map(a => String(a)))
        return this.m.urc("+QIND: " + parts.join(sep))
    }

    private download(u: FotaUrl) {
        const m = this.m
        const o = m.opts.dfota
        if (u.scheme === "UFS") {
            const f = m.nvm.ufsFiles.get(u.path)
            if (!f) {
                this.urc("END", [504])
                this.running = false
                return
            }
            return this.rebootIntoUpdater(f)
        }
        const http = u.scheme === "HTTP"
        this.urc(http ? "HTTPSTART" : "FTPSTART", [])
        const server = o.servers[u.host]
        let code = 0
        let file: FotaFile | undefined
        if (!m.nvm.pdpContexts.has(m.nvm.fotaCid)) code = http ? 708 : 605
        else if (!server) code = http ? 714 : 604
        else if (server.downloadError) code = server.downloadError
        else if (!http && server.user !== undefined && (server.user !== u.user || (server.password || "") !== u.password))
            code = 625
        else {
            file = server.files[u.path]
            if (!file) code = http ? 723 : 617
        }
        const size = file ? (file.size === undefined ? 1 << 20 : file.size) : 0
        const ms = code === 0 && o.downloadBytesPerSec > 0 ? Math.ceil((size * 1000) / o.downloadBytesPerSec) : 0
        const run = this.run
        m.timer(ms, () => {
            if (run !== this.run) return
            const sent = this.urc(http ? "HTTPEND" : "FTPEND", [code])
            if (code !== 0 || !file) this.running = false
            // the URC crosses the line before the reset cuts it
            else sent.then(() => m.timer(0, () => run === this.run && this.rebootIntoUpdater(file)))
        })
    }

    private rebootIntoUpdater(f: FotaFile) {
        const m = this.m
        const run = this.run
        this.inOwnReboot = true
        m.powerCycle(m.opts.dfota.rebootMs, () => {
            this.inOwnReboot = false
            if (run !== this.run) return
            m.setPower("updater")
            this.update(f, run)
        })
        this.inOwnReboot = false
    }

    private update(f: FotaFile, run: number) {
        const m = this.m
        const o = m.opts.dfota
        this.urc("START", [])
        if (f.fromRevision !== m.nvm.revision) return this.finish(510, run)
        const failAt = f.updateError ? (f.failAtPercent === undefined ? 0 : f.failAtPercent) : -1
        if (failAt === 0) return this.finish(f.updateError, run)
        let i = 0
        const step = () => {
            if (run !== this.run) return
            if (i >= o.percents.length) {
                m.nvm.revision = f.toRevision
                return this.finish(0, run)
            }
            const p = o.percents[i++]
            this.urc("UPDATING", [p])
            if (failAt > 0 && p >= failAt) return this.finish(f.updateError, run)
            m.timer(o.stepMs, step)
        }
        m.timer(o.stepMs, step)
    }

    private finish(err: number, run: number) {
        const m = this.m
        this.urc("END", [err])
        m.timer(m.opts.dfota.finalBootMs, () => {
            if (run !== this.run) return
            this.running = false
            m.boot()
        })
    }
}
