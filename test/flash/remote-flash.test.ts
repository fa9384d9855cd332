// The flash channel: RemoteFlash (src/simulator/remote-flash.ts) ↔ FlashServer (sim/flash) ↔ NorFlash,
// over the in-memory pipe. Frames split at every byte and at random, damaged frames, retries that
// never execute twice, NOR errors with their reason and address, a server with its power cut,
// a client vanishing mid-request, and the image store's update cycle and power cuts end to end.
import { describe, expect, it } from "vitest"
import { createPipe, PipeEnd } from "../../src/link/pipe"
import { ByteTransport, TransportEvents } from "../../src/link/transport"
import { Flash, FlashError } from "../../src/flash/flash"
import { FlashLinkError, RemoteFlash, RemoteFlashOptions } from "../../src/simulator/remote-flash"
import { FrameFault, FrameHeader, FrameParser, FrameSink, HEADER_SIZE, OP_PROGRAM, OP_READ, writeHeader } from "../../src/simulator/flash-protocol"
import { FlashServer, frame } from "../../sim/flash/flash-server"
import { NorFlash, rng } from "../../sim/flash/nor-flash"
import { FLASH_SIZE, newStore, receive, SECTOR } from "./fixtures"
import { checkDevice, V1, V2 } from "./harness"
import { linkPowerCutSweep, pattern } from "./link-sweep"

/** A transport in the middle of a pipe end that can damage or drop bytes at given stream offsets. */
class Tap implements ByteTransport {
    inner: PipeEnd
    /** Absolute offsets (in the written stream) whose byte gets bit 0x10 flipped, once each. */
    corruptOut = new Set<number>()
    corruptIn = new Set<number>()
    /** Drop everything written from this offset on (a client that vanishes mid-frame). */
    cutOutAt = Infinity
    writes: number[] = []
    outPos = 0
    inPos = 0
    constructor(inner: PipeEnd) {
        this.inner = inner
    }
    async write(data: Buffer): Promise<void> {
        this.writes.push(data.length)
        const b = Buffer.from(data)
        for (let i = 0; i < b.length; i++) if (this.corruptOut.delete(this.outPos + i)) b[i] ^= 0x10
        const keep = Math.max(0, Math.min(b.length, this.cutOutAt - this.outPos))
        this.outPos += b.length
        if (keep > 0) await this.inner.write(b.subarray(0, keep))
    }
    listen(ev: TransportEvents) {
        this.inner.listen({
            data: chunk => {
                const b = Buffer.from(chunk)
                for (let i = 0; i < b.length; i++) if (this.corruptIn.delete(this.inPos + i)) b[i] ^= 0x10
                this.inPos += b.length
                ev.data(b)
            },
            link: up => ev.link(up),
        })
    }
}

const every = () => 1
function randomChunker(seed: number) {
    const r = rng(seed)
    return (left: number) => 1 + Math.floor(r() * Math.min(left, 300))
}

interface Rig {
    nor: NorFlash
    server: FlashServer
    client: RemoteFlash
    tap: Tap
    ends: PipeEnd[]
}

async function rig(o: { unit?: number; endurance?: number; chunk?: (n: number) => number; opts?: RemoteFlashOptions; nor?: NorFlash } = {}): Promise<Rig> {
    const nor = o.nor ?? new NorFlash({ sectorSize: SECTOR, programUnit: o.unit ?? 8, size: FLASH_SIZE, endurance: o.endurance })
    const [c, s] = createPipe()
    if (o.chunk) {
        c.chunker = o.chunk
        s.chunker = o.chunk
    }
    const server = new FlashServer(nor, s)
    const tap = new Tap(c)
    const client = await RemoteFlash.open(tap, { timeoutMs: 300, ...o.opts })
    return { nor, server, client, tap, ends: [c, s] }
}

async function outcome(p: Promise<unknown>): Promise<string> {
    try {
        const v = await p
        return v instanceof Buffer ? "ok " + v.toString("hex") : "ok"
    } catch (e) {
        if (e instanceof FlashLinkError) return `link ${e.fault}`
        if (e instanceof FlashError) return `${e.reason} @${e.address}`
        return `other ${(e as Error).message}`
    }
}

