// A ByteTransport over a TCP byte stream (`--modem tcp://HOST:PORT`): a module behind a
// serial-to-TCP bridge (ser2net, an ESP-Link), the emulator served by `--serve-module`, or a
// test's scripted replay. Raw bytes both ways, nothing framed.
//
// The link follows the connection: when the peer closes or drops it, link(false); the transport
// then reconnects every `reconnectMs` and reports link(true) when a connection is back (a
// bridge restarted, a module re-enumerated behind it). Open errors are LinkErrors with a code
// and one line a person can act on.

import * as net from "node:net"
import type { ByteTransport, TransportEvents } from "../../src/link/transport"

export type LinkErrorCode =
    | "bad-address"
    | "no-such-port"
    | "port-busy"
    | "no-serial-library"
    | "refused"
    | "no-such-host"
    | "unreachable"
    | "no-answer"
    | "not-configured"
    | "flash-file"

/** A module link that cannot be used, with a code (tests, JSON) and a sentence (people). */
export class LinkError extends Error {
    constructor(
        readonly code: LinkErrorCode,
        message: string
    ) {
        super(message)
        this.name = "LinkError"
    }
}

/** What the CLI needs from any module link, serial or TCP. */
export interface ModuleLink extends ByteTransport {
    /** As given: "tcp://127.0.0.1:5000", "/dev/ttyUSB2". */
    readonly where: string
    /** True while connected (or the port is open). */
    isUp(): boolean
    /** How often the link went down while in use. */
    drops: number
    /** Close for good: no reconnection, no more events. */
    close(): Promise<void>
}

export interface TcpOptions {
    /** Give up a connection attempt after this long. Default 5000 ms. */
    connectTimeoutMs?: number
    /** After a drop, try to connect again this often. Default 1000 ms; 0: never. */
    reconnectMs?: number
    /** Told about drops and reconnections (a line for people). */
    notice?: (text: string) => void
}

/** "tcp://host:port" → host and port; null when `where` is not a TCP address at all. */
export function parseTcpAddress(where: string): { host: string; port: number } | null {
    if (!/^tcp:\/\//i.test(where)) return null
    const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})\/?$/i.exec(where)
    if (!m) throw new LinkError("bad-address", `${where}: expected tcp://HOST:PORT`)
    const port = Number(m[2])
    if (port < 1 || port > 65535) throw new LinkError("bad-address", `${where}: the port must be between 1 and 65535`)
    return { host: m[1].replace(/^\[|\]$/g, ""), port }
}

function connectError(where: string, err: any, timeoutMs: number): LinkError {
    const code = err && err.code
    if (code === "ECONNREFUSED") return new LinkError("refused", `${where}: connection refused (nothing listens on that port)`)
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new LinkError("no-such-host", `${where}: no such host`)
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return new LinkError("unreachable", `${where}: host unreachable`)
    if (code === "ETIMEDOUT" || code === "timeout")
        return new LinkError("no-answer", `${where}: no answer to the connection attempt within ${timeoutMs / 1000} s`)
    return new LinkError("unreachable", `${where}: ${err && err.message ? err.message : err}`)
}

function connectOnce(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host, port })
        const timer = setTimeout(() => {
            s.destroy()
            reject({ code: "timeout" })
        }, timeoutMs)
        s.once("connect", () => {
            clearTimeout(timer)
            s.removeAllListeners("error")
            resolve(s)
        })
        s.once("error", err => {
            clearTimeout(timer)
            s.destroy()
            reject(err)
        })
    })
}

export class TcpTransport implements ModuleLink {
    drops = 0
    private events: TransportEvents = null
    private socket: net.Socket = null
    private closed = false
    private timer: ReturnType<typeof setTimeout> = null
    private connectTimeoutMs: number
    private reconnectMs: number
    private notice: (text: string) => void

    private constructor(
        readonly where: string,
        private host: string,
        private port: number,
        o: TcpOptions
    ) {
        this.connectTimeoutMs = o.connectTimeoutMs ?? 5000
        this.reconnectMs = o.reconnectMs ?? 1000
        this.notice = o.notice ?? (() => {})
    }

    /** Connect to tcp://HOST:PORT; rejects with a LinkError. */
    static async connect(where: string, o: TcpOptions = {}): Promise<TcpTransport> {
        const addr = parseTcpAddress(where)
        if (!addr) throw new LinkError("bad-address", `${where}: expected tcp://HOST:PORT`)
        const t = new TcpTransport(where, addr.host, addr.port, o)
        try {
            t.attach(await connectOnce(addr.host, addr.port, t.connectTimeoutMs))
        } catch (err) {
            throw connectError(where, err, t.connectTimeoutMs)
        }
        return t
    }

    isUp(): boolean {
        return this.socket !== null
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    write(data: Buffer): Promise<void> {
        const s = this.socket
        if (!s) return Promise.reject(new Error(`${this.where}: not connected`))
        return new Promise((resolve, reject) => {
            s.write(data, err => (err ? reject(err) : resolve()))
        })
    }

    async close() {
        this.closed = true
        if (this.timer) clearTimeout(this.timer)
        this.timer = null
        const s = this.socket
        this.socket = null
        if (s) await new Promise<void>(resolve => s.end(() => (s.destroy(), resolve())))
    }

    private attach(s: net.Socket) {
        s.setNoDelay(true)
        this.socket = s
        // each 'data' chunk is a fresh buffer that Node never touches again: handed over as is
        s.on("data", chunk => {
            if (this.socket === s && this.events) this.events.data(chunk)
        })
        s.on("error", () => {}) // 'close' follows and reports it
        s.on("close", () => {
            if (this.socket !== s) return
            this.socket = null
            if (this.closed) return
            this.drops++
            this.notice(`${this.where}: connection dropped`)
            if (this.events) this.events.link(false)
            this.scheduleReconnect()
        })
    }

    private scheduleReconnect() {
        if (this.closed || this.reconnectMs <= 0 || this.timer) return
        this.timer = setTimeout(async () => {
            this.timer = null
            if (this.closed) return
            try {
                const s = await connectOnce(this.host, this.port, this.connectTimeoutMs)
                if (this.closed) return void s.destroy()
                this.attach(s)
                this.notice(`${this.where}: connected again`)
                if (this.events) this.events.link(true)
            } catch (err) {
                this.scheduleReconnect()
            }
        }, this.reconnectMs)
    }
}
