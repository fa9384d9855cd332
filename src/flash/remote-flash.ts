// A Flash whose cells live somewhere else: a small request/response block protocol over any
// ByteTransport. In the DeviceScript simulator the NOR model sits in the Node host
// (sim/flash/flash-server.ts) and the firmware reaches it over a second Jacdac Serial channel
// (src/platform/channels.ts), so the flash survives a reboot, a crash or a power cut of the VM.
// In vitest the same client runs over the in-memory pipe (src/at/pipe.ts).
//
// Why a block protocol: the VM sends at most ~50 Jacdac packets/s (232-byte payloads, ≈ 20 ms a
// round trip; host → VM is fast). Running the W25Q driver's SPI transactions over the channel
// would cost ≈ 4 packets per 256-byte page (≈ 320 ms/KB); here a program request goes out as
// ONE byte stream cut into full packets with ONE acknowledgement (≈ 100 ms/KB), and a read is one
// small request answered by one streamed response.
// Measured through the real VM and hub (test/host/flash-channel.test.ts): a 4 KB program request
// 360 ms (90 ms/KB, 11.1 KB/s: the 50 packets/s cap, 18 packets); 1 KB requests 100 ms/KB; 4 KB
// reads 4-6 ms/KB (160-260 KB/s); 256-byte reads 80 ms/KB (one ≈ 20 ms round trip each); an
// erase 19 ms. Large requests are the lever: readers should ask for 4 KB at a time.
//
// ---- Frame (both directions; all integers little-endian) ----------------------------------
//   off size
//    0   1   magic 0xF5
//    1   1   op: request 0x01 GEOMETRY, 0x02 READ, 0x03 PROGRAM, 0x04 ERASE; response = op | 0x80
//    2   2   seq: chosen by the client, echoed by the response (a retry reuses it)
//    4   4   address
//    8   2   length: READ bytes wanted, PROGRAM bytes to program (= plen); echoed by responses
//   10   2   plen: payload bytes after the header (≤ maxPayload, 4096 by default)
//   12   1   status: 0 in requests and in successful responses; see STATUS_* below
//   13   1   protocol version (1)
//   14   4   CRC-32 (ISO-HDLC, src/lib/crc32.ts) of bytes 0..13: a damaged length never
//            stalls the receiver, a damaged header is dropped and the stream resynchronises
//   18  plen payload: PROGRAM data; READ response data; GEOMETRY response
//            {sectorSize u32, programUnit u32, size u32, maxPayload u16}; error response text
//   +4  (only when plen > 0) CRC-32 over bytes 0..13 and the payload: the whole frame's fields
//
// Rules: one request in flight. Every request gets exactly one response, except when the
// server's flash has lost power (a simulated power cut: the MCU would be off too), then none.
// A response whose payload CRC fails, or no response within `timeoutMs`, is retried with the
// SAME seq; the server remembers its last response and replays it for an identical request
// instead of executing it again, so a retried PROGRAM or ERASE runs at most once (NOR rules:
// a unit is programmed once between erases). GEOMETRY opens a session and clears that memory.
// Flash errors travel as typed error responses (status = the FlashReason's code, text in the
// payload, address in the header) and are thrown here as the same FlashError.
//
// Memory: the receive side is a byte state machine (split at any byte: header bytes are
// gathered in an 18-byte buffer, payload bytes are handed on as ranges of the incoming chunk and
// copied straight into the caller's result buffer); the send side assembles frames in one
// packet-sized buffer. No buffer larger than a request's own data is ever allocated.

import * as ds from "@devicescript/core"
import { ByteTransport } from "../at/transport"
import { crc32Update } from "../lib/crc32"
import { getU16, getU32, putU16, putU32 } from "../lib/bytes"
import { Signal } from "../lib/signal"
import { checkGeometry, Flash, FlashError, FlashGeometry, FlashReason, hex32 } from "./flash"

