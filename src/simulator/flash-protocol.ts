// The wire protocol of the flash channel, shared by its two ends: the client in the firmware
// (src/simulator/remote-flash.ts) and the server in the Node host (sim/flash/flash-server.ts).
// A small request/response block protocol over any ByteTransport: frame layout, op and status
// codes, the header encoder and the receive state machine. No policy (retries, timeouts): that is
// the client's.
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
// payload, address in the header); the client throws them as the same FlashError.
//
// Memory: the receive side is a byte state machine (split at any byte: header bytes are
// gathered in an 18-byte buffer, payload bytes are handed on as ranges of the incoming chunk).
// No buffer larger than a frame header is allocated here.

import { crc32Update } from "../lib/crc32"
import { getU16, getU32, putU16, putU32 } from "../lib/bytes"
import { FlashReason } from "../flash/flash"

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
/** The simulator host's TCP port for this protocol (src/simulator/socket-transport.ts: not throttled like Jacdac). */
export const FLASH_SOCKET_PORT = 8084

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
