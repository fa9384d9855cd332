// The simulator's Jacdac side: a jacdac-ts bus connected to the `devs devtools` hub, hosting ONE
// simulated device, "sim-io", with two Serial servers in the order flash, modem. The firmware's
// `ds.Serial` roles "flash" and "modem" bind by role-name order × service order (not by name:
// reference/devicescript.md §10 Q1), so this order makes the binding deterministic; each server
// also carries its connectionName, which src/simulator/channels.ts checks (and swaps on).
// Each server is exposed to the rest of the Node code as a ByteTransport: bytes the VM sends
// (Serial command 0x80) come out of `data`; bytes written go to the VM as Serial "received"
// reports (0x80) of at most 236 bytes. The VM (re)opening the channel (it writes the `connected`
// register, which ds.Serial calls `enabled`) is reported as link down + up: a new client.
//
// Optional PIN (§10 Q1 option 3): turn the VM's autobind off and assign the two roles through its
// Role Manager, with the 7 padding bytes its SetRole decoder needs; re-sent on every VM announce.

import WebSocket from "ws"
import { ByteTransport, TransportEvents } from "../../src/link/transport"

// jacdac-ts needs a WebSocket global in Node (Node 20 has none); set it before the module loads.
;(globalThis as any).WebSocket ??= WebSocket
// jacdac-ts's package "exports" carry no "types" entry, so its typings are named by path
type JD = typeof import("../../node_modules/jacdac-ts/dist/types/src/jacdac")
let jdModule: JD = null
async function jacdac(): Promise<JD> {
    if (!jdModule) jdModule = (await import("jacdac-ts" as string)) as JD
    return jdModule
}

/** Largest payload of one Jacdac packet. */
export const MAX_REPORT = 236
const SERIAL_SEND = 0x80
const SERIAL_RECEIVED = 0x80
const ROLE_MANAGER_AUTO_BIND = 0x80
const ROLE_MANAGER_SET_ROLE = 0x81

/** One Serial server as a ByteTransport. */
export class SerialChannel implements ByteTransport {
    readonly name: string
    /** Bytes in each direction and VM opens, for figures. */
    bytesFromVm = 0
    bytesToVm = 0
    packetsFromVm = 0
    opens = 0
    private events: TransportEvents = null
    private server: any
    private jd: JD

    constructor(jd: JD, name: string, server: any) {
        this.jd = jd
        this.name = name
        this.server = server
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    async write(data: Buffer): Promise<void> {
        for (let off = 0; off < data.length; off += MAX_REPORT) {
            const chunk = data.subarray(off, Math.min(off + MAX_REPORT, data.length))
            this.bytesToVm += chunk.length
            await this.server.sendPacketAsync(this.jd.Packet.from(SERIAL_RECEIVED, new Uint8Array(chunk)))
        }
    }

    /**
     * Report the far end of this serial link down or up through the server's `connected`
     * register (src/simulator/jacdac-serial-transport.ts turns a change into a link event).
     */
    async setLink(up: boolean): Promise<void> {
        this.server.connected.setValues([up])
        await this.server.connected.sendGetAsync()
    }

    /** @internal from the server */
    fromVm(bytes: Uint8Array) {
        this.bytesFromVm += bytes.length
        this.packetsFromVm++
        if (this.events) this.events.data(Buffer.from(bytes))
    }

    /** @internal the VM wrote `connected`: a client (re)opened the channel */
    opened() {
        this.opens++
        if (this.events) {
            this.events.link(false)
            this.events.link(true)
        }
    }
}

export interface JacdacIoOptions {
    /** Hub URL. Default ws://127.0.0.1:8081/ */
    url?: string
    /** Pin the roles through the VM's Role Manager (autobind off + SetRole). Default false. */
    pin?: boolean
    log?: (line: string) => void
}

export class JacdacIo {
    readonly flash: SerialChannel
    readonly modem: SerialChannel
    readonly bus: any
    readonly deviceId: string
    private log: (line: string) => void = () => {}
    private constructor(bus: any, deviceId: string, flash: SerialChannel, modem: SerialChannel) {
        this.bus = bus
        this.deviceId = deviceId
        this.flash = flash
        this.modem = modem
    }

