// Runs SOTA on the module: asks the platform for plans, turns the session's transitions into
// +QIOTEVT lines at the right moments, downloads pieces (taking `cloudMs` plus the piece size
// at `downloadBytesPerSec`), and reports each step to the Developer Center log.
// The rules of the state machine are in ota-session.ts.
//
// A plan of several components (dev-center.ts) is one session per component, in the plan's order:
// after the device reported a component's new version (10705) the platform offers the next one
// (10700 again, `cloudMs` later). Two events exist only for such plans (quecthing-at.md §3, S8):
// - 10707, "advertisement of the first device operation result": after the device's answer to the
//   first component it is offered in an attempt, `+QIOTEVT: 7,10707,<flag>`, 0 = confirmed (the
//   plan goes on), 1 = refused. [choice] The AT form of its data is not documented; QuecOpen gives
//   a uint32, 0 = "multi devices confirm update", otherwise refuse, so the flag is that number. (A
//   QuecThing C SDK, ql_iotCmdOTA.c, sends 0 after a refusal too; we send 1, as QuecOpen's meaning
//   says.) Later components' answers raise no 10707.
// - 10708, "waiting for sub-device operation timed out": a component's 10700 left unanswered for
//   `operationTimeoutMs` (default 10 minutes, the platform's re-check period) is withdrawn with
//   `+QIOTEVT: 7,10708`, and the platform counts a failure. A single-component offer waits, as
//   before (re-sent on AT+QIOTOTAREQ and after a reboot).

import type { OfferWhy } from "./dev-center"
import type { QuecModule } from "./module"
import { OtaSession } from "./ota-session"

export class OtaController {
    /** The current plan. Survives a reboot (the module keeps it in flash). */
    session: OtaSession | null = null
    /** AT+QIOTOTAREQ=1 asked for SHA-256 in 10701 (RAM: a reboot forgets it). */
    withSha = false
    /** A bad-package fault that fired before there was a plan to corrupt. */
    private pendingCorrupt: number | undefined | null = null
    private fetchSeq = 0

    constructor(private m: QuecModule) {}

    active(): boolean {
        return this.session !== null && this.session.state !== "ended"
    }

    /** AT+QIOTOTAREQ[=<info>]. */
    request(info: number) {
        this.withSha = info === 1
        this.m.afterReply(() => this.m.timer(this.m.opts.cloudMs, () => this.offer("request")))
    }

    /** The platform pushed, or the periodic check found, a plan. */
    planAvailable() {
        if (!this.m.conn.connected() || this.active()) return
        this.m.timer(this.m.opts.cloudMs, () => this.offer("push"))
    }

    /** AT+QIOTUPDATE=1. */
    confirm(): boolean {
        const s = this.session
        if (!s || !s.confirm()) return false
        this.m.afterReply(() => {
            if (s.offer.count > 1 && s.first) this.m.urc("+QIOTEVT: 7,10707,0")
            this.m.urc(s.line10701())
            this.m.urc("+QIOTEVT: 7,10702")
            this.report("download-start")
            this.fetch()
        })
        return true
    }

    /** AT+QIOTUPDATE=0: refuse an offer, or abort a download. */
    refuse(): boolean {
        const s = this.session
        if (!s || s.state === "ended" || s.state === "updating") return false
        if (s.state === "offered") {
            this.session = null
            this.reportFor(s, "refused")
            if (s.offer.count > 1 && s.first) this.m.afterReply(() => this.m.urc("+QIOTEVT: 7,10707,1"))
            return true
        }
        this.m.afterReply(() => this.fail("aborted by the MCU"))
        return true
    }

    /** AT+QIOTUPDATE=2. */
    next(): boolean {
        const s = this.session
        if (!s || !s.next()) return false
        this.m.afterReply(() => {
            if (this.m.opts.repeat10702) this.m.urc("+QIOTEVT: 7,10702")
            this.fetch()
        })
        return true
    }

    /** AT+QIOTUPDATE=3. */
    updating(): boolean {
        const s = this.session
        if (!s || !s.updating()) return false
        this.m.afterReply(() =>
            this.m.timer(this.m.opts.cloudMs, () => {
                if (this.session !== s) return
                this.m.urc("+QIOTEVT: 7,10704")
                this.report("updating")
            }),
        )
        return true
    }

    /** AT+QIOTOTARD=<start>,<len>: the bytes, or null for ERROR. */
    read(start: number, length: number): Buffer | null {
        const s = this.session
        if (!s) return null
        const data = s.read(start, length)
        if (data && s.takeDownloaded()) this.report("downloaded")
        return data
    }

