// The simulator firmware's flash: the host's NOR model (sim/flash/flash-server.ts) over the VM's
// TCP socket to 127.0.0.1:8084 (./socket-transport.ts, sim/host/flash-socket.ts). The frames are
// those of ./flash-protocol.ts, so the host's FlashServer is the same one that serves the Jacdac
// "flash" channel (RemoteFlash, for the application harness in examples/simulator); but a socket
// is ordered and lossless, so this client has none of RemoteFlash's machinery for a lossy link
// (no retries, no resynchronisation, no generic frame parser): 1.1 KB of bytecode instead of
// 4.1 KB, room the VM firmware needed for the signature check (issue 17).
//
// What it keeps of the channel's rules (the power-cut semantics):
// - a request goes out as ONE write of a whole frame (header, payload, CRC trailer): the host
//   applies only complete frames whose CRCs pass, so a program is applied whole or not at all;
//   a VM killed mid-write closes its socket, and the host drops the half frame;
// - one request in flight; the answer must echo its op and seq and pass both CRCs;
// - a typed error answer (status 1..7) is thrown as the same FlashError the host's flash raised
//   (reason, address, text); no answer in `timeoutMs` (the host's flash has no power: the MCU
//   would be off too), a closed socket, or an answer that does not fit are FlashError "link".
// Memory: a 22-byte header/trailer buffer and a 160-byte message buffer; a read's bytes go
// straight into the caller's buffer. Requests are cut at 512 B: an answer's byte-by-byte copy
// (onData, in the socket's event) and its CRC, then the caller's own work on the bytes until its
// next request (a delta's add loop over 1 KB of old bytes, the store's erased-scan, the next
// program's frame and CRC) ran in one VM slice; at 1 KB a delta's apply panicked (InfiniteLoop,
// 60001) in the VM, mid-apply, at every try.

import * as ds from "@devicescript/core"
import { ByteTransport, TransportEvents } from "../link/transport"
import { crc32Update } from "../lib/crc32"
import { getU16, getU32, putU32 } from "../lib/bytes"
import { Signal } from "../lib/signal"
import { checkGeometry, Flash, FlashError, FlashGeometry } from "../flash/flash"
import { FRAME_MAGIC, HEADER_SIZE, OP_ERASE, OP_GEOMETRY, OP_PROGRAM, OP_READ, reasonOfStatus, writeHeader } from "./flash-protocol"

/** Payload bytes per request (see the header: 1 KB panicked a delta's apply). */
const CHUNK = 512
/** Error texts are at most this long (the server cuts them there); the geometry is 14 bytes. */
const MSG = 160

/** A Flash, and the transport's listener itself (data, link): two methods instead of two closures that call them. */
export class SocketFlash implements Flash, TransportEvents {
    geometry: FlashGeometry
    private t: ByteTransport
    private timeoutMs: number
    private pollMs: number
    private sig: Signal
    /** The answer's header (0..17), then its trailer (18..21). */
    private hdr: Buffer
    private msg: Buffer
    private up = true
    private busy = false
    private seq = 0
    /** Bytes of the answer received, and expected (0: no answer is due, bytes are dropped). */
    private got = 0
    private want = 0
    private plen = 0
    /** Where the answer's payload goes: the read's buffer, or msg (geometry, error text). */
    // set by request() before an answer is due (no initialisers: each costs ~6 B of constructor bytecode)
    private dest: Buffer
    private destOff: number
    private into: Buffer
    private intoOff: number

    /**
     * A Flash over `t`, polling every `pollMs` while an answer is due: the VM runs on socket data
     * only at its next timer tick (≈ 10 ms later), measured 10.8 ms per 1 KB round trip waiting,
     * 2.3 ms polling every 1 ms.
     */
    constructor(t: ByteTransport, timeoutMs: number, pollMs: number) {
        this.t = t
        this.timeoutMs = timeoutMs
        this.pollMs = pollMs
        this.sig = new Signal()
        this.hdr = Buffer.alloc(HEADER_SIZE + 4)
        this.msg = Buffer.alloc(MSG)
        t.listen(this)
    }

    /** The transport's listener: the socket closed or (re)opened. */
    link(up: boolean) {
        this.up = up
        this.sig.notify()
    }

    /** Ask the host for the geometry (this also opens the host's session). */
    async open(): Promise<void> {
        await this.request(OP_GEOMETRY, 0, 0, null, 0, null, 0)
        const m = this.msg
        const g: FlashGeometry = { sectorSize: getU32(m, 0), programUnit: getU32(m, 4), size: getU32(m, 8) }
        checkGeometry(g)
        this.geometry = g
    }