    static async start(o: JacdacIoOptions = {}): Promise<JacdacIo> {
        const jd = await jacdac()
        const log = o.log ?? (() => {})
        const bus = jd.createWebSocketBus({ url: o.url })
        const channels: SerialChannel[] = []
        const servers = ["flash", "modem"].map(name => {
            const srv: any = new jd.SerialServer({ connectionName: name, baudRate: 921600, bufferSize: 1024 })
            const ch = new SerialChannel(jd, name, srv)
            channels.push(ch)
            // replace the stock handler (it drops data unless `connected` and only logs it)
            srv.addCommand(SERIAL_SEND, (pkt: any) => ch.fromVm(pkt.data))
            srv.connected.on(jd.REPORT_RECEIVE, () => {
                const [on] = srv.connected.values()
                if (on) ch.opened()
            })
            return srv
        })
        const provider = jd.addServiceProvider(bus, {
            name: "sim-io",
            serviceClasses: [jd.SRV_SERIAL, jd.SRV_SERIAL],
            services: () => servers, // service 1 = flash, service 2 = modem: the roles' name order
        })
        const deviceId: string = provider.deviceId
        bus.start()
        await quietly(log, () => bus.connect()) // without this the bus polls and connects after ~5.5 s
        const io = new JacdacIo(bus, deviceId, channels[0], channels[1])
        io.log = log
        log(`jacdac: sim-io ${deviceId} on the bus (flash = service 1, modem = service 2)`)
        if (o.pin) io.pinRoles(jd, log)
        return io
    }

    /**
     * Assign roles "flash"/"modem" of every VM (a device with a Role Manager) to our services.
     * SetRole is ignored until the VM has heard our device, so it is re-sent on every announce
     * packet of the VM (about every 500 ms; it is idempotent).
     */
    private pinRoles(jd: JD, log: (l: string) => void) {
        const self = this
        const pinned = new Set<string>()
        const pinDevice = async (dev: any) => {
            if (!dev || dev.deviceId === self.deviceId) return
            const rm = dev.services({ serviceClass: jd.SRV_ROLE_MANAGER })[0]
            if (!rm) return
            await rm.register(ROLE_MANAGER_AUTO_BIND).sendSetPackedAsync([0])
            for (const [role, index] of [["flash", 1], ["modem", 2]] as [string, number][]) {
                // b[8] u8 s, plus 7 filler bytes: the runtime takes name_len = size - 16
                const data = jd.jdpack("b[8] u8 s", [jd.fromHex(self.deviceId), index, role + "\0".repeat(7)])
                await rm.sendCmdAsync(ROLE_MANAGER_SET_ROLE, data)
            }
            if (!pinned.has(dev.deviceId)) log(`jacdac: pinning flash/modem of ${dev.deviceId}`)
            pinned.add(dev.deviceId)
        }
        this.bus.on(jd.DEVICE_PACKET_ANNOUNCE, (dev: any) => {
            pinDevice(dev).catch((e: unknown) => log(`pin failed: ${e}`))
        })
    }

    async stop() {
        await quietly(this.log, async () => {
            try {
                await this.bus.disconnect()
            } catch {
                /* closing anyway */
            }
            this.bus.stop?.()
            await this.bus.dispose?.()
        })
    }
}

/** jacdac-ts reports its connection steps on console.debug ("web: connecting", "bus: disposing."): route them to `log`. */
async function quietly<T>(log: (line: string) => void, f: () => Promise<T>): Promise<T> {
    const debug = console.debug
    console.debug = (...args: unknown[]) => log(`jacdac: ${args.join(" ")}`)
    try {
        return await f()
    } finally {
        console.debug = debug
    }
}