    /** A version the MCU set with AT+QIOTMCUVER. */
    versionReported(component: string, version: string) {
        const s = this.session
        if (!s || s.state !== "updating" || s.offer.component !== component) return
        const result = s.versionReport(version)
        this.session = null
        this.m.afterReply(() => {
            if (result === "updated") {
                this.m.urc('+QIND: "FOTA","END",0')
                this.m.urc("+QIOTEVT: 7,10705")
                this.reportFor(s, "updated")
                // the next component of the plan, now that this one's version is reported
                const dc = this.m.devCenter
                if (dc && dc.hasNext(this.m.conn.deviceKey(), s.offer.planId))
                    this.m.timer(this.m.opts.cloudMs, () => this.offer("continue"))
            } else {
                this.m.urc("+QIOTEVT: 7,10706")
                this.reportFor(s, "failed", `reported ${version}, expected ${s.offer.targetVersion}`)
            }
        })
    }

    /** (Re)connected: resume what a reboot or an outage interrupted. */
    onConnected() {
        const s = this.session
        if (!s) return
        if (s.state === "offered") {
            this.m.urc(s.line10700())
            this.armOperationTimeout(s)
        } else if (s.needsRefetch) {
            this.m.urc("+QIOTEVT: 7,10702")
            this.fetch()
        }
    }

    onCloudLost() {
        const s = this.session
        if (!s) return
        if (s.state === "offered") this.session = null // the offer is withdrawn with the connection
        else if (s.state === "fetching" || s.state === "piece") this.fail("connection lost")
    }

    onPowerLoss() {
        this.withSha = false
        this.fetchSeq++
        if (this.session) this.session.loseRam()
    }

    /** Fault: the delivered bytes stop matching the announced digests. */
    corrupt(offset: number | undefined) {
        const s = this.session
        if (s && s.state !== "ended") s.corrupt(offset === undefined ? this.m.faults.pick(s.total) : offset)
        else this.pendingCorrupt = offset
    }

    private offer(why: OfferWhy) {
        const m = this.m
        if (!m.conn.connected()) return
        const s = this.session
        if (s && s.state === "offered") {
            m.urc(s.line10700()) // still unanswered: offered again
            return
        }
        if (this.active() || !m.devCenter) return
        const offer = m.devCenter.findOffer(m.conn.deviceKey(), why)
        if (!offer) return
        const session = new OtaSession(offer, {
            pieceSize: m.opts.pieceSize,
            maxRead: m.opts.maxRead,
            withSha: this.withSha,
            requireFullRead: m.opts.requireFullRead,
        })
        session.first = why !== "continue"
        this.session = session
        if (this.pendingCorrupt !== null) {
            const off = this.pendingCorrupt
            this.pendingCorrupt = null
            session.corrupt(off === undefined ? m.faults.pick(session.total) : off)
        }
        m.urc(session.line10700())
        this.report("notified")
        this.armOperationTimeout(session)
    }

    /** 10708: a component of a multi-component plan whose offer the MCU leaves unanswered. */
    private armOperationTimeout(s: OtaSession) {
        if (s.offer.count < 2 || this.m.opts.operationTimeoutMs <= 0) return
        this.m.timer(this.m.opts.operationTimeoutMs, () => {
            if (this.session !== s || s.state !== "offered" || !this.m.conn.connected()) return
            this.session = null
            this.m.urc("+QIOTEVT: 7,10708")
            this.reportFor(s, "failed", "no answer to 10700 (10708)")
        })
    }

    /** Download the session's current piece from the cloud, then announce it with 10703. */
    private fetch() {
        const s = this.session
        if (!s) return
        const seq = ++this.fetchSeq
        const o = this.m.opts
        const ms = o.cloudMs + (o.downloadBytesPerSec > 0 ? Math.ceil((s.pieceLength() * 1000) / o.downloadBytesPerSec) : 0)
        this.m.timer(ms, () => {
            if (seq !== this.fetchSeq || this.session !== s || !this.m.conn.connected()) return
            s.pieceArrived()
            this.m.urc(s.line10703())
            const delivered = s.pieceStart() + s.pieceLength()
            this.report("downloading", Math.floor((delivered * 100) / s.total))
        })
    }

    private fail(reason: string) {
        const s = this.session
        if (!s) return
        this.session = null
        this.fetchSeq++
        this.m.urc("+QIOTEVT: 7,10706")
        this.reportFor(s, "failed", reason)
    }

    private report(step: "notified" | "download-start" | "downloading" | "downloaded" | "updating", progress?: number) {
        if (this.session) this.reportFor(this.session, step, undefined, progress)
    }

    private reportFor(
        s: OtaSession,
        step: "notified" | "refused" | "download-start" | "downloading" | "downloaded" | "updating" | "updated" | "failed",
        detail?: string,
        progress?: number,
    ) {
        const dc = this.m.devCenter
        if (!dc) return
        dc.report(this.m.conn.deviceKey(), s.offer.planId, step, { detail, progress, component: s.offer.component })
    }
}
