// The AT client: one command in flight, a timeout per command, URCs delivered at any time
// (also while a command is pending and right after a payload), typed results and typed errors,
// and recovery. After a timeout, a framing fault or a module reboot the link is marked out of
// sync; before the next command it is resynchronised: wait for the line to go quiet, send `AT`
// until `OK`, and make sure no late final result follows (a late OK must never be taken as the
// answer to the next command). URCs keep flowing throughout, so none that arrives later is lost.
// Its options, results, counters and in-flight record are in client-types.ts.

import * as ds from "@devicescript/core"
import { Signal } from "../lib/signal"
import { startFiber } from "../lib/fiber"
import { AtClientOptions, AtClientStats, AtResponse, CommandOptions, Outcome, PayloadSink, Pending, responsePrefix } from "./client-types"
import {
    AtCmeError,
    AtCommandError,
    AtError,
    AtLinkLostError,
    AtMalformedError,
    AtTimeoutError,
} from "./errors"
import { quectelLineTable } from "./line-table"
import { AtReceiver, LineKind, ReceiverFault, ReceiverListener, ST_HEADER_CR } from "./receiver"
import { ByteTransport, TransportEvents } from "../link/transport"

/**
 * Default largest slice fed to the receiver in one turn. Measured in the VM: a 1 KB feed of line
 * text fits one 131 072-opcode slice and a 2 KB one panics; Jacdac packets are at most 236 bytes,
 * but other transports may hand over more, so bigger chunks are queued and fed a slice per turn.
 */
const FEED_SLICE = 256

export class AtClient implements ReceiverListener, TransportEvents {
    readonly receiver: AtReceiver
    readonly stats: AtClientStats = {
        commands: 0,
        timeouts: 0,
        resyncs: 0,
        urcs: 0,
        echoes: 0,
        noise: 0,
        strayFinals: 0,
        faults: 0,
        droppedPayloadBytes: 0,
        handlerErrors: 0,
    }
    private transport: ByteTransport
    private timeoutMs: number
    private payloadIdleMs: number
    private syncAttempts: number
    private syncTimeoutMs: number
    private quietMs: number
    private rebootLines: string[]
    private maxResponseLines: number
    private maxCommand: number
    private feedSlice: number

    private pending: Pending = null
    /** The one in-flight record, reused (see Pending); filled by exchange(). */
    private slot = {} as Pending
    /** Wakes the command in flight (its outcome, a payload starting) and the commands queued for their turn. */
    private wake = new Signal()
    private nextTicket = 0
    private serving = 0
    /**
     * True when the next command will first resynchronise the link. A field read directly, not a
     * needsSync() method: a method costs every image its descriptor and prototype entry.
     */
    outOfSync = false
    private linkUp = true
    private lastRx = 0
    /** Not private: offUrc() edits it. */
    urcHandlers: ((line: string) => void)[] = []
    /** Where payloads announced by a URC header (`+QIOTEVT: 5,10200,<len>`) go; null drops them (counted). */
    urcSink: PayloadSink = null
    // set by payloadStart, read after it; undefined reads as null/false (no initialisers: each
    // is a store in the constructor's bytecode)
    private payloadTo: PayloadSink
    private payloadForPending: boolean
    private backlog: Buffer[] = []
    private backlogOff = 0

    constructor(transport: ByteTransport, options?: AtClientOptions) {
        const o: AtClientOptions = options || {}
        this.transport = transport
        this.timeoutMs = o.timeoutMs || 3000
        this.payloadIdleMs = o.payloadIdleMs || 1000
        this.syncAttempts = o.syncAttempts || 5
        this.syncTimeoutMs = o.syncTimeoutMs || 500
        this.quietMs = o.quietMs || 100
        this.rebootLines = o.rebootLines || ["RDY"]
        this.maxResponseLines = o.maxResponseLines || 16
        this.maxCommand = o.maxCommand || 560
        this.feedSlice = o.feedSlice || FEED_SLICE
        this.receiver = new AtReceiver(o.table || quectelLineTable(), this, o) // it reads maxLine, maxPayload
        transport.listen(this)
    }

    /**
     * Subscribe to URC lines (offUrc() unsubscribes). Handlers run synchronously in the receive
     * path: keep them short.
     */
    onUrc(handler: (line: string) => void) {
        this.urcHandlers.push(handler)
    }

    /**
     * Send `command` (without CR) and wait for its final result code.
     * Throws AtTimeoutError, AtCommandError, AtCmeError, AtMalformedError or AtLinkLostError.
     */
    async command(command: string, opts?: CommandOptions): Promise<AtResponse> {
        let bad = command.length === 0 || command.length > this.maxCommand
        for (let i = 0; !bad && i < command.length; i++) {
            const c = command.charCodeAt(i)
            if (c < 0x20 || c > 0x7e) bad = true
        }
        if (bad) throw new AtError("bad-command", command.slice(0, 40), "not a sendable command line")
        return await this.locked(command, opts)
    }

