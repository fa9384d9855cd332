// The host end of the simulator's fast flash channel (src/simulator/socket-transport.ts): a TCP
// server on 127.0.0.1 as one ByteTransport for a FlashServer. The VM's Jacdac packets are
// throttled to 50 per second (reference/devicescript.md §10 Q2), its socket writes are not, so
// the firmware reaches the NOR model here, and only here (src/simulator/socket-flash.ts): a port
// that is taken is one HostError("port-busy") line naming the process that holds it. (The Jacdac
// "flash" service stays for the application harness, examples/simulator.)
// One client at a time: a new connection (a new boot of the VM) replaces the old one and is
// reported as link down + up, as the Jacdac channel reports a VM (re)opening it; a connection
// that closes (the VM killed: a power cut) is reported as link down, so a half-received frame is
// dropped.

import { createServer, Server, Socket } from "node:net"
import type { ByteTransport, TransportEvents } from "../../src/link/transport"
import { FLASH_SOCKET_PORT } from "../../src/simulator/flash-protocol"
import { HostError } from "./hub"
import { portHolder } from "./processes"

export class FlashSocket implements ByteTransport {
    /** Connections accepted (one per boot of the firmware), bytes each way. */
    opens = 0
    bytesFromVm = 0
    bytesToVm = 0
    private events: TransportEvents = null
    private current: Socket = null

    private constructor(private server: Server) {}

    /**
     * Listen on `port` (default FLASH_SOCKET_PORT; 0 = any free port, see port()). A taken port
     * throws HostError("port-busy") naming its holder: the firmware has no other way to its flash.
     */
    static async start(port = FLASH_SOCKET_PORT): Promise<FlashSocket> {
        const server = createServer()
        const fs = new FlashSocket(server)
        server.on("connection", s => fs.accept(s))
        await new Promise<void>((resolve, reject) => {
            server.once("error", (e: NodeJS.ErrnoException) => {
                if (e.code !== "EADDRINUSE") return reject(e)
                const who = portHolder(port)
                reject(
                    new HostError(
                        "port-busy",
                        `port ${port} already taken${who ? ` by ${who}` : " (by a process this user cannot see)"}: ` +
                            `the VM engine serves the firmware's flash there; stop that process, or use --engine node`
                    )
                )
            })
            server.listen(port, "127.0.0.1", () => {
                server.removeAllListeners("error")
                resolve()
            })
        })
        return fs
    }

    port(): number {
        const a = this.server.address()
        return typeof a === "object" && a ? a.port : 0
    }

    private accept(s: Socket) {
        s.setNoDelay(true)
        const old = this.current
        this.current = s
        this.opens++
        old?.destroy()
        this.events?.link(false)
        this.events?.link(true)
        s.on("data", (chunk: Buffer) => {
            if (s !== this.current) return
            this.bytesFromVm += chunk.length
            this.events?.data(chunk)
        })
        s.on("error", () => {})
        s.on("close", () => {
            if (s !== this.current) return
            this.current = null
            this.events?.link(false)
        })
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    async write(data: Buffer): Promise<void> {
        const s = this.current
        if (!s || s.destroyed) throw new Error("no flash client connected")
        this.bytesToVm += data.length
        s.write(data)
    }

    async close(): Promise<void> {
        this.current?.destroy()
        this.current = null
        await new Promise<void>(resolve => this.server.close(() => resolve()))
    }
}