export const FRAME_MAGIC = 0xf5
export const FRAME_VERSION = 1
export const HEADER_SIZE = 18
export const TRAILER_SIZE = 4
export const OP_GEOMETRY = 0x01
export const OP_READ = 0x02
export const OP_PROGRAM = 0x03
export const OP_ERASE = 0x04
export const OP_RESPONSE = 0x80
/** Largest payload by default: one 4 KB sector (the image store reads a metadata sector at once). */
export const DEFAULT_MAX_PAYLOAD = 4096
/** GEOMETRY response payload size. */
export const GEOMETRY_SIZE = 14

export const STATUS_OK = 0
// 1..7: the FlashReason codes, in this order
const REASONS: FlashReason[] = ["unaligned", "out-of-range", "not-erased", "worn-out", "timeout", "bad-device", "verify"]
/** The server received the request with a bad payload CRC: send it again. */
export const STATUS_DAMAGED = 0x40
/** The request breaks the protocol (unknown op, length over maxPayload, plen ≠ length). */
export const STATUS_BAD_REQUEST = 0x41
/** The server failed for another reason (text in the payload). */
export const STATUS_SERVER_ERROR = 0x42

/** The status code that carries a FlashReason (1..7). */
export function statusOfReason(r: FlashReason): number {
    const i = REASONS.indexOf(r)
    return i < 0 ? STATUS_SERVER_ERROR : i + 1
}

/** The FlashReason a status code carries, or null. */
export function reasonOfStatus(status: number): FlashReason {
    return status >= 1 && status <= REASONS.length ? REASONS[status - 1] : null
}

/** What went wrong with the channel rather than with the flash. */
export type LinkFault =
    | "timeout" // no (valid) response in time, after the retries: the server or its power is gone
    | "down" // the transport reported the link down, or a write failed
    | "damaged" // responses kept failing their CRC
    | "protocol" // the server refused the request or answered something that does not fit it

/**
 * The channel to the flash failed: nothing is known about whether the operation happened (as
 * after a power cut). `reason` is "timeout", the nearest FlashReason (flash.ts has no "link"
 * reason yet); `fault` says what the link saw.
 */
export class FlashLinkError extends FlashError {
    fault: LinkFault
    constructor(fault: LinkFault, address: number, message: string) {
        super("link", address, `link ${fault}: ${message}`)
        this.name = "FlashLinkError"
        this.fault = fault
    }
}

/** A decoded header. The parser reuses one object; copy what you keep. */
export class FrameHeader {
    op = 0
    seq = 0
    address = 0
    length = 0
    plen = 0
    status = 0
    /** CRC-32 of the header fields (bytes 0..13). */
    headerCrc = 0
    /** CRC-32 of the fields and the payload (the trailer); = headerCrc when plen = 0. */
    frameCrc = 0
}

/**
 * Write a header at buf[off..off+18). Returns the CRC of its fields: the seed of the payload's
 * running CRC, whose final value is the trailer.
 */
export function writeHeader(
    buf: Buffer,
    off: number,
    op: number,
    seq: number,
    address: number,
    length: number,
    plen: number,
    status: number
): number {
    buf[off] = FRAME_MAGIC
    buf[off + 1] = op
    putU16(buf, off + 2, seq)
    putU32(buf, off + 4, address)
    putU16(buf, off + 8, length)
    putU16(buf, off + 10, plen)
    buf[off + 12] = status
    buf[off + 13] = FRAME_VERSION
    const crc = crc32Update(0, buf, off, off + 14)
    putU32(buf, off + 14, crc)
    return crc
}

export type FrameFault =
    | "garbage" // bytes outside a frame (counted once per run of them)
    | "header-crc" // 18 bytes starting with the magic whose CRC failed; resynchronised
    | "too-long" // a valid header announcing more than maxPayload; dropped, resynchronised
    | "payload-crc" // the trailer does not match; the frame is delivered with ok = false

export interface FrameSink {
    /** A header passed its CRC check; its payload (if any) follows through payload(). */
    header(h: FrameHeader): void
    /** Payload bytes chunk[start..end), in order, not yet checked: copy what you keep. */
    payload(chunk: Buffer, start: number, end: number): void
    /** The frame ended; ok = false when the payload failed its CRC. */
    end(h: FrameHeader, ok: boolean): void
    fault(kind: FrameFault): void
}

