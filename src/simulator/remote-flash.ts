// The firmware side of the flash channel: a Flash (src/flash/flash.ts) whose cells live somewhere
// else, reached with the request/response protocol of ./flash-protocol.ts over any ByteTransport.
// In the DeviceScript simulator the NOR model sits in the Node host (sim/flash/flash-server.ts)
// and the firmware reaches it over a second Jacdac Serial channel (./channels.ts), so the flash
// survives a reboot, a crash or a power cut of the VM. In vitest the same client runs over the
// in-memory pipe (src/link/pipe.ts).
//
// Policy (the protocol has none): one request in flight (a lock); no valid response within
// `timeoutMs`, or one whose payload CRC fails, is retried with the SAME seq, which the server
// answers by replaying instead of executing again; what still fails is a FlashLinkError, and a
// typed error response is thrown as the same FlashError the server's flash raised.
//
// Memory: received payload bytes are copied straight from the incoming chunk into the caller's
// result buffer; the send side assembles each frame in one buffer (header + data + trailer) and
// writes it at once: the Jacdac transport cuts it into full packets, a socket sends it whole. No
// buffer larger than a request's own data and 22 bytes is ever allocated.

import * as ds from "@devicescript/core"
import { ByteTransport } from "../link/transport"
import { crc32Update } from "../lib/crc32"
import { getU16, getU32, putU32 } from "../lib/bytes"
import { Signal } from "../lib/signal"
import { checkGeometry, Flash, FlashError, FlashGeometry, hex32 } from "../flash/flash"
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
    reasonOfStatus,
    STATUS_DAMAGED,
    STATUS_OK,
    TRAILER_SIZE,
    writeHeader,
} from "./flash-protocol"

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

export interface RemoteFlashOptions {
    /** Time for a response, counted from the end of the request's write. Default 2000 ms. */
    timeoutMs?: number
    /** Attempts after the first when a response times out or arrives damaged. Default 1. */
    retries?: number
    /** Largest payload this side sends or accepts (the server's own limit also applies). Default 4096. */
    maxPayload?: number
    /** A partial response older than this is dropped (the server restarted mid-frame). Default 1000 ms. */
    idleResetMs?: number
    /**
     * Wake up this often while a response is due (default: only when it comes). For a transport
     * whose arrivals do not wake the VM: `devs run` runs the VM on a socket event only at its next
     * timer tick (≈ 10 ms later; Jacdac packets wake it at once), measured 10.8 ms per 1 KB round
     * trip waiting, 2.3 ms polling every 1 ms.
     */
    pollMs?: number
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
    private idleResetMs: number
    private pollMs: number
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
    private geo: Buffer

    private constructor(transport: ByteTransport, o: RemoteFlashOptions) {
        this.transport = transport
        this.timeoutMs = o.timeoutMs || 2000
        this.retries = o.retries === undefined ? 1 : o.retries
        this.maxPayload = o.maxPayload || DEFAULT_MAX_PAYLOAD
        this.idleResetMs = o.idleResetMs || 1000
        this.pollMs = o.pollMs || 0
        this.stats = { requests: 0, attempts: 0, retries: 0, bytesOut: 0, bytesIn: 0, faults: 0 }
        this.parser = new FrameParser(this, this.maxPayload)
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
        let off = 0
        while (true) {
            const end = Math.min(off + step, data.length)
            await this.request(OP_PROGRAM, address + off, end - off, data, off, end, null, 0)
            off = end
            if (off >= data.length) break
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
                this.pWant = op === OP_READ ? length : op === OP_GEOMETRY ? GEOMETRY_SIZE : 0
                this.pGot = 0
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
                    await this.signal.wait(this.pollMs > 0 && this.pollMs < left ? this.pollMs : left)
                }
                this.pOp = -1
                if (this.pDone && this.pProtocol)
                    throw new FlashLinkError("protocol", address, this.pProtocol)
                if (this.pDone && !this.pDamaged && this.pStatus !== STATUS_DAMAGED) break
                if (!this.linkUp) throw new FlashLinkError("down", address, `${opName(op)} lost the link`)
                if (attempt >= this.retries) {
                    const fault: LinkFault = this.pDone ? "damaged" : "timeout"
                    throw new FlashLinkError(fault, address, `${opName(op)} at 0x${hex32(address)}: ${attempt + 1} attempts`)
                }
                this.stats.retries++
                this.parser.reset()
                attempt++
            }
            const st = this.pStatus
            if (st === STATUS_OK) return
            const text = this.msg.slice(0, Math.min(this.pGot, MAX_MESSAGE)).toString("utf-8")
            const reason = reasonOfStatus(st)
            if (reason) throw new FlashError(reason, this.pAddress, `(remote) ${text}`)
            throw new FlashLinkError("protocol", address, `server status ${st}: ${text}`)
        } finally {
            this.pOp = -1
            this.unlock()
        }
    }

    /** Header + data + trailer in one write: the transport cuts it into packets if it has any. */
    private async sendFrame(op: number, seq: number, address: number, length: number, data: Buffer, dStart: number, dEnd: number) {
        const plen = dEnd - dStart
        const f = Buffer.alloc(HEADER_SIZE + (plen > 0 ? plen + TRAILER_SIZE : 0))
        let crc = writeHeader(f, 0, op, seq, address, length, plen, 0)
        if (plen > 0) {
            // 1 KB per fiber turn: a 4 KB frame's copy and CRC in one turn passed the VM's
            // 131 072-opcode slice (InfiniteLoop in test/host/flash-channel.test.ts)
            let at = dStart
            while (true) {
                const end = Math.min(at + 1024, dEnd)
                for (let i = at; i < end; i++) f[HEADER_SIZE + i - dStart] = data[i]
                crc = crc32Update(crc, data, at, end)
                at = end
                if (at >= dEnd) break
                await ds.sleep(0)
            }
            putU32(f, HEADER_SIZE + plen, crc)
        }
        this.stats.bytesOut += f.length
        await this.transport.write(f)
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
        // a successful answer carries exactly what was asked: the read's bytes, the geometry, or nothing
        if (h.status === STATUS_OK && h.plen !== this.pWant) this.pProtocol = `${opName(this.pOp)} answered with ${h.plen} bytes`
    }

    payload(chunk: Buffer, start: number, end: number) {
        if (!this.pAccept || this.pProtocol) return
        // an error's text (truncated to the message buffer), the read's data or the geometry
        let dst = this.geo
        let o = this.pGot
        if (this.pStatus !== STATUS_OK) dst = this.msg
        else if (this.pOp === OP_READ) {
            dst = this.pDest
            o += this.pDestOff
        }
        for (let i = start; i < end && o < dst.length; i++) dst[o++] = chunk[i]
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
