// The host side of the flash channel (protocol: src/simulator/flash-protocol.ts). Serves a Flash,
// normally the NOR model (nor-flash.ts, persisted to a file), over a ByteTransport: the second
// Jacdac Serial channel of the simulator host (sim/host/jacdac-io.ts), or an in-memory pipe in
// vitest. The server adds no rules of its own: every request goes to the flash as it is, so
// alignment, ranges, "a unit is programmed once", wear and power cuts are exactly the model's,
// and a FlashError goes back as a typed error response (its reason code, address and text).
//
// Power cuts: when the model throws PowerCut (its cut plan fired, or it is still off) the
// server answers nothing, as a device without power would; the client times out. The model's
// contents stay as the cut left them for the next client (after nor.powerOn(), a "reboot").
// The client disappearing mid-request (the VM killed while a PROGRAM streams in) leaves a
// partial frame: it is dropped when the link reports down/up, or when a new frame starts after
// `idleResetMs` of silence. The flash is only touched by complete, CRC-checked requests.
// Retries: the last response is remembered and replayed for an identical request (same seq,
// op and CRCs), so a request the client sends twice is executed once. GEOMETRY (a client
// opening its session) clears that memory.

import { ByteTransport } from "../../src/link/transport"
import { Flash, FlashError, FlashReason } from "../../src/flash/flash"
import {
    DEFAULT_MAX_PAYLOAD,
    FrameFault,
    FrameHeader,
    FrameParser,
    FrameSink,
    GEOMETRY_SIZE,
    HEADER_SIZE,
    OP_ERASE,
    OP_GEOMETRY,
    OP_PROGRAM,
    OP_READ,
    OP_RESPONSE,
    STATUS_BAD_REQUEST,
    STATUS_DAMAGED,
    STATUS_OK,
    STATUS_SERVER_ERROR,
    statusOfReason,
    TRAILER_SIZE,
    writeHeader,
} from "../../src/simulator/flash-protocol"
import { crc32Update } from "../../src/lib/crc32"
import { PowerCut } from "./nor-flash"

export interface FlashServerOptions {
    /** Largest payload accepted and announced in GEOMETRY. Default 4096. */
    maxPayload?: number
    /** A partial request older than this is dropped when new bytes come. Default 500 ms. */
    idleResetMs?: number
    /** Diagnostics. */
    log?: (line: string) => void
}

export interface FlashServerStats {
    requests: number
    reads: number
    programs: number
    erases: number
    replays: number
    damaged: number
    faults: number
    /** Requests left unanswered because the flash had no power. */
    unpowered: number
    flashErrors: number
    bytesIn: number
    bytesOut: number
}

interface Request {
    op: number
    seq: number
    address: number
    length: number
    status: number
    key: string
    payload: Buffer
    ok: boolean
}

export class FlashServer implements FrameSink {
    readonly flash: Flash
    readonly maxPayload: number
    readonly stats: FlashServerStats
    private transport: ByteTransport = null
    private parser: FrameParser
    private idleResetMs: number
    private log: (line: string) => void
    private lastByteAt = 0
    private rxPayload: Buffer = null
    private got = 0
    private queue: Request[] = []
    private pumping = false
    private lastKey = ""
    private lastResponse: Buffer = null
    private closed = false

    constructor(flash: Flash, transport?: ByteTransport, options: FlashServerOptions = {}) {
        this.flash = flash
        this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD
        this.idleResetMs = options.idleResetMs ?? 500
        this.log = options.log ?? (() => {})
        this.parser = new FrameParser(this, this.maxPayload)
        this.stats = {
            requests: 0,
            reads: 0,
            programs: 0,
            erases: 0,
            replays: 0,
            damaged: 0,
            faults: 0,
            unpowered: 0,
            flashErrors: 0,
            bytesIn: 0,
            bytesOut: 0,
        }
        if (transport) this.attach(transport)
    }

    /** Serve on `transport` (a new link: any partial frame is forgotten). */
    attach(transport: ByteTransport) {
        this.transport = transport
        this.parser.reset()
        transport.listen({
            data: chunk => this.onData(chunk),
            link: up => {
                // the other end went away or came back: whatever was half-received is void
                this.parser.reset()
                this.log(`flash link ${up ? "up" : "down"}`)
            },
        })
    }

    /** Stop answering (the flash and its contents are untouched). */
    close() {
        this.closed = true
        this.queue = []
    }

    private onData(chunk: Buffer) {
        if (this.closed) return
        const now = Date.now()
        if (this.parser.inFrame() && now - this.lastByteAt > this.idleResetMs) {
            this.log(`flash: dropped a partial frame after ${now - this.lastByteAt} ms of silence`)
            this.parser.reset()
        }
        this.lastByteAt = now
        this.stats.bytesIn += chunk.length
        this.parser.feed(chunk, 0, chunk.length)
    }

    // ---- FrameSink ----

    header(h: FrameHeader) {
        this.rxPayload = h.plen > 0 ? Buffer.alloc(h.plen) : null
        this.got = 0
    }

    payload(chunk: Buffer, start: number, end: number) {
        if (!this.rxPayload) return
        chunk.copy(this.rxPayload, this.got, start, end)
        this.got += end - start
    }