const ST_HEADER = 0
const ST_PAYLOAD = 1
const ST_TRAILER = 2

/** The receive state machine: HEADER(18) → PAYLOAD(plen) → TRAILER(4) → HEADER. */
export class FrameParser {
    readonly maxPayload: number
    readonly h: FrameHeader
    private sink: FrameSink
    private hdr: Buffer
    private hlen = 0
    private state = ST_HEADER
    private remaining = 0
    private crc = 0
    private trailer = 0
    private tlen = 0
    private inGarbage = false
    faults = 0
    frames = 0

    constructor(sink: FrameSink, maxPayload: number) {
        this.sink = sink
        this.maxPayload = maxPayload
        this.h = new FrameHeader()
        this.hdr = Buffer.alloc(HEADER_SIZE)
    }

    /** True while part of a frame has been received. */
    inFrame(): boolean {
        return this.state !== ST_HEADER || this.hlen > 0
    }

    /** Forget a partial frame (the peer went away, or a new attempt starts). */
    reset() {
        this.state = ST_HEADER
        this.hlen = 0
        this.tlen = 0
        this.inGarbage = false
    }

    feed(chunk: Buffer, start: number, end: number) {
        let i = start
        while (i < end) {
            const st = this.state
            if (st === ST_PAYLOAD) {
                const take = Math.min(this.remaining, end - i)
                this.crc = crc32Update(this.crc, chunk, i, i + take)
                this.sink.payload(chunk, i, i + take)
                i += take
                this.remaining -= take
                if (this.remaining === 0) {
                    this.state = ST_TRAILER
                    this.tlen = 0
                    this.trailer = 0
                }
                continue
            }
            const b = chunk[i++]
            if (st === ST_TRAILER) {
                this.trailer += b * (1 << (8 * this.tlen)) // unsigned, no sign bit trouble
                if (++this.tlen === TRAILER_SIZE) {
                    this.state = ST_HEADER
                    const ok = this.trailer === this.crc
                    this.h.frameCrc = this.trailer
                    if (!ok) this.fault("payload-crc")
                    this.frames++
                    this.sink.end(this.h, ok)
                }
                continue
            }
            // ST_HEADER
            if (this.hlen === 0 && b !== FRAME_MAGIC) {
                if (!this.inGarbage) {
                    this.inGarbage = true
                    this.fault("garbage")
                }
                continue
            }
            this.inGarbage = false
            this.hdr[this.hlen++] = b
            if (this.hlen === HEADER_SIZE) this.headerDone()
        }
    }

    private headerDone() {
        const hb = this.hdr
        const crc = crc32Update(0, hb, 0, 14)
        const plen = getU16(hb, 10)
        if (crc !== getU32(hb, 14) || hb[13] !== FRAME_VERSION) {
            this.fault("header-crc")
            this.resync()
            return
        }
        if (plen > this.maxPayload) {
            this.fault("too-long")
            this.resync()
            return
        }
        const h = this.h
        h.op = hb[1]
        h.seq = getU16(hb, 2)
        h.address = getU32(hb, 4)
        h.length = getU16(hb, 8)
        h.plen = plen
        h.status = hb[12]
        h.headerCrc = crc
        h.frameCrc = crc
        this.hlen = 0
        this.crc = crc
        this.sink.header(h)
        if (plen === 0) {
            this.frames++
            this.sink.end(h, true)
        } else {
            this.state = ST_PAYLOAD
            this.remaining = plen
        }
    }

    /** Drop the first byte of a bad header and look for the next magic in what is left. */
    private resync() {
        const hb = this.hdr
        let k = 1
        while (k < this.hlen && hb[k] !== FRAME_MAGIC) k++
        for (let j = k; j < this.hlen; j++) hb[j - k] = hb[j]
        this.hlen -= k
        // the bytes kept may hold a whole header already only if hlen reached 18, which it cannot
    }

