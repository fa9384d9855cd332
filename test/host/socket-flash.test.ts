// SocketFlash (src/simulator/socket-flash.ts), the VM firmware's flash client over the host's TCP
// socket, against the host's FlashServer and NOR model over the in-memory pipe: the guarantees the
// firmware's flash link must keep now that it has no Jacdac fallback and no retries: whole frames
// or nothing, a half frame dropped by the host, typed errors with the host flash's reason and
// address, no answer (a power cut) or a closed socket a FlashError "link", answers split anywhere.
import { describe, expect, it } from "vitest"
import { createPipe, PipeEnd } from "../../src/link/pipe"
import { ByteTransport, TransportEvents } from "../../src/link/transport"
import { FlashError } from "../../src/flash/flash"
import { SocketFlash } from "../../src/simulator/socket-flash"
import { FlashServer, frame } from "../../sim/flash/flash-server"
import { NorFlash, rng } from "../../sim/flash/nor-flash"
import { FLASH_SIZE, SECTOR } from "../flash/fixtures"
import { linkPowerCutSweep, pattern } from "../flash/link-sweep"

/** Writes through, but stops forwarding at a stream offset (a VM killed mid-write). */
class Cutter implements ByteTransport {
    writes: number[] = []
    outPos = 0
    cutOutAt = Infinity
    constructor(readonly inner: PipeEnd) {}
    async write(data: Buffer) {
        this.writes.push(data.length)
        const keep = Math.max(0, Math.min(data.length, this.cutOutAt - this.outPos))
        this.outPos += data.length
        if (keep > 0) await this.inner.write(Buffer.from(data.subarray(0, keep)))
    }
    listen(ev: TransportEvents) {
        this.inner.listen(ev)
    }
}

async function rig(o: { timeoutMs?: number; chunk?: (n: number) => number; nor?: NorFlash } = {}) {
    const nor = o.nor ?? new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
    const [c, s] = createPipe()
    if (o.chunk) {
        c.chunker = o.chunk
        s.chunker = o.chunk
    }
    const server = new FlashServer(nor, s, { idleResetMs: 50 })
    const cut = new Cutter(c)
    const client = new SocketFlash(cut, o.timeoutMs ?? 300, 0)
    await client.open()
    return { nor, server, client, cut, c, s }
}

async function outcome(p: Promise<unknown>): Promise<string> {
    try {
        await p
        return "ok"
    } catch (e) {
        if (e instanceof FlashError) return `${e.reason} @${e.address}: ${e.message}`
        return `other ${(e as Error).message}`
    }
}

