// ByteTransport over a DeviceScript `ds.Serial` role. The role is a Jacdac client: it binds to
// any Jacdac Serial server on the bus, the simulator's (sim/host) or a board firmware's.
// See ../shared/reference/devicescript.md §1 and §10 for why there is no raw UART.

import * as ds from "@devicescript/core"
import { ByteTransport, TransportEvents } from "../link/transport"

/** Jacdac Serial: command 0x80 sends, report 0x80 receives. */
const SERIAL_SEND_RECEIVE = 0x80
/** Payload bytes per packet: full packets are the only lever on the VM's ~50 packets/s cap. */
const MAX_PACKET = 232

export class JacdacSerialTransport implements ByteTransport {
    readonly role: ds.Serial
    private events: TransportEvents = null
    private serverUp = true

    constructor(role: ds.Serial) {
        this.role = role
        const self = this
        role.report().subscribe(pkt => {
            if (pkt.isReport && pkt.serviceCommand === SERIAL_SEND_RECEIVE && self.events)
                self.events.data(pkt.payload)
        })
        role.binding().subscribe(bound => {
            if (self.events) self.events.link(bound)
        })
        // The server's `connected` register (ds.Serial calls it `enabled`) going false then true
        // is the far end of its UART going away and coming back (a module reset, seen on a board
        // through the module's STATUS pin; the simulator host reports its UART line model's link).
        // Only changes count: a repeated value is not a new link.
        role.enabled.subscribe((on: boolean) => {
            const up = !!on
            if (up === self.serverUp) return
            self.serverUp = up
            if (self.events) self.events.link(up)
        })
    }

    /** Configure the line and wait until a Serial server is bound. */
    async open(baudRate: number) {
        await this.role.baudRate.write(baudRate)
        await this.role.enabled.write(true)
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    async write(data: Buffer): Promise<void> {
        for (let off = 0; off < data.length; off += MAX_PACKET) {
            const end = Math.min(off + MAX_PACKET, data.length)
            await this.role.send(off === 0 && end === data.length ? data : data.slice(off, end))
        }
    }
}