describe("frame parser", () => {
    it("parses a frame split at every position, and byte by byte", () => {
        const payload = pattern(300, 1)
        const f = frame(OP_PROGRAM, 77, 0x1234, 300, 0, payload)
        const got: string[] = []
        const sink: FrameSink = {
            header: h => got.push(`h ${h.op} ${h.seq} ${h.address} ${h.length} ${h.plen}`),
            payload: (c, a, z) => got.push(`p ${Buffer.from(c.subarray(a, z)).toString("hex")}`),
            end: (h, ok) => got.push(`e ${ok}`),
            fault: k => got.push(`f ${k}`),
        }
        const summary = () => {
            const ps = got.filter(g => g.startsWith("p ")).map(g => g.slice(2)).join("")
            return [...got.filter(g => !g.startsWith("p ")), ps].join("|")
        }
        const p = new FrameParser(sink, 4096)
        p.feed(f, 0, f.length)
        const whole = summary()
        expect(whole).toBe(`h 3 77 4660 300 300|e true|${payload.toString("hex")}`)
        for (let k = 0; k <= f.length; k++) {
            got.length = 0
            p.feed(f, 0, k)
            p.feed(f, k, f.length)
            expect(summary()).toBe(whole)
        }
        got.length = 0
        for (let i = 0; i < f.length; i++) p.feed(f, i, i + 1)
        expect(summary()).toBe(whole)
    })

    it("skips garbage, drops a header with a bad CRC and finds the next frame", () => {
        const f1 = frame(OP_READ | 0x80, 5, 64, 4, 0, Buffer.from([1, 2, 3, 4]))
        const bad = Buffer.from(f1)
        bad[6] ^= 0x01 // address byte: header CRC fails
        const stream = Buffer.concat([Buffer.from([0, 0xf5, 0x33]), bad, Buffer.from("noise"), f1])
        const faults: FrameFault[] = []
        const ends: string[] = []
        const p = new FrameParser(
            {
                header: () => {},
                payload: () => {},
                end: (h: FrameHeader, ok) => ends.push(`${h.seq}:${h.address}:${ok}`),
                fault: k => faults.push(k),
            },
            4096
        )
        p.feed(stream, 0, stream.length)
        expect(ends).toEqual(["5:64:true"])
        expect(faults).toContain("header-crc")
        expect(faults).toContain("garbage")
    })

    it("reports a payload CRC failure and a header announcing too much", () => {
        const f = frame(OP_READ | 0x80, 9, 0, 8, 0, pattern(8, 2))
        f[HEADER_SIZE + 3] ^= 0x80
        const big = Buffer.alloc(HEADER_SIZE)
        writeHeader(big, 0, OP_PROGRAM, 1, 0, 5000, 5000, 0)
        const ends: boolean[] = []
        const faults: string[] = []
        const p = new FrameParser({ header: () => {}, payload: () => {}, end: (_h, ok) => ends.push(ok), fault: k => faults.push(k) }, 4096)
        p.feed(f, 0, f.length)
        p.feed(big, 0, big.length)
        expect(ends).toEqual([false])
        expect(faults).toEqual(["payload-crc", "too-long"])
    })
})

