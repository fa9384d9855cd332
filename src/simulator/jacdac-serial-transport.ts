// ByteTransport over a DeviceScript `ds.Serial` role. The role is a Jacdac client: it binds to
// any Jacdac Serial server on the bus, the simulator's (sim/host) or a board firmware's.
// See ../shared/reference/devicescript.md §1 and §10 for why there is no raw UART.

import * as ds from "@devicescript/core"
import { ByteTransport, TransportEvents } from "../link/transport"

/** Jacdac Serial: command 0x80 sends, report 0x80 receives. */
const SERIAL_SEND_RECEIVE = 0x80
/** Payload bytes per packet: full packets are the only lever on the VM's ~50 packets/s cap. */
const MAX_PACKET = 232

/** The Serial service's `connected` register (ds.Serial's `enabled`): intensity, 0x01. */
const REG_CONNECTED = 0x01
const CMD_GET_REGISTER = 0x1000

export class JacdacSerialTransport implements ByteTransport {
    readonly role: ds.Serial
    private events: TransportEvents = null
    private bound = false
    private serverUp = true

    constructor(role: ds.Serial) {
        this.role = role
        const self = this
        // The role's packets come here, not through report()/binding()/enabled.subscribe(): those
        // compile in the library's emitters and client registers (0.7 KB of bytecode) for three
        // listeners. What they did is done here: a change of binding (announce packets), received
        // bytes (report 0x80), the `connected` register, read again on every announce as the
        // library refreshes a subscribed register.
        const r: any = role
        r._onPacket = async (pkt: ds.Packet) => {
            if (!pkt || pkt.serviceCommand === 0) {
                const bound = role.isBound
                if (bound !== self.bound) {
                    self.bound = bound
                    if (self.events) self.events.link(bound)
                }
                if (bound) await role.sendCommand(CMD_GET_REGISTER | REG_CONNECTED)
            } else if (pkt.isReport) {
                if (pkt.serviceCommand === SERIAL_SEND_RECEIVE) {
                    if (self.events) self.events.data(pkt.payload)
                } else if (pkt.isRegGet && pkt.regCode === REG_CONNECTED) {
                    // `connected` going false then true is the far end of the server's UART going
                    // away and coming back (a module reset, seen on a board through the module's
                    // STATUS pin; the simulator host reports its UART line model's link). Only
                    // changes count: a repeated value is not a new link.
                    const up = pkt.payload.length > 0 && pkt.payload[0] !== 0
                    if (up === self.serverUp) return
                    self.serverUp = up
                    if (self.events) self.events.link(up)
                }
            }
        }
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
