// The AT receiver: an arbitrary byte stream (split at any byte, any chunk size) in; lines,
// final result codes, echo, URCs and length-framed binary payloads out.
//
// One state machine, no buffering of payloads: LINE → (a header from the LineTable) → PAYLOAD(n)
// → TRAILER → LINE. In PAYLOAD the bytes are only counted and handed to the listener as ranges
// of the incoming chunk; CR, LF, NUL or "\r\nOK\r\n" inside them mean nothing. Memory is one
// fixed line buffer whatever the input: an over-long line, a length above `maxPayload`, or a
// length that is negative or not a number is reported as a fault, never allocated.
//
// Cost per byte is a handful of opcodes in LINE and none in PAYLOAD (ranges), so a 236-byte
// Jacdac packet stays far below the VM's 131 072-opcode slice.

import { parseDecimal } from "../lib/decimal"
import { lineFields, linePrefix } from "./fields"
import { LineTable, startsLoose } from "./line-table"

/** Final result codes that end a command. */
export type FinalKind = "ok" | "error" | "cme" | "cms"

/** What can be wrong with the byte stream itself. */
export type ReceiverFault =
    | "line-overflow" // a line longer than maxLine; its bytes were dropped up to the next CR/LF
    | "garbage" // a line holding control or non-ASCII bytes; dropped
    | "bad-length" // a payload header whose length is missing, negative or not a number
    | "payload-too-large" // a payload header claiming more than maxPayload
    | "payload-trailer" // the byte after a payload is not CR or LF: the length header lied
    | "payload-aborted" // the payload was cut short by abortPayload() (timeout, reboot)

/** What a text line is: an information line, an echoed command, a URC, or a final result code. */
export type LineKind = "line" | "echo" | "urc" | FinalKind

export interface ReceiverListener {
    /**
     * A text line and what it is: "line" (an information line that is neither echo, final, nor
     * URC), "echo" (a line that echoes a command: starts with "AT"), "urc" (an unsolicited result
     * code line, also a payload header flagged `urc`), or a final result code: OK / ERROR /
     * +CME ERROR: n / +CMS ERROR: n (and NO CARRIER, BUSY, ... as "error"), where `text` is the
     * argument for +CME/+CMS. `code` is -1 if none (always for non-finals). One callback, not
     * four: each listener method costs every image a descriptor and a prototype entry.
     */
    line(kind: LineKind, code: number, text: string): void
    /** A payload header; `length` bytes follow through payloadData. */
    payloadStart(header: string, length: number, urc: boolean): void
    /** Payload bytes: chunk[start..end). Copy them if needed; the chunk is reused. */
    payloadData(chunk: Buffer, start: number, end: number): void
    /** End of the payload: ok=false when its trailer was wrong or it was aborted. */
    payloadEnd(ok: boolean): void
    fault(kind: ReceiverFault, detail: string): void
}

export interface ReceiverOptions {
    /** Longest line kept (bytes, without CR/LF). Default 512. */
    maxLine?: number
    /** Largest payload a header may announce. Default 4096. */
    maxPayload?: number
}

const ST_LINE = 0
const ST_DISCARD = 1 // dropping an over-long line up to CR/LF
const ST_TRAILER = 2 // the byte after the payload must be CR or LF
/** A payload header ended with CR; an LF may follow before the data. This state and above: raw payload bytes expected. */
export const ST_HEADER_CR = 3
const ST_PAYLOAD = 4

const CR = 13
const LF = 10

export class AtReceiver {
    readonly maxLine: number
    readonly maxPayload: number
    private table: LineTable
    private listener: ReceiverListener
    private lineBuf: Buffer
    /** Bytes of a partial line held right now (never more than maxLine). */
    lineLen = 0
    // no initialiser (a store in the constructor's bytecode): undefined reads as false
    private lineDirty: boolean // the current line holds a byte outside printable ASCII
    /**
     * ST_LINE, ...; `state >= ST_HEADER_CR` while raw payload bytes are expected. Read by the
     * client directly: an inPayload() method cost every image a descriptor and a prototype entry.
     */
    state = ST_LINE
    private remaining: number // set when a payload starts; read only inside one
    /**
     * The prefix the pending command answers with (e.g. "+CPIN"), so it is not taken for a URC;
     * "" for none. Set directly by the client (fields rather than one-line setter and getter
     * methods, which would cost every image their descriptors and prototype entries).
     */
    solicited = ""

    /** Counters for diagnostics and tests. */
    bytesIn = 0
    payloadBytes = 0
    faults = 0

    constructor(table: LineTable, listener: ReceiverListener, options?: ReceiverOptions) {
        this.table = table
        this.listener = listener
        this.maxLine = (options && options.maxLine) || 512
        this.maxPayload = (options && options.maxPayload) || 4096
        this.lineBuf = Buffer.alloc(this.maxLine)
    }

    /**
     * End a payload that will not complete (inter-byte timeout, module reboot). With `forgetLine`
     * also forget a partial line and any framing state: a reset, used on link loss and resync
     * (one method, not abortPayload and reset: a method costs a descriptor and a prototype entry).
     */
    abortPayload(forgetLine?: boolean) {
        if (this.state >= ST_HEADER_CR) {
            this.state = ST_LINE
            this.remaining = 0
            this.fault("payload-aborted", "")
            this.listener.payloadEnd(false)
        }
        if (forgetLine) {
            this.lineLen = 0
            this.lineDirty = false
            this.state = ST_LINE
        }
    }

