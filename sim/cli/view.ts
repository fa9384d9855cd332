// What a person sees: the state changes, a progress bar for the download (and for a module
// upgrade's download and update), the AT dialogue with --trace, warnings on stderr, and a closing
// summary whose first rows are the same for every kind of run. With --json only the summary, as
// one JSON line at the end of stdout; the progress then goes to stderr when stderr is a terminal
// (or with --progress), so stdout stays one JSON line. Warnings always go to stderr.
// A wait: every stretch of the run that may be long (building the firmware, waiting for the devs
// hub, the VM booting, each SOTA state: waiting for an offer, for the next block, ...) is named
// with wait(); when the run has shown nothing for 2 s inside a wait, one plain status line says
// what it is waiting for (`sim: <what>…`, on stderr), once per wait.

import type { SotaProgress, SotaState } from "../../src/sota/progress"
import type { DfotaProgress } from "../../src/dfota/result"
import type { CommonSummary } from "./summary"

const BAR = 30
/** A wait longer than this without anything shown gets its status line. */
export const STATUS_AFTER_MS = 2000

/** What a run in each SOTA state waits for (the status line of a state that lasts). */
const STATE_WAITS: Partial<Record<SotaState, string>> = {
    booting: "the firmware is starting up",
    registering: "waiting for the module to register on the platform",
    reported: "waiting for the platform",
    requesting: "waiting for an offer (the platform's plan)",
    offered: "waiting for the download to start",
    downloading: "waiting for the next block",
    verifying: "verifying the image",
    updating: "rebuilding the image from the package",
    activating: "activating the new image",
    rebooting: "rebooting",
    "self-test": "running the self-test",
    confirmed: "reporting the new version",
    recovering: "recovering",
    refused: "reporting the outcome",
    failed: "reporting the outcome",
    "rolled-back": "reporting the rollback",
    fault: "going on after a fault",
}

export interface ViewOptions {
    /** Under --json, the progress (what the text view prints, and the status lines) goes to stderr. Default: false (the summary alone). */
    progressOnStderr?: boolean
    /** Redraw the bar in place (a terminal). Default: stdout is a terminal (and not --json). */
    tty?: boolean
    /** A wait gets its status line after this long without output. Default STATUS_AFTER_MS. */
    statusAfterMs?: number
}

export class View {
    private lastState = ""
    private lastPercent = -1
    private barOpen = false
    private tty: boolean
    /** Where the progress goes: stdout, stderr under --json with progressOnStderr, else nowhere. */
    private show: ((s: string) => void) | null
    private waiting: string | null = null
    private waitSaid = false
    private silence: NodeJS.Timeout | null = null
    private statusAfterMs: number

    constructor(
        readonly json: boolean,
        private out: (s: string) => void = s => process.stdout.write(s),
        private err: (s: string) => void = s => process.stderr.write(s),
        options: ViewOptions = {}
    ) {
        this.show = !json ? out : options.progressOnStderr ? err : null
        this.tty = options.tty ?? (!json && !!process.stdout.isTTY)
        this.statusAfterMs = options.statusAfterMs ?? STATUS_AFTER_MS
    }

    line(text: string) {
        if (!this.show) return
        this.closeBar()
        this.show(text + "\n")
        this.heard()
    }

    /**
     * The run now waits for `what` (null: for nothing, e.g. at its end). If nothing is shown for
     * statusAfterMs inside the wait, one status line on stderr says what it waits for.
     */
    wait(what: string | null) {
        if (what === this.waiting) return
        this.waiting = what
        this.waitSaid = false
        if (what === null) {
            if (this.silence) clearTimeout(this.silence)
            this.silence = null
            return
        }
        this.heard()
    }

    /** Something happened (shown or not): the silence starts again. */
    private heard() {
        if (this.waiting === null || this.waitSaid || (this.json && !this.show)) return
        if (this.silence) this.silence.refresh()
        else {
            this.silence = setTimeout(() => this.status(), this.statusAfterMs)
            this.silence.unref() // never what keeps the process alive
        }
    }