    private fault(kind: FrameFault) {
        this.faults++
        this.sink.fault(kind)
    }
}

export interface RemoteFlashOptions {
    /** Time for a response, counted from the end of the request's write. Default 2000 ms. */
    timeoutMs?: number
    /** Attempts after the first when a response times out or arrives damaged. Default 1. */
    retries?: number
    /** Largest payload this side sends or accepts (the server's own limit also applies). Default 4096. */
    maxPayload?: number
    /** Bytes per transport write: one Jacdac packet (232) fills the VM's per-packet budget. */
    packetSize?: number
    /** A partial response older than this is dropped (the server restarted mid-frame). Default 1000 ms. */
    idleResetMs?: number
}

export interface RemoteFlashStats {
    requests: number
    attempts: number
    retries: number
    bytesOut: number
    bytesIn: number
    faults: number
}

const MAX_MESSAGE = 160

/** The firmware side of the channel: a Flash whose operations are requests to a FlashServer. */
export class RemoteFlash implements Flash, FrameSink {
    geometry: FlashGeometry
    readonly stats: RemoteFlashStats
    private transport: ByteTransport
    private parser: FrameParser
    private timeoutMs: number
    private retries: number
    private maxPayload: number
    private packetSize: number
    private idleResetMs: number
    private pkt: Buffer
    private hdrOut: Buffer
    private signal: Signal
    private lockSignal: Signal
    private busy = false
    private linkUp = true
    private lastByteAt = 0
    private seq = 0
    // the request in flight
    private pOp = -1
    private pSeq = -1
    private pAccept = false
    private pDone = false
    private pDamaged = false
    private pProtocol = ""
    private pStatus = 0
    private pAddress = 0
    private pDest: Buffer = null
    private pDestOff = 0
    private pWant = 0
    /** Payload bytes of the accepted response taken so far. */
    private pGot = 0
    private msg: Buffer
    private msgLen = 0
    private geo: Buffer

    private constructor(transport: ByteTransport, o: RemoteFlashOptions) {
        this.transport = transport
        this.timeoutMs = o.timeoutMs || 2000
        this.retries = o.retries === undefined ? 1 : o.retries
        this.maxPayload = o.maxPayload || DEFAULT_MAX_PAYLOAD
        this.packetSize = o.packetSize || 232
        this.idleResetMs = o.idleResetMs || 1000
        this.stats = { requests: 0, attempts: 0, retries: 0, bytesOut: 0, bytesIn: 0, faults: 0 }
        this.parser = new FrameParser(this, this.maxPayload)
        this.pkt = Buffer.alloc(this.packetSize)
        this.hdrOut = Buffer.alloc(HEADER_SIZE)
        this.msg = Buffer.alloc(MAX_MESSAGE)
        this.geo = Buffer.alloc(GEOMETRY_SIZE)
        this.signal = new Signal()
        this.lockSignal = new Signal()
        this.geometry = null
        const self = this
        transport.listen({
            data: (chunk: Buffer) => {
                self.onData(chunk)
            },
            link: (up: boolean) => {
                self.linkUp = up
                self.parser.reset()
                self.signal.notify()
            },
        })
    }

    /** Attach to the server on `transport` and fetch the geometry (once). */
    static async open(transport: ByteTransport, options?: RemoteFlashOptions): Promise<RemoteFlash> {
        const f = new RemoteFlash(transport, options || {})
        await f.request(OP_GEOMETRY, 0, 0, null, 0, 0, null, 0)
        const g = f.geo
        const geometry: FlashGeometry = { sectorSize: getU32(g, 0), programUnit: getU32(g, 4), size: getU32(g, 8) }
        checkGeometry(geometry)
        const serverMax = getU16(g, 12)
        if (serverMax < f.maxPayload) f.maxPayload = serverMax
        if (f.maxPayload < geometry.programUnit)
            throw new FlashLinkError("protocol", 0, `server payload limit ${serverMax} below the program unit`)
        f.geometry = geometry
        return f
    }

