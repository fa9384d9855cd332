// The simulator's fast flash channel, host end (sim/host/flash-socket.ts): a FlashServer on the NOR
// model over TCP, reached by the same SocketFlash client the firmware runs (here over a Node socket,
// in the VM over src/simulator/socket-transport.ts). No VM: the VM's side is exercised by every
// `npm run sim` (test/host/sim-vm.test.ts checks that the firmware used the socket). A taken port
// is one line naming its holder (the firmware has no fallback link).
import { connect, Socket } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import type { ByteTransport, TransportEvents } from "../../src/link/transport"
import { SocketFlash } from "../../src/simulator/socket-flash"
import { FLASH_SOCKET_PORT, OP_PROGRAM, writeHeader } from "../../src/simulator/flash-protocol"
import { FlashServer } from "../../sim/flash/flash-server"
import { NorFlash } from "../../sim/flash/nor-flash"
import { FlashSocket } from "../../sim/host/flash-socket"

const SECTOR = 4096

/** A Node socket as the firmware's ByteTransport. */
class NodeSocket implements ByteTransport {
    private events: TransportEvents = null
    constructor(readonly s: Socket) {
        s.on("data", d => this.events?.data(d))
        s.on("close", () => this.events?.link(false))
        s.on("error", () => {})
    }
    listen(e: TransportEvents) {
        this.events = e
    }
    async write(d: Buffer) {
        this.s.write(d)
    }
}

async function dial(port: number): Promise<NodeSocket> {
    const s = connect(port, "127.0.0.1")
    await new Promise<void>((resolve, reject) => s.once("connect", () => resolve()).once("error", reject))
    return new NodeSocket(s)
}

let open: FlashSocket[] = []
afterEach(async () => {
    for (const f of open) await f.close()
    open = []
})

async function rig() {
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: 16 * SECTOR })
    const sock = await FlashSocket.start(0)
    open.push(sock)
    const log: string[] = []
    const server = new FlashServer(nor, sock, { log: l => log.push(l) })
    return { nor, sock, server, log }
}

describe("flash over the simulator's TCP socket", () => {
    it("serves the NOR model: program, read back, erase, and a typed flash error", async () => {
        const { nor, sock, server } = await rig()
        const client = new SocketFlash(await dial(sock.port()), 2000, 0)
        await client.open()
        expect(client.geometry).toEqual({ sectorSize: SECTOR, programUnit: 8, size: 16 * SECTOR })
        const data = Buffer.alloc(3000)
        for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff
        await client.program(SECTOR, data)
        expect(server.stats.programs).toBe(6) // 5 x 512 + 440: the firmware's cap (a 1 KB answer and the applier's work in one fiber turn panicked the delta VM run)
        expect(nor.peek(SECTOR, 3000).equals(data)).toBe(true)
        expect((await client.read(SECTOR, 3000)).equals(data)).toBe(true)
        const err = await client.program(SECTOR, Buffer.alloc(8)).catch(e => e)
        expect(err.reason).toBe("not-erased") // NOR rules are the model's, as over Jacdac
        await client.eraseSector(SECTOR)
        expect(nor.peek(SECTOR, 8).every(b => b === 0xff)).toBe(true)
        expect(sock.opens).toBe(1)
    })

    it("a new connection is a new client; a frame cut off by a closed connection never reaches the flash", async () => {
        const { nor, sock, server, log } = await rig()
        const first = await dial(sock.port())
        // half a PROGRAM request, then the VM "loses power": the connection closes mid-frame
        const f = Buffer.alloc(18 + 64 + 4)
        writeHeader(f, 0, OP_PROGRAM, 1, 0, 64, 64, 0)
        first.s.write(f.subarray(0, 50))
        await new Promise(r => setTimeout(r, 50))
        first.s.destroy()
        await new Promise(r => setTimeout(r, 50))
        expect(log).toContain("flash link down")
        // the next boot connects again and its requests are served from a clean parser
        const client = new SocketFlash(await dial(sock.port()), 2000, 0)
        await client.open()
        expect((await client.read(0, 64)).every(b => b === 0xff)).toBe(true)
        expect(server.stats.programs).toBe(0)
        expect(nor.peek(0, 64).every(b => b === 0xff)).toBe(true)
        expect(sock.opens).toBe(2)
    })

    it("listens on the port the firmware dials by default; a taken port is one line naming its holder", async () => {
        expect(FLASH_SOCKET_PORT).toBe(8084)
        const busy = await FlashSocket.start(0)
        open.push(busy)
        const err = await FlashSocket.start(busy.port()).catch(e => e)
        expect(err).toMatchObject({ name: "HostError", reason: "port-busy" })
        expect(err.message).toContain(`port ${busy.port()} already taken by pid ${process.pid} (`)
        expect(err.message.split("\n")).toHaveLength(1)
    })
})