describe("remote flash over the pipe", () => {
    it("fetches the geometry once and round-trips program / read / erase", async () => {
        const { client, nor, server } = await rig()
        expect(client.geometry).toEqual({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
        const data = pattern(4096, 3)
        await client.eraseSector(SECTOR)
        await client.program(SECTOR, data)
        expect(nor.peek(SECTOR, 4096).equals(data)).toBe(true)
        expect((await client.read(SECTOR + 100, 1000)).equals(data.subarray(100, 1100))).toBe(true)
        // a read larger than one request is split, and still lands in one buffer
        const all = await client.read(0, FLASH_SIZE)
        expect(all.equals(nor.peek(0, FLASH_SIZE))).toBe(true)
        expect(server.stats.reads).toBe(1 + FLASH_SIZE / 4096)
        await client.eraseSector(SECTOR)
        expect(nor.peek(SECTOR, 4096).every(b => b === 0xff)).toBe(true)
        expect(await client.read(0, 0)).toHaveLength(0)
    })

    it("sends a program as one write of the whole frame and gets one acknowledgement", async () => {
        const { client, tap, server } = await rig()
        tap.writes.length = 0
        const before = server.stats.bytesOut
        await client.program(0, pattern(4096, 4))
        // 18 header + 4096 data + 4 CRC = 4118 bytes in ONE write: a socket sends it whole, the
        // Jacdac transport cuts it into 17 full 232-byte packets + 174 (jacdac-serial-transport.ts)
        expect(tap.writes).toEqual([4118])
        expect(server.stats.bytesOut - before).toBe(HEADER_SIZE) // the ack: one bare header
        tap.writes.length = 0
        await client.read(0, 4096)
        expect(tap.writes).toEqual([HEADER_SIZE]) // a read is one small request
    })

    for (const [name, chunk] of [
        ["split at every byte", every],
        ["random chunking (seed 11)", randomChunker(11)],
        ["random chunking (seed 12)", randomChunker(12)],
    ] as [string, (n: number) => number][]) {
        it(`behaves exactly like the NOR model, ${name}`, async () => {
            // the same random operations on a NorFlash directly and through the channel
            const twin = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE, endurance: 6 })
            const { client, nor } = await rig({ chunk, endurance: 6 })
            const r = rng(name.length * 7 + 1)
            const ops = name.startsWith("split") ? 60 : 250
            let errors = 0
            for (let i = 0; i < ops; i++) {
                const kind = Math.floor(r() * 3)
                const addr = Math.floor(r() * (FLASH_SIZE + 64)) & ~(r() < 0.8 ? 7 : 0)
                const len = [0, 8, 16, 24, 512, 1000, 4096][Math.floor(r() * 7)]
                const sector = Math.floor(r() * 7) * SECTOR + (r() < 0.1 ? 8 : 0)
                let a: string, b: string
                if (kind === 0) {
                    const data = pattern(len, i)
                    a = await outcome(twin.program(addr, data))
                    b = await outcome(client.program(addr, data))
                } else if (kind === 1) {
                    a = await outcome(twin.read(addr, len))
                    b = await outcome(client.read(addr, len))
                } else {
                    a = await outcome(twin.eraseSector(sector))
                    b = await outcome(client.eraseSector(sector))
                }
                if (!a.startsWith("ok")) errors++
                expect(b, `op ${i}`).toBe(a)
            }
            expect(Buffer.from(nor.data).equals(Buffer.from(twin.data))).toBe(true)
            expect(Array.from(nor.eraseCounts)).toEqual(Array.from(twin.eraseCounts))
            expect(errors).toBeGreaterThan(5) // the walk did hit the NOR rules
        }, 30_000)
    }

    it("propagates every NOR error with its reason and address", async () => {
        const { client } = await rig({ endurance: 1 })
        await expect(client.program(4, Buffer.alloc(8))).rejects.toMatchObject({ reason: "unaligned", address: 4 })
        await expect(client.program(0, Buffer.alloc(12))).rejects.toMatchObject({ reason: "unaligned" })
        await expect(client.read(FLASH_SIZE - 8, 16)).rejects.toMatchObject({ reason: "out-of-range", address: FLASH_SIZE - 8 })
        await expect(client.eraseSector(100)).rejects.toMatchObject({ reason: "unaligned", address: 100 })
        await client.program(64, Buffer.alloc(8, 0xa5))
        const e = await client.program(64, Buffer.alloc(8, 0x05)).catch(x => x)
        expect(e).toBeInstanceOf(FlashError)
        expect(e).not.toBeInstanceOf(FlashLinkError)
        expect(e).toMatchObject({ reason: "not-erased", address: 64 })
        expect(e.message).toContain("programmed twice")
        await client.eraseSector(0) // erase 1 of 1
        await expect(client.eraseSector(0)).rejects.toMatchObject({ reason: "worn-out", address: 0 })
        await expect(client.program(0, Buffer.alloc(8))).rejects.toMatchObject({ reason: "worn-out" })
    })

    it("a damaged request is refused and sent again; a damaged header times out and is sent again", async () => {
        const { client, tap, nor, server } = await rig()
        const data = pattern(1024, 5)
        const base = tap.outPos
        tap.corruptOut.add(base + HEADER_SIZE + 500) // payload byte
        await client.program(0, data)
        expect(server.stats.damaged).toBe(1)
        expect(client.stats.retries).toBe(1)
        expect(nor.programOps).toBe(1)
        const base2 = tap.outPos
        tap.corruptOut.add(base2 + 9) // length byte of the header: the server drops the frame
        await client.program(1024, data)
        expect(client.stats.retries).toBe(2)
        expect(nor.peek(0, 2048).equals(Buffer.concat([data, data]))).toBe(true)
        expect(nor.programOps).toBe(2)
    })

    it("a damaged response is asked for again and replayed, never executed twice", async () => {
        const { client, tap, nor, server } = await rig()
        const inBase = tap.inPos
        tap.corruptIn.add(inBase + 3) // seq byte of the ack's header
        await client.program(0, pattern(64, 6))
        expect(server.stats.replays).toBe(1)
        expect(nor.programOps).toBe(1) // a second execution would have failed with not-erased
        const inBase2 = tap.inPos
        tap.corruptIn.add(inBase2 + HEADER_SIZE + 10) // a data byte of a read response
        expect((await client.read(0, 64)).equals(pattern(64, 6))).toBe(true)
        expect(server.stats.replays).toBe(2)
        expect(nor.readOps).toBe(1)
    })

    it("damage on every attempt ends in a typed link error", async () => {
        const { client, tap } = await rig({ opts: { retries: 2, timeoutMs: 100 } })
        const base = tap.outPos
        const frameLen = HEADER_SIZE + 64 + 4
        for (let k = 0; k < 3; k++) tap.corruptOut.add(base + k * frameLen + HEADER_SIZE + 1)
        await expect(client.program(0, pattern(64, 7))).rejects.toMatchObject({ name: "FlashLinkError", fault: "damaged" })
        expect(client.stats.attempts - client.stats.requests).toBe(2)
    })

    it("times out on a silent server, and fails at once when the link goes down", async () => {
        const [c] = createPipe()
        const t0 = Date.now()
        const e = await RemoteFlash.open(c, { timeoutMs: 80, retries: 1 }).catch(x => x)
        expect(e).toBeInstanceOf(FlashLinkError)
        expect(e).toMatchObject({ fault: "timeout" })
        expect(Date.now() - t0).toBeGreaterThanOrEqual(150)
        const { client, ends } = await rig({ opts: { timeoutMs: 5000 } })
        ends[0].setLink(false)
        const t1 = Date.now()
        await expect(client.read(0, 8)).rejects.toMatchObject({ fault: "down" })
        expect(Date.now() - t1).toBeLessThan(1000)
    })

    it("a power cut on the server: no answer, a link timeout; the flash keeps what the cut left", async () => {
        const { client, nor, server, tap } = await rig({ opts: { timeoutMs: 100, retries: 1 } })
        await client.program(0, pattern(64, 8))
        nor.armCut({ op: 1, kind: "torn", at: 0.5, seed: 3 })
        await expect(client.program(64, pattern(64, 9))).rejects.toMatchObject({ name: "FlashLinkError", fault: "timeout" })
        expect(server.stats.unpowered).toBe(2) // the cut, then the retry found it off
        nor.powerOn()
        const again = await RemoteFlash.open(tap, { timeoutMs: 300 })
        expect((await again.read(0, 64)).equals(pattern(64, 8))).toBe(true)
        const torn = await again.read(64, 64)
        expect(torn.subarray(0, 32).equals(pattern(64, 9).subarray(0, 32))).toBe(true) // 4 of 8 units whole
    })

    it("survives a client that vanishes mid-request: link down/up, or silence", async () => {
        for (const how of ["link", "silence"]) {
            const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
            const [c, s] = createPipe()
            const server = new FlashServer(nor, s, { idleResetMs: 50 })
            const tap = new Tap(c)
            const first = await RemoteFlash.open(tap, { timeoutMs: 100, retries: 0 })
            tap.cutOutAt = tap.outPos + 700 // the VM dies 700 bytes into a 4 KB program
            await expect(first.program(0, pattern(4096, 10))).rejects.toMatchObject({ fault: "timeout" })
            if (how === "link") {
                c.setLink(false)
                c.setLink(true)
            } else await new Promise(r => setTimeout(r, 80))
            const second = await RemoteFlash.open(c, { timeoutMs: 300, retries: 0 })
            expect(nor.programOps).toBe(0) // the partial program never reached the flash
            await second.program(0, pattern(4096, 11))
            expect(nor.peek(0, 4096).equals(pattern(4096, 11))).toBe(true)
            expect(server.stats.requests).toBe(3)
        }
    })
})