    private status() {
        this.silence = null
        if (this.waiting === null || this.waitSaid) return
        this.waitSaid = true
        this.closeBar()
        this.err(`sim: ${this.waiting}…\n`)
    }

    trace(text: string) {
        this.line(`  ${text}`)
    }

    /** Something the person should know even under --json: on stderr. */
    warn(text: string) {
        this.closeBar()
        this.err(`sim: warning: ${text}\n`)
    }

    progress(p: SotaProgress) {
        this.wait(STATE_WAITS[p.state] ?? `after "${p.state}"`)
        this.heard()
        if (!this.show) return
        if (p.state === "downloading" && p.total > 0) return this.download(p)
        if (p.state === this.lastState && p.state !== "failed") return
        this.lastState = p.state
        this.lastPercent = -1
        const what: string[] = [p.state]
        if (p.target) what.push(`→ ${p.target}`)
        if (p.state === "offered" || p.state === "verifying") what.push(`(${p.total} bytes)`)
        if (p.reason) what.push(`[${p.reason}] ${p.detail}`)
        this.line(`${stamp()} ${p.version || "?"}: ${what.join(" ")}`)
    }

    /** A module upgrade's stages, one line each; the download and update percentages as a bar. */
    moduleProgress(p: DfotaProgress) {
        this.wait(`waiting for the module: ${p.stage}${p.detail ? ` (${p.detail})` : ""}`)
        this.heard()
        if (!this.show) return
        if (p.stage !== this.lastState) {
            this.lastState = p.stage
            this.lastPercent = -1
            this.line(`${stamp()} module: ${p.stage}${p.detail ? ` (${p.detail})` : ""}`)
        }
        if (p.percent >= 0 && (p.stage === "downloading" || p.stage === "updating")) this.bar(p.percent, "")
    }

    private download(p: SotaProgress) {
        if (this.lastState !== "downloading") {
            this.lastState = "downloading"
            this.lastPercent = -1
            this.line(`${stamp()} ${p.version}: downloading → ${p.target} (${p.total} bytes)`)
        }
        this.bar(Math.floor((100 * p.bytes) / p.total), `  ${p.bytes}/${p.total}`)
    }

    /** One bar redrawn in place on a terminal; otherwise a line each time it crosses a tenth (0 %, 10 % … 100 %). */
    private bar(pct: number, tail: string) {
        if (pct === this.lastPercent) return
        if (!this.tty && this.lastPercent >= 0 && Math.floor(pct / 10) === Math.floor(this.lastPercent / 10) && pct !== 100) return
        this.lastPercent = pct
        const full = Math.round((BAR * pct) / 100)
        const text = `  [${"#".repeat(full)}${".".repeat(BAR - full)}] ${String(pct).padStart(3)}%${tail}`
        if (this.tty) {
            this.show(`\r${text}`)
            this.barOpen = true
        } else this.show(text + "\n")
    }

    private closeBar() {
        if (this.barOpen) this.show("\n")
        this.barOpen = false
    }

    summary(s: CommonSummary) {
        this.wait(null)
        if (this.json) {
            this.out(JSON.stringify(s) + "\n")
            return
        }
        this.closeBar()
        const rows = [...commonRows(s), ...specificRows(s as any)]
        this.out("\nsummary\n" + rows.map(([k, v]) => `  ${k.padEnd(8)} ${v}`).join("\n") + "\n")
    }
}

type Row = [string, string]