describe("SocketFlash ↔ FlashServer ↔ NorFlash", () => {
    it("opens with the geometry, and reads, programs and erases in whole 512-byte frames", async () => {
        const { nor, server, client, cut } = await rig()
        expect(client.geometry).toEqual({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
        const data = pattern(3000, 1)
        await client.program(8, data.subarray(0, 2992))
        // one write per request, each a whole frame: 18-byte header + payload + 4-byte CRC
        // (512 B: at 1 KB a delta's apply in the VM ran past its opcode slice, test/host/sim-vm-delta.test.ts)
        expect(cut.writes).toEqual([18, ...Array(5).fill(18 + 512 + 4), 18 + 432 + 4])
        expect(nor.peek(8, 2992).equals(data.subarray(0, 2992))).toBe(true)
        const back = await client.read(0, 4096)
        expect(back.subarray(8, 3000).equals(data.subarray(0, 2992))).toBe(true)
        expect(back[0]).toBe(0xff)
        expect(server.stats).toMatchObject({ reads: 8, programs: 6, erases: 0, replays: 0, damaged: 0, faults: 0 })
        await client.eraseSector(0)
        expect(nor.peek(0, SECTOR).every(b => b === 0xff)).toBe(true)
    })

    it("answers split at every byte, and at random, arrive whole", async () => {
        for (const chunk of [() => 1, (() => { const r = rng(5); return (left: number) => 1 + Math.floor(r() * Math.min(left, 300)) })()]) {
            const { nor, client } = await rig({ chunk })
            await client.program(0, pattern(2048, 2))
            expect((await client.read(0, 2048)).equals(pattern(2048, 2))).toBe(true)
            expect(nor.programOps).toBe(4)
            expect(await outcome(client.program(0, pattern(8, 3)))).toMatch(/^not-erased @0: /)
        }
    })

    it("the host flash's errors come back typed: reason, address, text; the flash untouched", async () => {
        const { nor, client } = await rig()
        await client.program(64, pattern(16, 4))
        expect(await outcome(client.program(64, pattern(8, 5)))).toBe(
            `not-erased @64: flash not-erased at 0x00000040: (remote) ${(await nor.program(64, pattern(8, 5)).catch((e: Error) => e.message))}`
        )
        expect(await outcome(client.read(FLASH_SIZE - 4, 8))).toMatch(/^out-of-range @/)
        expect(await outcome(client.eraseSector(100))).toMatch(/^unaligned @100: /)
        expect(nor.peek(64, 16).equals(pattern(16, 4))).toBe(true)
    })

    it("a power cut on the host: no answer, a FlashError link after the timeout; the flash keeps what the cut left", async () => {
        const { nor, client, server, cut, c } = await rig({ timeoutMs: 100 })
        await client.program(0, pattern(64, 8))
        nor.armCut({ op: 1, kind: "torn", at: 0.5, seed: 3 })
        const t0 = Date.now()
        expect(await outcome(client.program(64, pattern(64, 9)))).toMatch(/^link @64: .*no answer in 100 ms/)
        expect(Date.now() - t0).toBeGreaterThanOrEqual(90)
        expect(server.stats.unpowered).toBe(1) // sent once: no retries over the socket
        expect(cut.writes.length).toBe(3)
        nor.powerOn()
        const again = new SocketFlash(c, 300, 0)
        await again.open()
        expect((await again.read(0, 64)).equals(pattern(64, 8))).toBe(true)
        const torn = await again.read(64, 64)
        expect(torn.subarray(0, 32).equals(pattern(64, 9).subarray(0, 32))).toBe(true) // 4 of 8 units whole
    })

    it("a VM killed mid-write: the host drops the half frame (link down, or silence); a closed socket fails at once", async () => {
        for (const how of ["link", "silence"]) {
            const { nor, server, client, cut, c } = await rig({ timeoutMs: 100 })
            cut.cutOutAt = cut.outPos + 350 // the VM dies 350 bytes into a 512-byte program frame
            expect(await outcome(client.program(0, pattern(512, 10)))).toMatch(/^link @0: /)
            if (how === "link") {
                c.setLink(false)
                const t1 = Date.now()
                expect(await outcome(client.read(0, 8))).toMatch(/^link @0: .*the flash socket is closed/)
                expect(Date.now() - t1).toBeLessThan(50)
                c.setLink(true)
            } else await new Promise(r => setTimeout(r, 80))
            const second = new SocketFlash(c, 300, 0)
            await second.open()
            expect(nor.programOps).toBe(0) // the partial program never reached the flash
            await second.program(0, pattern(512, 11))
            expect(nor.peek(0, 512).equals(pattern(512, 11))).toBe(true)
            expect(server.stats.requests).toBe(3) // geometry, geometry, program
        }
    })

    it("an answer that does not fit the request (damaged, another seq, another op) is a FlashError link", async () => {
        const [c, s] = createPipe()
        const client = new SocketFlash(c, 200, 0)
        let answer: (op: number, seq: number) => Buffer = (op, seq) => {
            const g = Buffer.alloc(14)
            g.writeUInt32LE(SECTOR, 0)
            g.writeUInt32LE(8, 4)
            g.writeUInt32LE(FLASH_SIZE, 8)
            g.writeUInt16LE(4096, 12)
            return frame(op | 0x80, seq, 0, 0, 0, g)
        }
        s.listen({ data: chunk => s.send(answer(chunk[1], chunk.readUInt16LE(2))), link: () => {} })
        await client.open()
        const cases: [string, (op: number, seq: number) => Buffer][] = [
            ["damaged payload", (op, seq) => {
                const f = frame(op | 0x80, seq, 0, 8, 0, pattern(8, 1))
                f[20] ^= 1
                return f
            }],
            ["damaged header", (op, seq) => {
                const f = frame(op | 0x80, seq, 0, 8, 0, pattern(8, 1))
                f[5] ^= 1
                return f
            }],
            ["another seq", (op, seq) => frame(op | 0x80, seq + 1, 0, 8, 0, pattern(8, 1))],
            ["another op", (op, seq) => frame(0x83, seq, 0, 8, 0, pattern(8, 1))],
            ["too short", (op, seq) => frame(op | 0x80, seq, 0, 8, 0, pattern(4, 1))],
            ["too long for the buffer", (op, seq) => frame(op | 0x80, seq, 0, 8, 0, pattern(200, 1))],
            ["a status the flash has no reason for", (op, seq) => frame(op | 0x80, seq, 0, 8, 0x41, Buffer.from("bad request"))],
        ]
        for (const [what, a] of cases) {
            answer = a
            expect(await outcome(client.read(0, 8)), what).toMatch(/^link @0: /)
        }
        answer = (op, seq) => frame(op | 0x80, seq, 0, 8, 0, pattern(8, 1))
        expect(await outcome(client.read(0, 8))).toBe("ok")
    })
})

describe("the image store over SocketFlash", () => {
    it("a power cut at every program/erase of an update: the next boot takes the old or the new image", async () => {
        const open = async (end: PipeEnd) => {
            const f = new SocketFlash(end, 250, 0)
            await f.open()
            return f
        }
        await linkPowerCutSweep("socket", open, (e, where) => {
            expect(e, where).toBeInstanceOf(FlashError)
            expect(e.reason).toBe("link")
        })
    }, 240_000)
})
