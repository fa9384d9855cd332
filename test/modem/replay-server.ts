// A module's side of the SOTA walk-through in quecthing-at.md §11, replayed byte for byte over
// TCP for `npm run sim -- --modem tcp://…`. A script, not an emulator: each command text the
// engine sends is matched and answered with the transcript's lines (including its quirk of
// echoing AT+QIOTREG=1, AT+QIOTUPDATE=1 and =3 even with echo off), with the package, digests
// and lengths computed here from a generated 27 954-byte package. Nothing in sim/module is used.
//
// What the script keeps is what the transcript implies: echo on or off, registered or not, the
// version the MCU reported, and how far the plan got (offered, downloading, updating, done).

import { createHash } from "node:crypto"
import * as net from "node:net"
import * as zlib from "node:zlib"

export const TOTAL = 27954
export const COMPONENT = "STM32"
export const FROM = "1_0_0"
export const TO = "2_0_0"
export const SDK = "2.9.2"
export const REVISION = ["Quectel", "EC200U", "Revision: EC200UCNAAR02A11M08"]

/**
 * The package: it starts with the bytes §11 prints as hex words (00000064 65746e45 52412072
 * 4d545f48, little-endian), then seeded bytes with the sequences a line parser trips on: a
 * final result, a URC, a payload header, CR/LF on a block boundary.
 */
export function walkthroughPackage(size = TOTAL): Buffer {
    const b = Buffer.alloc(size)
    let x = 0x9e3779b9
    for (let i = 0; i < size; i++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        b[i] = x & 0xff
    }
    const words = [0x00000064, 0x65746e45, 0x52412072, 0x4d545f48]
    words.forEach((w, i) => b.writeUInt32LE(w, 4 * i))
    const traps = ["\r\nOK\r\n", "\r\n+QIOTEVT: 7,10706\r\n", "\r\n+QIOTOTARD: 0,1024\r\n", "\r\nERROR\r\n\r\n"]
    traps.forEach((t, i) => Buffer.from(t).copy(b, 300 + 5000 * i))
    b[1023] = 13
    b[1024] = 10
    return b
}

export function digests(pkg: Buffer) {
    return {
        md5: createHash("md5").update(pkg).digest("hex"),
        sha256: createHash("sha256").update(pkg).digest("hex"),
        crc: zlib.crc32(pkg),
    }
}

export interface ReplayOptions {
    pkg?: Buffer
    /** The ProductKey AT+QIOTCFG="productinfo" reports; "" = not configured. */
    productKey?: string
    /** Accept connections and never say a word. */
    silent?: boolean
    /**
     * Drop the connection in the middle of the reply to the first read at or past this offset
     * (header and half the bytes sent), and stop listening, so the client cannot come back.
     */
    dropAt?: number
    maxRead?: number
}

const CRLF = "\r\n"

export class ReplayServer {
    /** Every command line received, in order. */
    readonly received: string[] = []
    /** Read offsets requested with AT+QIOTOTARD=<start>,<len>. */
    readonly reads: { start: number; length: number }[] = []
    connections = 0
    dropped = false
    stage: "idle" | "offered" | "downloading" | "updating" | "done" = "idle"
    readonly pkg: Buffer
    private echo = true
    private registered = false
    private reported = ""
    private server: net.Server
    private sockets = new Set<net.Socket>()

    private constructor(readonly o: ReplayOptions) {
        this.pkg = o.pkg ?? walkthroughPackage()
    }

    static async start(o: ReplayOptions = {}): Promise<ReplayServer> {
        const r = new ReplayServer(o)
        r.server = net.createServer(s => r.accept(s))
        await new Promise<void>(resolve => r.server.listen(0, "127.0.0.1", () => resolve()))
        return r
    }

    get port(): number {
        return (this.server.address() as net.AddressInfo).port
    }

    async close() {
        for (const s of this.sockets) s.destroy()
        await new Promise<void>(resolve => this.server.close(() => resolve()))
    }

    private accept(s: net.Socket) {
        this.connections++
        this.sockets.add(s)
        s.on("close", () => this.sockets.delete(s))
        s.on("error", () => {})
        if (this.o.silent) return
        let rx = ""
        s.on("data", chunk => {
            rx += chunk.toString("latin1")
            let cr: number
            while ((cr = rx.indexOf("\r")) >= 0) {
                const cmd = rx.slice(0, cr).replace(/^\n+/, "")
                rx = rx.slice(cr + 1)
                if (cmd.length === 0) continue
                this.received.push(cmd)
                if (this.echo) s.write(cmd + "\r")
                this.answer(s, cmd)
                if (s.destroyed) return
            }
        })
    }

