// The simulator's fast flash channel: a ByteTransport over the VM's one TCP socket (the runtime's
// `_socketOpen`/`_socketWrite`, what @devicescript/net wraps) to the host's flash server on
// 127.0.0.1:FLASH_SOCKET_PORT (sim/host/flash-socket.ts). Why: every Jacdac packet the VM sends
// is throttled to one per 20 ms (jdiface.c throttle_send_pkt: 50 packets/s after a burst of 5),
// so a 1 KB flash write costs ≈ 100 ms over a Serial role, more than the UART's 89 ms for the
// same block; a socket write is not throttled (measured under `devs run`: 1 KB written and
// acknowledged in ≈ 2 ms). DeviceScript-only; the modem stays on Jacdac Serial, as on a board.
// Ordered and lossless, so its client (./socket-flash.ts) needs no retries; a VM that dies (a
// power cut) closes the socket, which the server sees as the link going down. The only link: a
// host that cannot serve the port fails the run with one line naming the port's holder.
// A socket delivers chunks of any size in one fiber turn: SocketFlash caps requests at 1 KB so
// that one answer's CRC and copy stay far below the VM's 131 072-opcode slice (≈ 25 opcodes per
// byte of CRC-32).

import * as ds from "@devicescript/core"
import { ByteTransport, TransportEvents } from "../link/transport"
import { FLASH_SOCKET_PORT } from "./flash-protocol"

type Sockets = typeof ds & {
    _socketOpen(host: string, port: number): number
    _socketWrite(buf: Buffer): number
    _socketOnEvent: (event: string, arg: Buffer) => void
}

export class SocketTransport implements ByteTransport {
    /** Unset until listen(). */
    events: TransportEvents
    /** 0 connecting, 1 open, 2 closed or failed. */
    state = 0

    listen(events: TransportEvents) {
        this.events = events
    }

    async write(data: Buffer): Promise<void> {
        if (this.state !== 1 || (ds as Sockets)._socketWrite(data) !== 0) throw new Error("flash socket closed")
    }
}

/** Connect to the host's flash socket; throws when there is none (the host serves it before the VM starts). */
export async function openFlashSocket(): Promise<SocketTransport> {
    const s = ds as Sockets
    const t = new SocketTransport()
    s._socketOnEvent = (event: string, arg: Buffer) => {
        if (event === "data") {
            if (t.events) t.events.data(arg)
            return
        }
        t.state = event === "open" ? 1 : 2
        if (t.events) t.events.link(t.state === 1)
    }
    if (s._socketOpen("127.0.0.1", FLASH_SOCKET_PORT) === 0) {
        const until = ds.millis() + 2000
        while (t.state === 0 && ds.millis() < until) await ds.sleep(5)
        if (t.state === 1) return t
    }
    throw new Error(`flash socket: no host on 127.0.0.1:${FLASH_SOCKET_PORT}`)
}