    /** Largest payload per request (reads and programs larger than this are split). */
    payloadLimit(): number {
        return this.maxPayload
    }

    async read(address: number, length: number): Promise<Buffer> {
        const out = Buffer.alloc(length)
        let off = 0
        while (true) {
            const n = Math.min(this.maxPayload, length - off)
            await this.request(OP_READ, address + off, n, null, 0, 0, out, off)
            off += n
            if (off >= length) break
        }
        return out
    }

    async program(address: number, data: Buffer): Promise<void> {
        // the split keeps each piece a multiple of the program unit (maxPayload is a power of two ≥ unit
        // in any sane setup; otherwise round down to the unit)
        let step = this.maxPayload
        const unit = this.geometry.programUnit
        step = step - (step - Math.floor(step / unit) * unit)
        if (data.length <= step) {
            await this.request(OP_PROGRAM, address, data.length, data, 0, data.length, null, 0)
            return
        }
        for (let off = 0; off < data.length; off += step) {
            const end = Math.min(off + step, data.length)
            await this.request(OP_PROGRAM, address + off, end - off, data, off, end, null, 0)
        }
    }

    async eraseSector(address: number): Promise<void> {
        await this.request(OP_ERASE, address, 0, null, 0, 0, null, 0)
    }

    // ---- request / response ----

    private async lock() {
        while (this.busy) await this.lockSignal.wait(1000)
        this.busy = true
    }

    private unlock() {
        this.busy = false
        this.lockSignal.notify()
    }

    private async request(
        op: number,
        address: number,
        length: number,
        data: Buffer,
        dStart: number,
        dEnd: number,
        dest: Buffer,
        destOff: number
    ) {
        await this.lock()
        try {
            this.stats.requests++
            this.seq = (this.seq + 1) & 0xffff
            let attempt = 0
            while (true) {
                this.stats.attempts++
                this.pOp = op
                this.pSeq = this.seq
                this.pAccept = false
                this.pDone = false
                this.pDamaged = false
                this.pProtocol = ""
                this.pStatus = 0
                this.pDest = dest
                this.pDestOff = destOff
                this.pWant = op === OP_READ ? length : 0
                this.pGot = 0
                this.msgLen = 0
                if (!this.linkUp) throw new FlashLinkError("down", address, "the transport is down")
                try {
                    await this.sendFrame(op, this.seq, address, length, data, dStart, dEnd)
                } catch (e) {
                    if (e instanceof FlashError) throw e
                    throw new FlashLinkError("down", address, `write failed: ${(e as Error).message}`)
                }
                const deadline = ds.millis() + this.timeoutMs
                while (!this.pDone && this.linkUp) {
                    const left = deadline - ds.millis()
                    if (left <= 0) break
                    await this.signal.wait(left)
                }
                this.pOp = -1
                if (this.pDone && this.pProtocol)
                    throw new FlashLinkError("protocol", address, this.pProtocol)
                if (this.pDone && !this.pDamaged && this.pStatus !== STATUS_DAMAGED) break
                if (!this.linkUp) throw new FlashLinkError("down", address, `${opName(op)} lost the link`)
                if (attempt >= this.retries) {
                    const fault: LinkFault = this.pDone ? "damaged" : "timeout"
                    throw new FlashLinkError(
                        fault,
                        address,
                        `${opName(op)} at 0x${hex32(address)}: ${fault === "timeout" ? `no response in ${this.timeoutMs} ms` : "damaged responses"} after ${attempt + 1} attempts`
                    )
                }
                this.stats.retries++
                this.parser.reset()
                attempt++
            }
            const st = this.pStatus
            if (st === STATUS_OK) return
            const text = this.msgLen > 0 ? this.msg.slice(0, this.msgLen).toString("utf-8") : ""
            const reason = reasonOfStatus(st)
            if (reason) throw new FlashError(reason, this.pAddress, `(remote) ${text}`)
            throw new FlashLinkError("protocol", address, `server status ${st}: ${text}`)
        } finally {
            this.pOp = -1
            this.unlock()
        }
    }

