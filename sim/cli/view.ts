// What a person sees: the state changes, a progress bar for the download, the AT dialogue with
// --trace, and a closing summary. With --json only the summary, as one JSON line at the end.

import type { SotaProgress } from "../../src/sota/progress"
import type { SimSummary } from "./summary"

const BAR = 30

export class View {
    private lastState = ""
    private lastPercent = -1
    private barOpen = false
    private tty: boolean

    constructor(
        readonly json: boolean,
        private out: (s: string) => void = s => process.stdout.write(s)
    ) {
        this.tty = !json && !!process.stdout.isTTY
    }

    line(text: string) {
        if (this.json) return
        this.closeBar()
        this.out(text + "\n")
    }

    trace(text: string) {
        this.line(`  ${text}`)
    }

    progress(p: SotaProgress) {
        if (this.json) return
        if (p.state === "downloading" && p.total > 0) return this.bar(p)
        if (p.state === this.lastState && p.state !== "failed") return
        this.lastState = p.state
        this.lastPercent = -1
        const what: string[] = [p.state]
        if (p.target) what.push(`→ ${p.target}`)
        if (p.state === "offered" || p.state === "verifying") what.push(`(${p.total} bytes)`)
        if (p.reason) what.push(`[${p.reason}] ${p.detail}`)
        this.line(`${stamp()} ${p.version || "?"}: ${what.join(" ")}`)
    }

    private bar(p: SotaProgress) {
        const pct = Math.floor((100 * p.bytes) / p.total)
        if (this.lastState !== "downloading") {
            this.lastState = "downloading"
            this.line(`${stamp()} ${p.version}: downloading → ${p.target} (${p.total} bytes)`)
        }
        if (pct === this.lastPercent) return
        if (!this.tty && pct % 10 !== 0 && pct !== 100) return
        this.lastPercent = pct
        const full = Math.round((BAR * pct) / 100)
        const text = `  [${"#".repeat(full)}${".".repeat(BAR - full)}] ${String(pct).padStart(3)}%  ${p.bytes}/${p.total}`
        if (this.tty) {
            this.out(`\r${text}`)
            this.barOpen = true
        } else this.out(text + "\n")
    }

    private closeBar() {
        if (this.barOpen) this.out("\n")
        this.barOpen = false
    }

    summary(s: SimSummary) {
        if (this.json) {
            this.out(JSON.stringify(s) + "\n")
            return
        }
        this.closeBar()
        const rows: [string, string][] = [
            ["result", `${s.result}${s.reason ? ` (${s.reason})` : ""}`],
            ["running", `${s.version}${s.healthy ? ", confirmed" : ", NOT HEALTHY"}`],
            ["program", s.runningVersion ? `${s.runningVersion} says so itself; its image SHA-256 ${short(s.runningSha256)}` : "no program reported a version"],
            ["image", `${s.imageBytes} bytes, ${s.from} → ${s.to}; package SHA-256 ${s.packageSha256 ? short(s.packageSha256) : "none (not an image)"}`],
            ["engine", s.engine],
            ["UART", `${s.uartBytes} bytes at ${s.baud || "unpaced"}${s.baud ? " baud" : ""}, ${s.latencyMs} ms module latency`],
            ["time", `${s.seconds} s in all; download ${s.downloadSeconds} s, floor ${s.floorSeconds} s (× ${s.floorRatio})`],
            ["boots", `${s.boots}, power cuts ${s.cuts}, re-read ${s.rereadBytes} bytes, block retries ${s.blockRetries}`],
            ["journal", `${s.journalCheckpoints} checkpoints, ${s.metaErases} metadata sector erases`],
        ]
        this.out("\nsummary\n" + rows.map(([k, v]) => `  ${k.padEnd(8)} ${v}`).join("\n") + "\n")
    }
}

function short(sha: string | null): string {
    return sha ? `${sha.slice(0, 16)}…` : "none"
}

function stamp() {
    return new Date().toISOString().slice(11, 23)
}
