// The UART line: pacing at the baud rate (10 bits per byte), seeded and scripted byte faults,
// link drops, and the module behind it.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { UartLine, wireTimeMs } from "../../sim/link/uart-line"
import { QuecModule } from "../../sim/module/module"
import { Terminal, tick } from "../module/harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = i & 0xff
    return b
}

describe("pacing", () => {
    test("9600 baud: 96 bytes take 100 ms, delivered in bursts as they cross the wire", async () => {
        const line = new UartLine({ baud: 9600 })
        const rx = new Terminal(line.module)
        let done = false
        line.mcu.write(bytes(96)).then(() => (done = true))
        await tick(65)
        expect(rx.received).toBe(0)
        await tick(1) // 64 bytes = 66.7 ms
        expect(rx.received).toBe(64)
        expect(done).toBe(false)
        await tick(33)
        expect(rx.received).toBe(64)
        await tick(1) // 96 bytes = 100 ms (the fraction is carried)
        expect(rx.received).toBe(96)
        await tick(0)
        expect(done).toBe(true) // write() resolves once the bytes have crossed
        expect(rx.take().equals(bytes(96))).toBe(true)
    })

    test("both directions are paced independently", async () => {
        const line = new UartLine({ baud: 115200, burstBytes: 16 })
        const a = new Terminal(line.mcu)
        const b = new Terminal(line.module)
        line.mcu.write(bytes(1152))
        line.module.write(bytes(576))
        await tick(50)
        expect(b.received).toBe(576) // 50 ms at 115200 = 576 bytes
        expect(a.received).toBe(576)
        await tick(50)
        expect(b.received).toBe(1152)
        expect(a.received).toBe(576)
    })

    test("baud 0: unpaced, on the next tick, in order", async () => {
        const line = new UartLine()
        const rx = new Terminal(line.module)
        line.mcu.write(Buffer.from("AT"))
        line.mcu.write(Buffer.from("I\r"))
        expect(rx.received).toBe(0)
        await tick(2)
        expect(rx.takeText()).toBe("ATI\r")
    })

    test("a 1 KB read from the module at 115200 baud takes the wire time of its bytes", async () => {
        const line = new UartLine({ baud: 115200 })
        const module = new QuecModule(line.module, { latencyMs: 20 })
        const t = new Terminal(line.mcu)
        t.send("ATI")
        // 4 bytes to the module (0.35 ms), 20 ms latency, then echo and reply
        const reply = "ATI\r\r\nQuectel\r\nBG95-M3\r\nRevision: BG95M3LAR02A03\r\n\r\nOK\r\n"
        const wire = wireTimeMs(reply.length - 4, 115200)
        await tick(20)
        expect(t.peekText()).toBe("ATI\r")
        await tick(Math.ceil(wire) + 3)
        expect(t.takeText()).toBe(reply)
        expect(module.received).toEqual(["ATI"])
    })
})

describe("byte faults", () => {
    test("scripted: drop, corrupt (xor), duplicate chosen bytes", async () => {
        const line = new UartLine({
            script: [
                { dir: "to-module", index: 1, action: "drop" },
                { dir: "to-module", index: 3, action: "corrupt", xor: 0x20 },
                { dir: "to-module", index: 5, action: "duplicate" },
            ],
        })
        const rx = new Terminal(line.module)
        line.mcu.write(Buffer.from("abcdefg"))
        await tick(1)
        expect(rx.takeText()).toBe("acDeffg")
        expect(line.applied.map(f => `${f.action}@${f.index}`)).toEqual(["drop@1", "corrupt@3", "duplicate@5"])
        expect(line.stats("to-module")).toEqual({ bytesIn: 7, bytesOut: 7, dropped: 1, corrupted: 1, duplicated: 1 })
    })

    test("seeded rates: the same seed gives the same damage, another seed other damage", async () => {
        const run = async (seed: number) => {
            const line = new UartLine({ seed, toMcu: { drop: 0.01, corrupt: 0.01, duplicate: 0.01 } })
            const rx = new Terminal(line.mcu)
            line.module.write(bytes(4000))
            await tick(1)
            return { data: rx.take(), applied: line.applied.map(f => `${f.action}@${f.index}`) }
        }
        const a = await run(42)
        const b = await run(42)
        const c = await run(43)
        expect(a.applied.length).toBeGreaterThan(60)
        expect(a.applied.length).toBeLessThan(180)
        expect(b.applied).toEqual(a.applied)
        expect(b.data.equals(a.data)).toBe(true)
        expect(c.applied).not.toEqual(a.applied)
    })

    test("link down: bytes in flight are lost, both ends are told, writes vanish until it is up", async () => {
        const line = new UartLine({ baud: 9600 })
        const a = new Terminal(line.mcu)
        const b = new Terminal(line.module)
        let resolved = false
        line.mcu.write(bytes(96)).then(() => (resolved = true))
        await tick(70)
        line.setLink(false)
        await tick(0)
        expect(resolved).toBe(true)
        expect(b.received).toBe(64)
        await line.mcu.write(bytes(10))
        await tick(100)
        expect(b.received).toBe(64)
        expect(a.linkEvents).toEqual([{ up: false, at: 0 }])
        expect(b.linkEvents).toEqual([{ up: false, at: 64 }])
        line.module.setLink(true)
        line.mcu.write(bytes(1))
        await tick(2)
        expect(b.received).toBe(65)
        expect(b.linkEvents[1]).toEqual({ up: true, at: 64 })
    })
})

describe("pacing with Node's real timers", () => {
    // Node runs setTimeout(0) after ≥ 1 ms: with one 64-byte burst per timer a 921 600-baud line
    // (0.69 ms per burst) took ≥ 1.44× its wire time (the node engine's download was 1.7-1.96× its
    // floor). A late timer now delivers what crossed the wire meanwhile, a due burst goes at once.
    test("921 600 baud: 16 KB arrive within 1.2× their wire time, in order, in bursts of at most 256 bytes", async () => {
        vi.useRealTimers()
        const line = new UartLine({ baud: 921600 })
        const got: Buffer[] = []
        line.module.listen({ data: c => got.push(Buffer.from(c)), link: () => {} })
        const data = bytes(16384)
        const t0 = performance.now()
        await line.mcu.write(data)
        const ms = performance.now() - t0
        const wire = wireTimeMs(data.length, 921600) // 177.8 ms
        const sizes = got.map(c => c.length)
        expect(Buffer.concat(got).equals(data)).toBe(true)
        expect(ms).toBeGreaterThanOrEqual(wire - 2)
        expect(ms / wire).toBeLessThan(1.2)
        expect(Math.max(...sizes)).toBeLessThanOrEqual(256)
    })
})