    end(h: FrameHeader, ok: boolean) {
        if (h.op & OP_RESPONSE) {
            this.stats.faults++ // a response travelling the wrong way: ignore it
            return
        }
        if (this.queue.length >= 8) {
            this.log("flash: request queue full, dropping a request")
            return
        }
        this.queue.push({
            op: h.op,
            seq: h.seq,
            address: h.address,
            length: h.length,
            status: h.status,
            key: `${h.seq}:${h.op}:${h.address}:${h.length}:${h.headerCrc}:${h.frameCrc}`,
            payload: this.rxPayload,
            ok,
        })
        this.rxPayload = null
        void this.pump()
    }

    fault(kind: FrameFault) {
        this.stats.faults++
        if (kind !== "garbage") this.log(`flash: frame fault ${kind}`)
    }

    // ---- requests, strictly one after another ----

    private async pump() {
        if (this.pumping) return
        this.pumping = true
        try {
            while (this.queue.length > 0 && !this.closed) {
                const rq = this.queue.shift()
                const resp = await this.execute(rq)
                if (resp && !this.closed) await this.send(resp)
            }
        } finally {
            this.pumping = false
        }
    }

    private async execute(rq: Request): Promise<Buffer> {
        this.stats.requests++
        if (!rq.ok) {
            this.stats.damaged++
            return frame(rq.op | OP_RESPONSE, rq.seq, rq.address, rq.length, STATUS_DAMAGED, text("payload CRC failed"))
        }
        if (rq.op !== OP_GEOMETRY && rq.key === this.lastKey && this.lastResponse) {
            this.stats.replays++
            return this.lastResponse
        }
        let resp: Buffer
        try {
            resp = await this.run(rq)
        } catch (e) {
            if (e instanceof PowerCut) {
                this.stats.unpowered++
                this.log(`flash: ${e.message}; no answer to ${opText(rq)}`)
                return null
            }
            if (e instanceof FlashError) {
                this.stats.flashErrors++
                resp = frame(rq.op | OP_RESPONSE, rq.seq, e.address, rq.length, statusOfReason(e.reason as FlashReason), text(e.message))
            } else {
                resp = frame(rq.op | OP_RESPONSE, rq.seq, rq.address, rq.length, STATUS_SERVER_ERROR, text(String((e as Error)?.message ?? e)))
            }
        }
        this.lastKey = rq.key
        this.lastResponse = resp
        return resp
    }

    private async run(rq: Request): Promise<Buffer> {
        const rop = rq.op | OP_RESPONSE
        const plen = rq.payload ? rq.payload.length : 0
        const bad = (why: string) => frame(rop, rq.seq, rq.address, rq.length, STATUS_BAD_REQUEST, text(why))
        if (rq.status !== 0) return bad(`status ${rq.status} in a request`)
        switch (rq.op) {
            case OP_GEOMETRY: {
                this.lastKey = ""
                this.lastResponse = null
                const g = this.flash.geometry
                const b = Buffer.alloc(GEOMETRY_SIZE)
                b.writeUInt32LE(g.sectorSize, 0)
                b.writeUInt32LE(g.programUnit, 4)
                b.writeUInt32LE(g.size, 8)
                b.writeUInt16LE(this.maxPayload, 12)
                return frame(rop, rq.seq, 0, 0, STATUS_OK, b)
            }
            case OP_READ: {
                if (plen !== 0) return bad("read with a payload")
                if (rq.length > this.maxPayload) return bad(`read of ${rq.length} over ${this.maxPayload}`)
                this.stats.reads++
                const data = await this.flash.read(rq.address, rq.length)
                return frame(rop, rq.seq, rq.address, rq.length, STATUS_OK, data)
            }
            case OP_PROGRAM: {
                if (plen !== rq.length) return bad(`program length ${rq.length} but ${plen} payload bytes`)
                this.stats.programs++
                await this.flash.program(rq.address, rq.payload ?? Buffer.alloc(0))
                return frame(rop, rq.seq, rq.address, rq.length, STATUS_OK, null)
            }
            case OP_ERASE: {
                if (plen !== 0) return bad("erase with a payload")
                this.stats.erases++
                await this.flash.eraseSector(rq.address)
                return frame(rop, rq.seq, rq.address, 0, STATUS_OK, null)
            }
            default:
                return bad(`unknown op ${rq.op}`)
        }
    }

    private async send(resp: Buffer) {
        try {
            this.stats.bytesOut += resp.length
            await this.transport.write(resp)
        } catch (e) {
            // the VM is gone; the next client starts over with GEOMETRY
            this.log(`flash: response not delivered: ${(e as Error).message}`)
        }
    }
}

/** A whole frame: header, payload, trailer (when there is a payload). */
export function frame(op: number, seq: number, address: number, length: number, status: number, payload: Buffer): Buffer {
    const plen = payload ? payload.length : 0
    const out = Buffer.alloc(HEADER_SIZE + plen + (plen > 0 ? TRAILER_SIZE : 0))
    const hcrc = writeHeader(out, 0, op, seq, address >>> 0, length, plen, status)
    if (plen > 0) {
        payload.copy(out, HEADER_SIZE)
        const crc = crc32Update(hcrc, payload, 0, plen)
        out.writeUInt32LE(crc, HEADER_SIZE + plen)
    }
    return out
}

function text(s: string): Buffer {
    return Buffer.from(s.slice(0, 160), "utf8")
}

function opText(rq: Request): string {
    const names: Record<number, string> = { 1: "geometry", 2: "read", 3: "program", 4: "erase" }
    return `${names[rq.op] ?? `op ${rq.op}`} seq ${rq.seq} at 0x${rq.address.toString(16)}`
}