    /** Feed bytes chunk[start..end) (whole chunk by default). */
    feed(chunk: Buffer, start?: number, end?: number) {
        let i = start === undefined ? 0 : start
        const n = end === undefined ? chunk.length : end
        this.bytesIn += n - i
        while (i < n) {
            const st = this.state
            if (st === ST_PAYLOAD) {
                const take = Math.min(this.remaining, n - i)
                this.listener.payloadData(chunk, i, i + take)
                this.payloadBytes += take
                i += take
                this.remaining -= take
                if (this.remaining === 0) this.state = ST_TRAILER
                continue
            }
            const b = chunk[i++]
            if (st === ST_HEADER_CR) {
                this.state = this.remaining === 0 ? ST_TRAILER : ST_PAYLOAD
                if (b !== LF) i-- // no LF after the header's CR: that byte is data
                continue
            }
            if (st === ST_TRAILER) {
                this.state = ST_LINE
                const ok = b === CR || b === LF
                if (!ok) this.fault("payload-trailer", "")
                this.listener.payloadEnd(ok)
                if (!ok) i-- // parse the byte as text
                continue
            }
            if (b === CR || b === LF) {
                if (st === ST_DISCARD) this.state = ST_LINE
                else this.endLine(b)
                continue
            }
            if (st === ST_DISCARD) continue
            if (this.lineLen >= this.maxLine) {
                this.fault("line-overflow", this.lineBuf.slice(0, Math.min(this.lineLen, 24)).toString("utf-8"))
                this.lineLen = 0
                this.lineDirty = false
                this.state = ST_DISCARD
                continue
            }
            if (b < 0x20 || b > 0x7e) {
                if (b !== 9) this.lineDirty = true
            }
            this.lineBuf[this.lineLen++] = b
        }
    }

    private fault(kind: ReceiverFault, detail: string) {
        this.faults++
        this.listener.fault(kind, detail)
    }

    private endLine(terminator: number) {
        const len = this.lineLen
        this.lineLen = 0
        if (len === 0) return // blank lines are noise
        if (this.lineDirty) {
            this.lineDirty = false
            this.fault("garbage", `${len} bytes`)
            return
        }
        // trim spaces on bytes: cheaper than String.trim in the VM
        let a = 0
        let z = len
        while (a < z && this.lineBuf[a] === 32) a++
        while (z > a && this.lineBuf[z - 1] === 32) z--
        if (a === z) return
        // classify the line (one method with the trimming above and the payload start below:
        // each was a one-caller method, 16 B of descriptor and a prototype entry apiece)
        const text = this.lineBuf.slice(a, z).toString("utf-8")
        const L = this.listener
        const c0 = text.charCodeAt(0)
        // finals
        if (text === "OK") return L.line("ok", -1, text)
        if (text === "ERROR" || text === "NO CARRIER" || text === "BUSY" || text === "NO ANSWER" || text === "NO DIALTONE")
            return L.line("error", -1, text)
        const prefix = linePrefix(text)
        if (prefix === "+CME ERROR" || prefix === "+CMS ERROR") {
            const arg = text.slice(prefix.length + 1).trim()
            const code = parseDecimal(arg)
            return L.line(prefix === "+CME ERROR" ? "cme" : "cms", code >= 0 ? code : -1, arg)
        }
        // echo: modules echo the command line as sent ("AT..." in either case)
        const c1 = text.length >= 2 ? text.charCodeAt(1) : 0
        if ((c0 === 65 || c0 === 97) && (c1 === 84 || c1 === 116))
            return L.line("echo", -1, text)
        // the table's matching, here rather than as LineTable methods (their only caller)
        const table = this.table
        if (prefix.length > 0) {
            // length-framed payload header? A cheap pre-check on the raw line first, so ordinary
            // lines are never split into fields
            let may = false
            for (const r of table.payloads) {
                if (r.prefix === prefix && (!r.head || startsLoose(text, prefix.length + 1, r.head))) {
                    may = true
                    break
                }
            }
            if (may) {
                const fields = lineFields(text)
                for (const r of table.payloads) {
                    if (r.prefix === prefix && r.applies(fields)) {
                        // a payload header: `len` raw bytes follow
                        const len = parseDecimal(fields.str(r.lengthField))
                        if (isNaN(len) || len < 0) {
                            this.fault("bad-length", text)
                            return
                        }
                        if (len > this.maxPayload) {
                            this.fault("payload-too-large", text)
                            return
                        }
                        if (r.urc) L.line("urc", -1, text)
                        L.payloadStart(text, len, r.urc)
                        this.remaining = len
                        // after a CR an LF may come before the data; after an LF the data starts (or its trailer, for 0 bytes)
                        this.state = terminator === CR ? ST_HEADER_CR : len === 0 ? ST_TRAILER : ST_PAYLOAD
                        return
                    }
                }
            }
        }
        // a URC? Not when its prefix is the one the pending command answers with (`solicited`,
        // e.g. "+CPIN" during AT+CPIN?): that is the response
        if (prefix.length === 0 || prefix !== this.solicited) {
            for (const u of table.urcs) {
                if (u === text || (prefix.length > 0 && u === prefix)) return L.line("urc", -1, text)
            }
        }
        L.line("line", -1, text)
    }
}