/** The rows every run has, in this order. */
function commonRows(s: CommonSummary): Row[] {
    const what = s.run === "module-upgrade" ? "module" : "MCU"
    const health = s.healthy === null ? "unknown" : s.healthy ? (s.run === "module-upgrade" ? "answers" : "confirmed") : "NOT HEALTHY"
    const rows: Row[] = [
        ["result", `${s.result}${s.reason ? ` (${s.reason})` : ""}${s.detail ? `: ${s.detail}` : ""}`],
        ["running", s.version === null ? `${what}: unknown` : `${what} ${s.version}, ${health}`],
        ["asked", `${s.from ?? "?"} → ${s.to ?? "?"} (${s.run}${s.engine ? `, ${s.engine} engine` : ""}${profileOf(s) ? `, ${profileOf(s)} firmware profile` : ""}), ${s.seconds} s`],
    ]
    if (s.faultsFired.length + s.faultsNotFired.length > 0)
        rows.push(["faults", `fired: ${s.faultsFired.join(" ") || "none"}; not fired: ${s.faultsNotFired.join(" ") || "none"}`])
    rows.push(["exit", String(s.exitCode)])
    return rows
}

/** The rows of each kind of run (fields beyond CommonSummary). */
function specificRows(s: any): Row[] {
    if (s.run === "module-upgrade" && s.dfota) {
        const u = s.dfota
        return [
            ["location", `${u.url} (${u.scheme || "?"})`],
            ["module", `${u.revisionBefore || "?"} → ${u.revisionAfter || "?"}; stage ${u.stage}; ${u.registered ? "registered again" : "not registered"}`],
        ]
    }
    if (s.imageBytes === undefined) return [] // a run that did not get as far as the device
    const link: Row[] = s.run === "modem" ? [["link", `${s.modem}, ${s.linkDrops} drop(s); flash ${s.flashFile ?? "(in memory)"}`]] : []
    return [
        ...link,
        ["program", s.runningVersion ? `${s.runningVersion} says so itself; its image SHA-256 ${short(s.runningSha256)}` : "no program reported a version"],
        ["image", `${s.imageBytes} bytes; its SHA-256 ${s.packageSha256 ? short(s.packageSha256) : "none (not an image)"}`],
        ["package", packageRow(s)],
        ["UART", `${s.uartBytes} bytes at ${s.baud || "unpaced"}${s.baud ? " baud" : ""}, ${s.latencyMs} ms module latency`],
        [
            "time",
            s.linkFloorSeconds === undefined
                ? `download ${s.downloadSeconds} s, floor ${s.floorSeconds} s (× ${s.floorRatio})`
                : `download ${s.downloadSeconds} s: UART floor ${s.uartFloorSeconds} s (× ${ratio(s.downloadSeconds, s.uartFloorSeconds)}), link floor ${s.linkFloorSeconds} s`,
        ],
        ["boots", `${s.boots}, power cuts ${s.cuts}, re-read ${s.rereadBytes} bytes, block retries ${s.blockRetries}`],
        ["journal", `${s.journalCheckpoints} checkpoints, ${s.metaErases} metadata sector erases`],
        ...((s.components ?? []) as any[]).map((c): Row => ["component", `${c.name} ${c.from ?? "?"} → ${c.to ?? "?"}: ${c.result}${c.reason ? ` (${c.reason})` : ""}${c.code === null ? "" : `, code ${c.code}`}`]),
    ]
}

/** A SOTA run's firmware profile (absent from other runs' summaries). */
function profileOf(s: object): string | null {
    return (s as { profile?: string | null }).profile ?? null
}

/** The package on the wire against a full upgrade (the image itself). */
function packageRow(s: any): string {
    if (s.packageKind === "full") return `full: the image, ${s.packageBytes} bytes on the wire`
    const share = s.imageBytes > 0 ? ((100 * s.packageBytes) / s.imageBytes).toFixed(1) : "?"
    return `${s.packageKind}: ${s.packageBytes} bytes on the wire against ${s.imageBytes} for a full upgrade (${share} %, ${s.imageBytes - s.packageBytes} bytes saved)`
}

function short(sha: string | null): string {
    return sha ? `${sha.slice(0, 16)}…` : "none"
}

function stamp() {
    return new Date().toISOString().slice(11, 23)
}

function ratio(a: number, b: number): string {
    return b > 0 ? (a / b).toFixed(3) : "0"
}