    /** Header + data + trailer, cut into packetSize writes (full packets except the last). */
    private async sendFrame(op: number, seq: number, address: number, length: number, data: Buffer, dStart: number, dEnd: number) {
        const plen = dEnd - dStart
        const hb = this.hdrOut
        let crc = writeHeader(hb, 0, op, seq, address, length, plen, 0)
        const pkt = this.pkt
        const size = this.packetSize
        let fill = 0
        for (let i = 0; i < HEADER_SIZE; i++) {
            pkt[fill++] = hb[i]
            if (fill === size) {
                await this.flush(size)
                fill = 0
            }
        }
        let pos = dStart
        while (pos < dEnd) {
            const n = Math.min(size - fill, dEnd - pos)
            crc = crc32Update(crc, data, pos, pos + n)
            for (let i = 0; i < n; i++) pkt[fill + i] = data[pos + i]
            fill += n
            pos += n
            if (fill === size) {
                await this.flush(size)
                fill = 0
            }
        }
        if (plen > 0) {
            for (let k = 0; k < TRAILER_SIZE; k++) {
                pkt[fill++] = (crc >>> (8 * k)) & 0xff
                if (fill === size) {
                    await this.flush(size)
                    fill = 0
                }
            }
        }
        if (fill > 0) await this.flush(fill)
    }

    private async flush(n: number) {
        this.stats.bytesOut += n
        await this.transport.write(n === this.packetSize ? this.pkt : this.pkt.slice(0, n))
    }

    private onData(chunk: Buffer) {
        const now = ds.millis()
        if (this.parser.inFrame() && now - this.lastByteAt > this.idleResetMs) this.parser.reset()
        this.lastByteAt = now
        this.stats.bytesIn += chunk.length
        this.parser.feed(chunk, 0, chunk.length)
    }

    // ---- FrameSink: only the response to the request in flight is taken ----

    header(h: FrameHeader) {
        this.pAccept = this.pOp >= 0 && !this.pDone && h.op === (this.pOp | OP_RESPONSE) && h.seq === this.pSeq
        if (!this.pAccept) return
        this.pStatus = h.status
        this.pAddress = h.address
        if (h.status === STATUS_OK) {
            if (this.pOp === OP_READ && h.plen !== this.pWant) this.pProtocol = `read of ${this.pWant} answered with ${h.plen} bytes`
            else if (this.pOp === OP_GEOMETRY && h.plen !== GEOMETRY_SIZE) this.pProtocol = `geometry of ${h.plen} bytes`
            else if ((this.pOp === OP_PROGRAM || this.pOp === OP_ERASE) && h.plen !== 0) this.pProtocol = `ack with ${h.plen} bytes`
        }
    }

    payload(chunk: Buffer, start: number, end: number) {
        if (!this.pAccept || this.pProtocol) return
        if (this.pStatus !== STATUS_OK) {
            // error text, truncated
            for (let i = start; i < end && this.msgLen < MAX_MESSAGE; i++) this.msg[this.msgLen++] = chunk[i]
            return
        }
        const dst = this.pOp === OP_READ ? this.pDest : this.geo
        let o = (this.pOp === OP_READ ? this.pDestOff : 0) + this.pGot
        for (let i = start; i < end; i++) dst[o++] = chunk[i]
        this.pGot += end - start
    }

    end(h: FrameHeader, ok: boolean) {
        if (!this.pAccept) return
        this.pAccept = false
        // damaged: the next attempt asks again (the server replays its answer) and overwrites it all
        if (!ok) this.pDamaged = true
        this.pDone = true
        this.signal.notify()
    }

    fault(kind: FrameFault) {
        this.stats.faults++
    }
}

function opName(op: number): string {
    if (op === OP_GEOMETRY) return "geometry"
    if (op === OP_READ) return "read"
    if (op === OP_PROGRAM) return "program"
    if (op === OP_ERASE) return "erase"
    return `op ${op}`
}