    async read(address: number, length: number): Promise<Buffer> {
        const out = Buffer.alloc(length)
        for (let off = 0; off < length; off += CHUNK) await this.request(OP_READ, address + off, Math.min(CHUNK, length - off), null, 0, out, off)
        return out
    }

    async program(address: number, data: Buffer): Promise<void> {
        // CHUNK is a multiple of any program unit up to 1 KB (the host's units are far smaller)
        for (let off = 0; off < data.length; off += CHUNK) await this.request(OP_PROGRAM, address + off, Math.min(CHUNK, data.length - off), data, off, null, 0)
    }

    async eraseSector(address: number): Promise<void> {
        await this.request(OP_ERASE, address, 0, null, 0, null, 0)
    }

    private async request(op: number, address: number, length: number, data: Buffer, dOff: number, dest: Buffer, destOff: number) {
        while (this.busy) await ds.sleep(1)
        this.busy = true
        try {
            const seq = (this.seq = (this.seq + 1) & 0xffff)
            const plen = data ? length : 0
            const f = Buffer.alloc(HEADER_SIZE + (plen > 0 ? plen + 4 : 0))
            let crc = writeHeader(f, 0, op, seq, address, length, plen, 0)
            if (plen > 0) {
                for (let i = 0; i < plen; i++) f[HEADER_SIZE + i] = data[dOff + i]
                crc = crc32Update(crc, f, HEADER_SIZE, HEADER_SIZE + plen)
                putU32(f, HEADER_SIZE + plen, crc)
            }
            this.dest = dest
            this.destOff = destOff
            this.into = null
            this.got = 0
            this.want = HEADER_SIZE
            let why = "the flash socket is closed"
            if (this.up) {
                try {
                    await this.t.write(f)
                    const deadline = ds.millis() + this.timeoutMs
                    while (this.got < this.want && this.up && ds.millis() < deadline) await this.sig.wait(this.pollMs > 0 ? this.pollMs : deadline - ds.millis())
                    why = this.got < this.want ? (this.up ? `no answer in ${this.timeoutMs} ms` : why) : ""
                } catch (e) {
                    why = `write failed: ${(e as Error).message}`
                }
            }
            this.want = 0
            const h = this.hdr
            const n = this.plen
            const p = this.into
            if (!why && (h[1] !== (op | 0x80) || getU16(h, 2) !== seq || p === null)) why = "an answer that does not fit the request"
            if (!why && n > 0 && crc32Update(getU32(h, 14), p, this.intoOff, this.intoOff + n) !== getU32(h, HEADER_SIZE)) why = "a damaged answer"
            if (why) throw new FlashError("link", address, why)
            const st = h[12]
            if (st !== 0) {
                // the host's flash refused: its reason and address, its text
                const reason = reasonOfStatus(st)
                const text = this.msg.slice(0, n).toString("utf-8")
                throw new FlashError(reason || "link", reason ? getU32(h, 4) : address, reason ? `(remote) ${text}` : `host status ${st}: ${text}`)
            }
            if (n !== (dest ? length : op === OP_GEOMETRY ? 14 : 0)) throw new FlashError("link", address, `an answer of ${n} bytes`)
        } finally {
            this.want = 0
            this.busy = false
        }
    }

    /** The transport's listener: the answer, byte by byte: header (checked once whole), payload into its place, trailer. */
    data(c: Buffer) {
        const h = this.hdr
        for (let i = 0; i < c.length && this.got < this.want; i++) {
            const k = this.got++ - HEADER_SIZE
            if (k < 0) {
                h[k + HEADER_SIZE] = c[i]
                if (k < -1) continue
                // the header is in: where its payload goes, how much more is due
                const n = getU16(h, 10)
                this.plen = n
                this.into = h[12] === 0 && this.dest ? this.dest : this.msg
                this.intoOff = this.into === this.dest ? this.destOff : 0
                const bad = h[0] !== FRAME_MAGIC || crc32Update(0, h, 0, 14) !== getU32(h, 14) || n > this.into.length - this.intoOff
                if (bad) this.into = null // the request sees it; nothing more is taken
                this.want = bad ? 0 : HEADER_SIZE + (n > 0 ? n + 4 : 0)
            } else if (k < this.plen) this.into[this.intoOff + k] = c[i]
            else h[HEADER_SIZE + k - this.plen] = c[i]
        }
        if (this.got >= this.want) this.sig.notify()
    }
}
