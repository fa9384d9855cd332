// AT traffic through the whole board-side chain, in Node: AtClient → SC16IS7xx driver (I2C
// transactions) → register-level chip model → 115 200-baud UART line → QuecThing module emulator.
// Binary payloads with CR, LF, NUL and "\r\nOK\r\n" inside; a poll stall that overruns the FIFO in
// the middle of a payload; and a full SOTA upgrade by the engine over the bridge.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { AtClient } from "../../src/at/client"
import { PayloadSink } from "../../src/at/client-types"
import { AtError } from "../../src/at/errors"
import { stopSc16is7xx } from "../../src/drivers/sc16is7xx-transport"
import { buildDevCenter, emulatorOptions, makeImage } from "../../sim/device/device"
import { QuecModule } from "../../sim/module/module"
import { runDevice, World } from "../sota/world"
import { Bench, settle, tick } from "./rig"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const SIZE = 27954

class Collect implements PayloadSink {
    parts: Buffer[] = []
    ends: boolean[] = []
    begin(header: string, length: number) {
        this.parts = []
    }
    data(chunk: Buffer, s: number, e: number) {
        this.parts.push(Buffer.from(chunk.subarray(s, e)))
    }
    end(ok: boolean) {
        this.ends.push(ok)
    }
    bytes(): Buffer {
        return Buffer.concat(this.parts)
    }
}

async function waitUrc(urcs: string[], text: string, limitMs = 5000) {
    for (let t = 0; t < limitMs; t += 10) {
        if (urcs.some(u => u.includes(text))) return
        await tick(10)
    }
    throw new Error(`no URC ${text}; got ${JSON.stringify(urcs)}`)
}

/** The emulator with the walk-through's product and plan, behind the bridge. */
async function world() {
    const image = makeImage(SIZE, 7)
    const { dc, pkg } = buildDevCenter({}, image)
    const b = new Bench({ lineBaud: 115200 })
    const module = new QuecModule(b.line.module, emulatorOptions({}, dc))
    const t = await b.start({ checkMs: 0 })
    return { b, t, module, pkg, image }
}

/** Registered, version reported, plan accepted, the first piece announced. */
async function toFirstPiece(at: AtClient, urcs: string[]) {
    await settle(at.command("ATE0"))
    await settle(at.command("AT+QIOTREG=1"))
    await waitUrc(urcs, "+QIOTEVT: 3,10200")
    await settle(at.command('AT+QIOTMCUVER="STM32","1_0_0"'))
    await settle(at.command("AT+QIOTOTAREQ=1"))
    await waitUrc(urcs, "10700")
    await settle(at.command("AT+QIOTUPDATE=1"))
    await waitUrc(urcs, "10703")
}

describe("AT through the SC16IS7xx bridge", () => {
    test("register, take a plan, and read binary blocks byte-exact (CR, LF, NUL, \\r\\nOK\\r\\n inside)", async () => {
        const w = await world()
        const at = new AtClient(w.t, { feedSlice: 1 << 16 })
        const urcs: string[] = []
        at.onUrc(l => urcs.push(l))
        await toFirstPiece(at, urcs)
        const sink = new Collect()
        for (const [off, n] of [
            [0, 1024],
            [1024, 1024],
            [27648, 306],
        ]) {
            const r = await settle(at.command(`AT+QIOTOTARD=${off},${n}`, { sink, expect: "+QIOTOTARD" }))
            expect(r.payloadLength).toBe(n)
            expect(r.payloadHeader).toBe(`+QIOTOTARD: ${off},${n}`)
            expect(sink.ends[sink.ends.length - 1]).toBe(true)
            expect(sink.bytes().equals(w.image.subarray(off, off + n)), `block at ${off}`).toBe(true)
        }
        expect(w.image.subarray(200, 206).toString()).toBe("\r\nOK\r\n") // the trap was in block 0
        expect(w.module.received).toContain("AT+QIOTOTARD=27648,306")
        expect(w.t.stats.overruns).toBe(0)
        expect(w.b.chip.stats.overrunBytes).toBe(0)
        expect(at.stats.faults).toBe(0)
        await w.b.stop()
    })

    test("the poll loop stalls mid-payload: the read fails fast as malformed, the next one resyncs and is exact", async () => {
        const w = await world()
        const at = new AtClient(w.t, { feedSlice: 1 << 16 })
        const urcs: string[] = []
        at.onUrc(l => urcs.push(l))
        await toFirstPiece(at, urcs)
        const sink = new Collect()
        const t0 = Date.now()
        const failed = at.command("AT+QIOTOTARD=0,1024", { sink, expect: "+QIOTOTARD" }).then(
            (): AtError => null,
            (e: AtError) => e
        )
        await tick(30) // the payload is streaming (1 KB takes 89 ms at 115 200)
        await settle(stopSc16is7xx(w.t)) // the MCU is busy elsewhere for 25 ms: 64 bytes fill in 5.6 ms
        await tick(25)
        w.t.start()
        const err = await settle(failed)
        expect(err).toBeInstanceOf(AtError)
        expect(err.reason).toBe("malformed")
        expect(Date.now() - t0).toBeLessThan(1500) // not the 3 s command timeout
        expect(w.t.stats.overruns).toBeGreaterThan(0)
        expect(w.b.chip.stats.overrunBytes).toBeGreaterThan(0)
        expect(sink.ends).toEqual([false])
        // the client resynchronises (AT/OK on a quiet line) before the next command
        expect(at.outOfSync).toBe(true)
        const r = await settle(at.command("AT+QIOTOTARD=0,1024", { sink, expect: "+QIOTOTARD" }))
        expect(r.payloadLength).toBe(1024)
        expect(sink.bytes().equals(w.image.subarray(0, 1024))).toBe(true)
        expect(at.stats.resyncs).toBeGreaterThan(0)
        await w.b.stop()
    })
})

describe("SOTA engine over the bridge", () => {
    test("1_0_0 → 2_0_0 (27 954 bytes): downloaded, verified, activated, confirmed, 10705", async () => {
        const image = makeImage(SIZE, 7)
        const { dc, pkg } = buildDevCenter({}, image)
        const b = new Bench({ lineBaud: 115200 })
        const module = new QuecModule(b.line.module, emulatorOptions({}, dc))
        const t = await b.start({ checkMs: 0 })
        const w = new World({ image, moduleLink: t })
        w.dc = dc
        w.pkg = pkg
        w.module = module
        await w.install()
        const log = await runDevice(w)
        expect(log[0].rebooted).toBe(true)
        expect(log[log.length - 1].start).toMatchObject({ version: "2_0_0", trial: "confirmed", platform: "done" })
        expect(await w.healthy()).toBe("new")
        expect(module.received.filter(c => /^AT\+QIOTOTARD=\d+,\d+$/.test(c)).length).toBe(28)
        expect(t.stats.overruns).toBe(0)
        expect(t.stats.rxBytes).toBeGreaterThan(SIZE)
        expect(b.chip.violations).toEqual([])
        await b.stop()
    })
})
