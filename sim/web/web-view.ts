// The web view's model of a run: everything the page shows, fed by what a run already tells its
// View (sim/cli/view.ts: progress events, lines, the AT dialogue as trace lines, the summary) and
// by the device's flash (store-reader.ts). WebView is a View: the console output stays as it is
// (the AT dialogue and the VM's own lines only with --trace), and every call also updates the
// model, which the server (server.ts) sends to the page.
import type { SotaProgress } from "../../src/sota/progress"
import type { CommonSummary } from "../cli/summary"
import { View } from "../cli/view"
import type { RecordView, SlotView, StoreView } from "./store-reader"

export interface AtLine {
    /** ms since the run started */
    t: number
    dir: "->" | "<-" | ""
    text: string
}

export interface DownloadView {
    target: string
    bytes: number
    total: number
    percent: number
    /** bytes per second over the last few seconds (0 until known) */
    rate: number
    /** seconds left at that rate (-1 until known) */
    etaSeconds: number
}

export interface PlanView {
    target: string
    size: number
    /** "offered", then accepted/refused/failed/installed */
    status: string
    reason: string | null
    detail: string
}

export interface WebModel {
    /** bumped on every change */
    rev: number
    title: string
    phase: "starting" | "running" | "done"
    /** the agent's last state, and every state change with its time */
    state: string
    running: string
    states: { t: number; state: string; version: string; target: string; reason: string | null }[]
    plan: PlanView | null
    download: DownloadView | null
    slots: SlotView[]
    records: RecordView[]
    journal: { written: number; verified: number }
    storeError: string | null
    at: AtLine[]
    /** AT lines seen in all (the page keeps the newest few hundred) */
    atTotal: number
    log: string[]
    actions: { t: number; what: string; text: string }[]
    summary: CommonSummary | null
    /** a new image confirmed itself during the run */
    confirmed: boolean
}

const MAX_AT = 300
const MAX_LOG = 200
/** The rate is measured over this window of download progress. */
const RATE_WINDOW_MS = 4000

export class WebModelBuilder {
    readonly m: WebModel
    private t0 = Date.now()
    private samples: { t: number; bytes: number }[] = []
    private listeners: (() => void)[] = []

    constructor(title: string) {
        this.m = {
            rev: 0,
            title,
            phase: "starting",
            state: "",
            running: "",
            states: [],
            plan: null,
            download: null,
            slots: [],
            records: [],
            journal: { written: -1, verified: -1 },
            storeError: null,
            at: [],
            atTotal: 0,
            log: [],
            actions: [],
            summary: null,
            confirmed: false,
        }
    }

    onChange(l: () => void) {
        this.listeners.push(l)
    }

    now(): number {
        return Date.now() - this.t0
    }

    private changed() {
        this.m.rev++
        for (const l of this.listeners) l()
    }

    progress(p: SotaProgress) {
        const m = this.m
        m.phase = "running"
        if (p.version) m.running = p.version
        if (p.state !== m.state || p.state === "failed" || p.state === "refused") {
            m.states.push({ t: this.now(), state: p.state, version: p.version, target: p.target, reason: p.reason })
            if (m.states.length > 100) m.states.shift()
        }
        m.state = p.state
        if (p.state === "offered") {
            m.plan = { target: p.target, size: p.total, status: "offered", reason: null, detail: "" }
            this.samples = []
        } else if (m.plan && p.target === m.plan.target) {
            if (p.state === "refused" || p.state === "failed") Object.assign(m.plan, { status: p.state, reason: p.reason, detail: p.detail })
            else if (p.state === "downloading" || p.state === "updating") m.plan.status = "accepted"
            else if (p.state === "activating" || p.state === "rebooting") m.plan.status = "installing"
        }
        if (p.state === "confirmed") {
            m.confirmed = true
            if (m.plan) m.plan.status = "confirmed"
        }
        if (p.state === "rolled-back" && m.plan) Object.assign(m.plan, { status: "rolled back", reason: p.reason, detail: p.detail })
        if (p.state === "downloading" && p.total > 0) this.download(p)
        this.changed()
    }

    private download(p: SotaProgress) {
        const t = Date.now()
        const last = this.samples[this.samples.length - 1]
        if (last && p.bytes < last.bytes) this.samples = [] // a resume after a cut: a new measurement
        this.samples.push({ t, bytes: p.bytes })
        while (this.samples.length > 2 && t - this.samples[0].t > RATE_WINDOW_MS) this.samples.shift()
        const first = this.samples[0]
        const dt = (t - first.t) / 1000
        const rate = dt > 0.5 ? (p.bytes - first.bytes) / dt : 0
        this.m.download = {
            target: p.target,
            bytes: p.bytes,
            total: p.total,
            percent: Math.floor((100 * p.bytes) / p.total),
            rate: Math.round(rate),
            etaSeconds: rate > 0 ? Math.round(((p.total - p.bytes) / rate) * 10) / 10 : -1,
        }
    }

    /** A host event among the states (a power cut, a reset the host performed). */
    marker(text: string) {
        this.m.states.push({ t: this.now(), state: text, version: "", target: "", reason: null })
        if (this.m.states.length > 100) this.m.states.shift()
        this.changed()
    }

    at(dir: "->" | "<-" | "", text: string) {
        this.m.at.push({ t: this.now(), dir, text })
        this.m.atTotal++
        if (this.m.at.length > MAX_AT) this.m.at.shift()
        this.changed()
    }

    log(text: string) {
        this.m.log.push(text)
        if (this.m.log.length > MAX_LOG) this.m.log.shift()
        this.changed()
    }

    store(v: StoreView) {
        const m = this.m
        const same = JSON.stringify([v.slots, v.records, v.written, v.verified, v.error]) === JSON.stringify([m.slots, m.records, m.journal.written, m.journal.verified, m.storeError])
        if (same) return
        m.slots = v.slots
        m.records = v.records
        m.journal = { written: v.written, verified: v.verified }
        m.storeError = v.error
        this.changed()
    }

    action(what: string, text: string) {
        this.m.actions.push({ t: this.now(), what, text })
        this.log(`web: ${what}: ${text}`)
    }

    summary(s: CommonSummary) {
        this.m.summary = s
        this.m.phase = "done"
        this.changed()
    }
}

/** A View that also feeds the model; the console shows the AT dialogue and VM lines only when `trace`. */
export class WebView extends View {
    constructor(
        readonly model: WebModelBuilder,
        json: boolean,
        private showTrace: boolean,
        out?: (s: string) => void,
        err?: (s: string) => void
    ) {
        super(json, out, err)
    }

    override line(text: string) {
        this.model.log(text.trim())
        if (/^\s+(power cut \d+|reset: )/.test(text)) this.model.marker(text.trim())
        if (this.showTrace || !text.startsWith("  vm: ")) super.line(text)
    }

    override trace(text: string) {
        if (text.startsWith("-> ") || text.startsWith("<- ")) this.model.at(text.slice(0, 2) as "->" | "<-", text.slice(3))
        else this.model.log(text)
        if (this.showTrace) super.line(`  ${text}`)
    }

    override progress(p: SotaProgress) {
        this.model.progress(p)
        super.progress(p)
    }

    override summary(s: CommonSummary) {
        this.model.summary(s)
        super.summary(s)
    }
}