    private lines(s: net.Socket, ...lines: string[]) {
        for (const l of lines) s.write(CRLF + l + CRLF)
    }

    /** The transcript echoes these even though echo was turned off. */
    private transcriptEcho(s: net.Socket, cmd: string) {
        if (!this.echo) s.write(cmd + "\r")
    }

    private answer(s: net.Socket, cmd: string) {
        const pkg = this.pkg
        const total = pkg.length
        const max = this.o.maxRead ?? 1024
        const ok = () => this.lines(s, "OK")
        const error = () => this.lines(s, "ERROR")
        let m: RegExpExecArray | null
        if (cmd === "AT") return ok()
        if (cmd === "ATE0") {
            this.echo = false
            return ok()
        }
        if (cmd === "ATI") return this.lines(s, ...REVISION, "OK")
        if (cmd === "AT+QIOTINFO?") return this.lines(s, `+QIOTINFO: "sdk_ver","${SDK}"`, "OK")
        if (cmd === 'AT+QIOTCFG="productinfo"') {
            const pk = this.o.productKey ?? "p11abc"
            return this.lines(s, `+QIOTCFG: "productinfo","${pk}","${pk ? "RMWdemoSecret" : ""}","2.0"`, "OK")
        }
        if (cmd === "AT+QIOTSTATE?") return this.lines(s, `+QIOTSTATE: ${this.registered ? 8 : 1}`, "OK")
        if (cmd === "AT+QIOTREG=1") {
            this.transcriptEcho(s, cmd)
            ok()
            this.registered = true
            return this.lines(s, "+QIOTEVT: 2,10200", "+QIOTEVT: 3,10200")
        }
        if (cmd === "AT+CSQ") return this.lines(s, "+CSQ: 24,99", "OK")
        if ((m = /^AT\+QIOTMCUVER="([^"]*)","([^"]*)"$/.exec(cmd))) {
            ok()
            this.reported = m[2]
            if (this.stage === "updating" && m[1] === COMPONENT && m[2] === TO) {
                this.stage = "done"
                this.lines(s, '+QIND: "FOTA","END",0', "+QIOTEVT: 7,10705")
            }
            return
        }
        if (cmd === "AT+QIOTOTAREQ=1") {
            ok()
            if (this.registered && this.reported === FROM && this.stage !== "updating" && this.stage !== "done") {
                this.stage = "offered"
                this.lines(s, `+QIOTEVT: 7,10700,"${COMPONENT}","","${TO}",30,-113,${total}`)
            }
            return
        }
        if (cmd === "AT+QIOTUPDATE=1") {
            if (this.stage !== "offered" && this.stage !== "downloading") return error()
            this.transcriptEcho(s, cmd)
            ok()
            this.stage = "downloading"
            const d = digests(pkg)
            return this.lines(
                s,
                `+QIOTEVT: 7,10701,"${COMPONENT}",${total},"${d.md5}",${d.crc},"${d.sha256}"`,
                "+QIOTEVT: 7,10702",
                `+QIOTEVT: 7,10703,"${COMPONENT}",${total},0,${total}`
            )
        }
        if (cmd === "AT+QIOTOTARD=?") return this.lines(s, `+QIOTOTARD: 0,(1-${max})`, "OK")
        if ((m = /^AT\+QIOTOTARD=(\d+),(\d+)$/.exec(cmd))) {
            const start = Number(m[1])
            const want = Number(m[2])
            if (this.stage !== "downloading" || want < 1 || want > max || start >= total) return error()
            const n = Math.min(want, total - start)
            this.reads.push({ start, length: n })
            const header = Buffer.from(`${CRLF}+QIOTOTARD: ${start},${n}${CRLF}`)
            const data = pkg.subarray(start, start + n)
            if (this.o.dropAt !== undefined && !this.dropped && start >= this.o.dropAt) {
                this.dropped = true
                s.write(Buffer.concat([header, data.subarray(0, n >> 1)]), () => s.destroy())
                this.server.close()
                return
            }
            return void s.write(Buffer.concat([header, data, Buffer.from(`${CRLF}${CRLF}OK${CRLF}`)]))
        }
        if (cmd === "AT+QIOTUPDATE=3") {
            if (this.stage !== "downloading") return error()
            this.transcriptEcho(s, cmd)
            ok()
            this.stage = "updating"
            return this.lines(s, "+QIOTEVT: 7,10704")
        }
        if (cmd === "AT+QIOTUPDATE=0") return ok()
        error()
    }
}