    /** Resynchronise now (AT until OK, with quiet periods on both sides). Throws AtLinkLostError("no-sync"). */
    async resync(): Promise<void> {
        await this.locked(null, null)
    }

    /**
     * Wait for the link's turn, then send `command` (resynchronising first when needed), or only
     * resynchronise when it is null. One place that takes and releases the turn, for command()
     * and resync() (separate acquire/release methods cost a descriptor and prototype entry each).
     */
    private async locked(command: string, opts: CommandOptions): Promise<AtResponse> {
        const ticket = this.nextTicket++
        // a long poll interval guards against a lost wake-up; the release below notifies at once
        while (this.serving !== ticket) await this.wake.wait(1000)
        try {
            if (command === null) {
                await this.syncLocked()
                return null
            }
            if (!this.linkUp) throw new AtLinkLostError("link-lost", command, "link is down")
            if (this.outOfSync) await this.syncLocked()
            return await this.exchange(command, opts)
        } finally {
            this.serving++
            this.wake.notify()
        }
    }

    private async exchange(command: string, opts?: CommandOptions): Promise<AtResponse> {
        let timeoutMs = this.timeoutMs
        const p = this.slot
        // the record of this command, reset field by field (no fresh object per command)
        p.command = command
        p.expect = ""
        p.sink = null
        if (opts) {
            if (opts.timeoutMs) timeoutMs = opts.timeoutMs
            if (opts.expect) p.expect = opts.expect
            if (opts.sink) p.sink = opts.sink
        }
        p.lines = [] // the previous response keeps its own
        p.outcome = ""
        p.code = -1
        p.text = ""
        p.fault = ""
        p.payloadHeader = ""
        p.payloadLength = -1
        this.stats.commands++
        this.pending = p
        this.receiver.solicited = responsePrefix(command)
        const deadline = ds.millis() + timeoutMs
        try {
            await this.transport.write(Buffer.from(command + "\r"))
        } catch (e) {
            this.line("link-lost", -1, "write failed") // p is pending
        }
        while (p.outcome === "") {
            const now = ds.millis()
            if (now >= deadline) break
            let waitMs = deadline - now
            if (this.payloadForPending && this.receiver.state >= ST_HEADER_CR) {
                const idle = now - this.lastRx
                if (idle >= this.payloadIdleMs) {
                    this.receiver.abortPayload() // reports payload-aborted → malformed
                    break
                }
                waitMs = Math.min(waitMs, this.payloadIdleMs - idle)
            }
            await this.wake.wait(Math.max(1, waitMs))
        }
        this.pending = null
        p.sink = null // the reused slot must not keep the caller's sink (a block buffer) alive
        this.receiver.solicited = ""
        if (p.outcome === "") {
            this.receiver.abortPayload() // ends a payload in progress; nothing otherwise
            this.outOfSync = true
            this.stats.timeouts++
            throw new AtTimeoutError(command, timeoutMs)
        }
        // the outcome as a response or a typed error (inlined: one caller)
        const o = p.outcome
        if (o === "ok" && p.fault === "") {
            return new AtResponse(command, p.lines, p.payloadHeader, p.payloadLength)
        }
        if (o === "ok" || o === "malformed") {
            this.outOfSync = true
            throw new AtMalformedError(command, p.fault)
        }
        if (o === "error") throw new AtCommandError(command, p.text)
        if (o === "cme" || o === "cms") throw new AtCmeError(command, p.code, p.text, o === "cms")
        if (o === "reboot") throw new AtLinkLostError("module-reboot", command, "module restarted (" + p.text + ")")
        throw new AtLinkLostError("link-lost", command, p.text)
    }

    private async syncLocked() {
        this.stats.resyncs++
        for (let attempt = 0; attempt < this.syncAttempts; attempt++) {
            this.receiver.abortPayload(true)
            await this.quiet()
            let answered = false
            try {
                await this.exchange("AT", { timeoutMs: this.syncTimeoutMs })
                answered = true
            } catch (e) {
                if (!this.linkUp) throw e
            }
            if (answered) {
                // a second OK arriving now means the first one was a late answer to an older command
                const stray = this.stats.strayFinals
                await this.quiet()
                if (this.stats.strayFinals === stray && this.pending === null) {
                    this.outOfSync = false
                    return
                }
            }
        }
        this.outOfSync = true
        throw new AtLinkLostError("no-sync", "AT", `no OK after ${this.syncAttempts} attempts`)
    }

    /** Wait until no byte has arrived for quietMs (at most 20 × quietMs: a flooding line never goes quiet). */
    private async quiet() {
        const start = ds.millis()
        const quietMs = this.quietMs
        while (true) {
            const now = ds.millis()
            const idle = now - this.lastRx
            if (idle >= quietMs || now - start >= 20 * quietMs) return
            await ds.sleep(quietMs - idle)
        }
    }

    // ---- transport and receiver callbacks (TransportEvents, ReceiverListener) ----
    // Called by the transport and the AtReceiver, not by applications. Methods of the client
    // rather than closures in an adapter object: in DeviceScript each closure and each field of
    // such an object stays on the heap for the client's lifetime.

