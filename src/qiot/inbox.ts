// The events an upgrade waits for, queued as they arrive from the AT client's URC path (which
// must stay quick): +QIOTEVT events, the module's restart (RDY) and, for a reader that asks for
// them, +QIND indications. Bounded: when the reader falls behind, an event is dropped and counted,
// never an unbounded queue; the one dropped is the oldest that is chatter (data or other events a
// module sends unasked), so an upgrade's own events (7,xxxxx, RDY, accepted indications) are never
// evicted by it: only when the whole queue is theirs does the oldest of them go.

import * as ds from "@devicescript/core"
import { Signal } from "../lib/signal"
import { EVT_INDICATION, EVT_MODULE_RESTART, EVT_OTA, parseQiotEvent, QiotEvent } from "./events"

/** Decides which +QIND lines are queued (and may count the others); none are without it. */
export interface IndicationFilter {
    indication(line: string): boolean
}

export class EventInbox {
    private queue: QiotEvent[] = []
    private signal = new Signal()
    private max: number
    private filter: IndicationFilter
    /** Events dropped because the queue was full (a diagnostic counter). */
    dropped = 0

    constructor(max?: number, indications?: IndicationFilter) {
        this.max = max || 16
        this.filter = indications || null
    }

    /** Feed a URC line (register with AtClient.onUrc). */
    urc(line: string) {
        let e: QiotEvent = null
        if (line === "RDY") e = { type: EVT_MODULE_RESTART, code: 0, line: "" }
        else if (this.filter && line.startsWith("+QIND:")) {
            if (this.filter.indication(line)) e = { type: EVT_INDICATION, code: 0, line }
        } else e = parseQiotEvent(line)
        if (!e) return
        const q = this.queue
        if (q.length >= this.max) {
            // drop for room the oldest event that is not an upgrade's own, else the oldest
            // (inlined: one caller)
            let victim = 0
            for (let i = 0; i < q.length; i++) {
                const t = q[i].type
                if (t !== EVT_OTA && t !== EVT_MODULE_RESTART && t !== EVT_INDICATION) {
                    victim = i
                    break
                }
            }
            this.removeAt(victim)
            this.dropped++
        }
        this.queue.push(e)
        this.signal.notify()
    }

    /** Drop everything queued (e.g. before a new request, so stale events cannot answer it). */
    clear() {
        this.queue = []
    }

    /** Remove every queued event that `match` accepts (stale ones: the wire keeps events in order). */
    discard(match: (e: QiotEvent) => boolean) {
        const q: QiotEvent[] = []
        for (const e of this.queue) if (!match(e)) q.push(e)
        this.queue = q
    }

    /** Is an event that `match` accepts queued right now? (It stays queued.) */
    has(match: (e: QiotEvent) => boolean): boolean {
        for (const e of this.queue) if (match(e)) return true
        return false
    }

    /**
     * The first queued event that `match` accepts, waiting up to `timeoutMs`; null on timeout.
     * Events it does not accept stay queued, in order.
     */
    async next(match: (e: QiotEvent) => boolean, timeoutMs: number): Promise<QiotEvent> {
        const deadline = ds.millis() + timeoutMs
        while (true) {
            const q = this.queue
            for (let i = 0; i < q.length; i++) {
                const e = q[i]
                if (match(e)) {
                    this.removeAt(i)
                    return e
                }
            }
            const left = deadline - ds.millis()
            if (left <= 0) return null
            await this.signal.wait(left)
        }
    }

    private removeAt(i: number) {
        const q: QiotEvent[] = []
        for (let k = 0; k < this.queue.length; k++) if (k !== i) q.push(this.queue[k])
        this.queue = q
    }
}