describe("image store over RemoteFlash ↔ FlashServer ↔ NorFlash", () => {
    // A cut shows as no answer, so every cut point waits out this timeout; 60 ms failed under a loaded
    // machine's event-loop stalls (an answer late, not lost), 250 ms does not and keeps the sweep under a minute.
    const OPTS: RemoteFlashOptions = { timeoutMs: 250, retries: 0 }

    it("receive → activate → boot → confirm, with the pipe split at random", async () => {
        const { nor, client, ends } = await rig({ chunk: randomChunker(21) })
        const d = { name: "remote", nor, flash: client as Flash }
        let s = newStore(client)
        await s.mount()
        await receive(s, V1)
        await s.activate(true)
        s = newStore(client)
        await s.mount()
        expect((await s.boot()).version).toBe(V1.version)
        await receive(s, V2, { block: 1024 })
        await s.activate()
        // reboot: a fresh client over the same server
        const c2 = await RemoteFlash.open(ends[0], OPTS)
        s = newStore(c2)
        await s.mount()
        expect(await s.boot()).toMatchObject({ version: V2.version, trial: true })
        expect(await s.confirm()).toBe(true)
        const chk = await checkDevice({ ...d, flash: c2 }, [V2.version], false)
        expect(chk).toMatchObject({ ok: true, booted: V2.version })
        expect(nor.peek(4 * SECTOR, V2.bytes.length).equals(V2.bytes)).toBe(true)
        expect(client.stats).toMatchObject({ retries: 0, faults: 0 })
    })

    it("a power cut at every program/erase of an update: the next boot takes the old or the new image", async () => {
        await linkPowerCutSweep("remote", end => RemoteFlash.open(end, OPTS), (e, where) => {
            expect(e, where).toBeInstanceOf(FlashLinkError)
            expect(e.fault).toBe("timeout")
        })
    }, 240_000)
})