    /** TransportEvents: bytes in. */
    data(chunk: Buffer) {
        this.lastRx = ds.millis()
        if (this.backlog.length === 0 && chunk.length <= this.feedSlice) {
            this.receiver.feed(chunk)
            return
        }
        this.backlog.push(chunk) // no copy: the transport hands the chunk over (see TransportEvents)
        if (this.backlog.length === 1) {
            // feeds the backlog one slice per turn until it is empty; the fiber's own body, not a
            // drainBacklog() method it calls: that was a method (descriptor, prototype entry) and
            // a closure, where this is the closure alone
            const self = this
            startFiber(async () => {
                while (true) {
                    const first = self.backlog[0]
                    const end = Math.min(first.length, self.backlogOff + self.feedSlice)
                    self.receiver.feed(first, self.backlogOff, end)
                    self.backlogOff = end
                    if (end >= first.length) {
                        self.backlog = self.backlog.slice(1) // not shift(): Array.shift is library bytecode only this would need
                        self.backlogOff = 0
                    }
                    if (self.backlog.length === 0) return
                    // the next slice in a later turn (the opcode budget is per turn): a sleep, not a
                    // fiber started per slice, which was a second closure in the image
                    await ds.sleep(0)
                }
            })
        }
    }

    /**
     * ReceiverListener: a text line (information line, echo, URC or final result code). Also how
     * the client itself ends the command in flight (kind "reboot", "link-lost", "malformed"): the
     * first outcome wins. One method for all (not line/echo/final/urc plus a finish()): each
     * method costs every image 16 B of descriptor and a prototype entry.
     */
    line(kind: LineKind | Outcome, code: number, text: string) {
        const p = this.pending
        if (kind === "line") {
            if (p === null || (p.expect.length > 0 && !text.startsWith(p.expect))) {
                this.stats.noise++
                return
            }
            if (p.lines.length >= this.maxResponseLines) {
                if (p.fault === "") p.fault = "too-many-lines"
                return
            }
            p.lines.push(text)
            return
        }
        if (kind === "echo") {
            this.stats.echoes++
            return
        }
        if (kind === "urc") {
            this.stats.urcs++
            if (this.rebootLines.indexOf(text) >= 0) {
                this.outOfSync = true
                if (p) this.line("reboot", -1, text)
            }
            for (const h of this.urcHandlers) {
                try {
                    h(text)
                } catch (e) {
                    this.stats.handlerErrors++
                }
            }
            return
        }
        // a final result code, or the client's own end of the command
        if (p === null) {
            this.stats.strayFinals++
            return
        }
        if (p.outcome !== "") return
        p.outcome = kind
        p.code = code
        p.text = text
        this.wake.notify()
    }

    /** ReceiverListener: a payload header. */
    payloadStart(header: string, length: number, urc: boolean) {
        const p = this.pending
        const forPending = !urc && p !== null
        const to = urc ? this.urcSink : p ? p.sink : null
        this.payloadForPending = forPending
        this.payloadTo = to
        if (forPending) {
            p.payloadHeader = header
            p.payloadLength = length
            this.wake.notify() // the waiter now also watches the inter-byte timeout
        }
        if (to) to.begin(header, length)
        else this.stats.droppedPayloadBytes += length
    }

    /** ReceiverListener: payload bytes. */
    payloadData(chunk: Buffer, start: number, end: number) {
        if (this.payloadTo) this.payloadTo.data(chunk, start, end)
    }

    /** ReceiverListener: the end of a payload. */
    payloadEnd(ok: boolean) {
        const to = this.payloadTo
        this.payloadTo = null
        this.payloadForPending = false
        if (to) to.end(ok)
    }

    /** ReceiverListener: a fault in the byte stream. */
    fault(kind: ReceiverFault, detail: string) {
        this.stats.faults++
        const p = this.pending
        // a lying or unreadable length header desynchronises the stream: fail now, resync next
        const fatal = kind === "bad-length" || kind === "payload-too-large" || kind === "payload-trailer"
        if (fatal) this.outOfSync = true
        if (p === null) return
        if (p.fault === "") p.fault = kind
        // fatal or payload-aborted: every fault but a bad line (the line is dropped, the command goes on)
        if (kind !== "line-overflow" && kind !== "garbage") this.line("malformed", -1, kind)
    }

    /** TransportEvents: the line went down or came back. */
    link(up: boolean) {
        this.linkUp = up
        this.outOfSync = true
        if (!up) {
            this.receiver.abortPayload(true)
            if (this.pending) this.line("link-lost", -1, "link down")
        }
    }
}

/** Unsubscribe a handler given to client.onUrc(). A function, not a method: only a DFOTA upgrade and tests unsubscribe. */
export function offUrc(client: AtClient, handler: (line: string) => void) {
    const kept: ((line: string) => void)[] = []
    for (const h of client.urcHandlers) if (h !== handler) kept.push(h)
    client.urcHandlers = kept
}
