// A ByteTransport over a serial port (`--modem /dev/ttyUSB2`, `--modem COM7`), with the
// `serialport` package DeviceScript's own CLI uses (native bindings, prebuilt for Linux, macOS
// and Windows). 8N1, no flow control, the port locked against other programs.
//
// Open errors become LinkErrors a person can act on: "no such port" (with the ports that do
// exist), "port busy or not permitted". When the port goes away (a USB module that reboots
// re-enumerates; a cable pulled) the transport reports link(false) and tries to open the same
// path again every `reopenMs`, reporting link(true) when it is back.

import type { SerialPort as SerialPortClass } from "serialport"
import type { TransportEvents } from "../../src/link/transport"
import { LinkError, ModuleLink } from "./tcp-transport"

export interface SerialOptions {
    baud: number
    /** After the port went away, try to open it again this often. Default 1000 ms; 0: never. */
    reopenMs?: number
    /** Told about drops and reopenings (a line for people). */
    notice?: (text: string) => void
}

type SerialPortCtor = typeof SerialPortClass

async function library(): Promise<SerialPortCtor> {
    try {
        const m = await import("serialport")
        return m.SerialPort
    } catch (e: any) {
        throw new LinkError(
            "no-serial-library",
            `the serialport package is not installed (npm install serialport@^12): ${e && e.message ? e.message : e}`
        )
    }
}

/** The ports the system lists, for the "no such port" message ("" when it cannot list them). */
async function portList(SerialPort: SerialPortCtor): Promise<string> {
    try {
        const ports = await SerialPort.list()
        return ports.length ? `ports found: ${ports.map(p => p.path).join(", ")}` : "no serial ports found"
    } catch (e) {
        return ""
    }
}

/**
 * The bindings' open errors are text: Linux/macOS "Error: No such file or directory, cannot open
 * /dev/x", "Error Resource temporarily unavailable Cannot lock port", "Error: Permission denied,
 * cannot open …"; Windows "Opening COM7: File not found", "Opening COM7: Access denied".
 */
export function classifyOpenError(message: string): "no-such-port" | "port-busy" | "other" {
    const m = message.toLowerCase()
    if (/no such file|file not found|enoent|cannot find|not found/.test(m)) return "no-such-port"
    if (/cannot lock|resource busy|temporarily unavailable|access denied|permission denied|ebusy|eacces|eperm/.test(m))
        return "port-busy"
    return "other"
}

function openPort(SerialPort: SerialPortCtor, path: string, baud: number): Promise<SerialPortClass> {
    return new Promise((resolve, reject) => {
        const p = new SerialPort({ path, baudRate: baud, autoOpen: false, lock: true })
        p.open(err => (err ? reject(err) : resolve(p)))
    })
}

export class SerialTransport implements ModuleLink {
    drops = 0
    private events: TransportEvents = null
    private port: SerialPortClass = null
    private closed = false
    private timer: ReturnType<typeof setTimeout> = null
    private reopenMs: number
    private notice: (text: string) => void

    private constructor(
        readonly where: string,
        private SerialPort: SerialPortCtor,
        private baud: number,
        o: SerialOptions
    ) {
        this.reopenMs = o.reopenMs ?? 1000
        this.notice = o.notice ?? (() => {})
    }

    /** Open `path` at `o.baud`, 8N1; rejects with a LinkError. */
    static async open(path: string, o: SerialOptions): Promise<SerialTransport> {
        const SerialPort = await library()
        const t = new SerialTransport(path, SerialPort, o.baud, o)
        try {
            t.attach(await openPort(SerialPort, path, o.baud))
        } catch (err: any) {
            const text = err && err.message ? err.message : `${err}`
            const kind = classifyOpenError(text)
            if (kind === "no-such-port") {
                const list = await portList(SerialPort)
                throw new LinkError("no-such-port", `${path}: no such port${list ? ` (${list})` : ""}`)
            }
            if (kind === "port-busy")
                throw new LinkError("port-busy", `${path}: port busy or not permitted (another program has it open, or you lack access: ${text})`)
            throw new LinkError("no-such-port", `${path}: cannot open: ${text}`)
        }
        return t
    }

    isUp(): boolean {
        return this.port !== null
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    write(data: Buffer): Promise<void> {
        const p = this.port
        if (!p) return Promise.reject(new Error(`${this.where}: port closed`))
        return new Promise((resolve, reject) => {
            p.write(data, err => (err ? reject(err) : resolve()))
        })
    }

    async close() {
        this.closed = true
        if (this.timer) clearTimeout(this.timer)
        this.timer = null
        const p = this.port
        this.port = null
        if (p && p.isOpen) await new Promise<void>(resolve => p.close(() => resolve()))
    }

    private attach(p: SerialPortClass) {
        this.port = p
        // chunks are slices of the stream's read pool; a pool region is never reused once
        // handed out (a fresh pool is allocated instead), so they are handed over as is
        p.on("data", (chunk: Buffer) => {
            if (this.port === p && this.events) this.events.data(chunk)
        })
        p.on("error", () => {}) // a disconnect also closes the port: 'close' reports it
        p.on("close", () => {
            if (this.port !== p) return
            this.port = null
            if (this.closed) return
            this.drops++
            this.notice(`${this.where}: port closed (module rebooting or unplugged?)`)
            if (this.events) this.events.link(false)
            this.scheduleReopen()
        })
    }

    private scheduleReopen() {
        if (this.closed || this.reopenMs <= 0 || this.timer) return
        this.timer = setTimeout(async () => {
            this.timer = null
            if (this.closed) return
            try {
                const p = await openPort(this.SerialPort, this.where, this.baud)
                if (this.closed) return void p.close()
                this.attach(p)
                this.notice(`${this.where}: port open again`)
                if (this.events) this.events.link(true)
            } catch (err) {
                this.scheduleReopen()
            }
        }, this.reopenMs)
    }
}
