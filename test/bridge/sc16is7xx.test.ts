// The SC16IS7xx driver and its transport against the register-level model: baud divisors,
// configuration, the byte stream both ways through a paced line, overruns, flow control,
// a bridge that stops answering or resets, a wrong rate.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { DriverError } from "../../src/drivers/driver"
import { SC16IS7XX_LSR, SC16IS7XX_RXLVL, Sc16is7xxDriver, sc16is7xxBaud } from "../../src/drivers/sc16is7xx"
import { startSc16is7xx } from "../../src/drivers/sc16is7xx-transport"
import { Sc16is7xxModel } from "../../sim/bridge/sc16is7xx-model"
import { createPipe } from "../../src/link/pipe"
import { wireTimeMs } from "../../sim/link/uart-line"
import { Terminal } from "../module/harness"
import { Bench, seeded, settle, Sink, tick } from "./rig"

// Datasheet values these tests use directly; the driver keeps its register constants private.
/** Sub-address byte of a channel-0 register: the register in bits 6:3. */
const sc16is7xxSubAddress = (reg: number) => (reg & 0x0f) << 3
/** LSR[1]: a byte arrived with the RX FIFO full and was lost. */
const SC16IS7XX_LSR_OVERRUN = 0x02

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const XTALS = [1843200, 3072000, 7372800, 12000000, 14745600, 24000000]
const BAUDS = [300, 1200, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]

/** Exhaustive reference: every divisor with prescaler 1, then with 4 only if 1 cannot reach. */
function bruteForce(xtal: number, baud: number) {
    for (const p of [1, 4]) {
        let best = -1
        let bestErr = Infinity
        for (let d = 1; d <= 0xffff; d++) {
            const e = Math.abs(xtal / (p * 16 * d) - baud)
            if (e < bestErr) {
                bestErr = e
                best = d
            }
        }
        // prescaler 1 is the answer unless the wanted divisor is beyond 16 bits
        if (p === 4 || xtal / (16 * baud) <= 0xffff) return { prescaler: p, divisor: best, error: (xtal / (p * 16 * best) - baud) / baud }
    }
    throw new Error("unreachable")
}

describe("baud divisor", () => {
    test("datasheet rates: exact multiples of the standard crystals", () => {
        expect(sc16is7xxBaud(14745600, 115200)).toMatchObject({ prescaler: 1, divisor: 8, actual: 115200, error: 0 })
        expect(sc16is7xxBaud(14745600, 9600)).toMatchObject({ prescaler: 1, divisor: 96, actual: 9600 })
        expect(sc16is7xxBaud(14745600, 921600)).toMatchObject({ prescaler: 1, divisor: 1, actual: 921600 })
        expect(sc16is7xxBaud(1843200, 9600)).toMatchObject({ prescaler: 1, divisor: 12, actual: 9600 })
        expect(sc16is7xxBaud(1843200, 115200)).toMatchObject({ prescaler: 1, divisor: 1 })
        expect(sc16is7xxBaud(3072000, 9600)).toMatchObject({ prescaler: 1, divisor: 20, actual: 9600 })
    })

    test("inexact crystals: nearest rate, refused beyond 2 %", () => {
        const s = sc16is7xxBaud(24000000, 115200)
        expect(s.divisor).toBe(13)
        expect(s.error).toBeCloseTo(0.0016, 4)
        expect(() => sc16is7xxBaud(12000000, 115200)).toThrow(DriverError) // 6.5 → 7: −7 %
        expect(() => sc16is7xxBaud(1843200, 230400)).toThrow(DriverError) // faster than XTAL/16
        expect(sc16is7xxBaud(12000000, 115200, 0.1).divisor).toBe(7)
    })

    test("the /4 prescaler only when the divisor does not fit 16 bits", () => {
        expect(sc16is7xxBaud(14745600, 15)).toMatchObject({ prescaler: 1, divisor: 61440 })
        expect(sc16is7xxBaud(24000000, 15)).toMatchObject({ prescaler: 4, divisor: 25000, actual: 15 })
        expect(() => sc16is7xxBaud(24000000, 5)).toThrow(DriverError) // needs 75000 even after /4
    })

    test(`${XTALS.length} crystals × ${BAUDS.length} rates agree with an exhaustive search`, () => {
        let refused = 0
        for (const x of XTALS)
            for (const b of BAUDS) {
                const ref = bruteForce(x, b)
                if (Math.abs(ref.error) > 0.02) {
                    expect(() => sc16is7xxBaud(x, b), `${x} ${b}`).toThrow(DriverError)
                    refused++
                    continue
                }
                const s = sc16is7xxBaud(x, b)
                expect({ p: s.prescaler, d: s.divisor }, `${x} ${b}`).toEqual({ p: ref.prescaler, d: ref.divisor })
                expect(s.actual).toBeCloseTo(x / (s.prescaler * 16 * s.divisor), 6)
            }
        expect(refused).toBeGreaterThan(5) // the table does contain rates a crystal cannot make
    })

    for (const [xtal, baud] of [
        [14745600, 115200],
        [1843200, 9600],
        [24000000, 115200],
        [3072000, 38400],
        [24000000, 15],
    ])
        test(`the chip runs at ${baud} from ${xtal} Hz after init`, async () => {
            const b = new Bench({ lineBaud: baud, model: { xtal } })
            const t = await b.start({ xtal, baud, checkMs: 0 })
            const want = sc16is7xxBaud(xtal, baud)
            expect(b.chip.divisor()).toBe(want.divisor)
            expect(b.chip.prescaler()).toBe(want.prescaler)
            expect(Math.abs(b.chip.baud() - baud) / baud).toBeLessThanOrEqual(0.02)
            expect(b.chip.inStep()).toBe(true)
            expect(t.chip.setting).toEqual(want)
            expect(b.chip.violations).toEqual([])
            await b.stop()
        })
})

describe("the model enforces what the driver must get right", () => {
    const wr = (m: Sc16is7xxModel, reg: number, v: number) => m.xfer(0x4d, Buffer.from([sc16is7xxSubAddress(reg), v]), 0)
    const rd = async (m: Sc16is7xxModel, reg: number) => (await m.xfer(0x4d, Buffer.from([sc16is7xxSubAddress(reg)]), 1))[0]

    test("MCR[7] (clock /4) is write-protected until EFR[4]; DLL/DLH only with LCR[7] and not 0xBF", async () => {
        const [a] = createPipe()
        const m = new Sc16is7xxModel({ uart: a })
        expect(m.lcr).toBe(0x1d)
        await wr(m, 0x04, 0x80)
        expect(m.prescaler()).toBe(1)
        await wr(m, 0x03, 0xbf)
        await wr(m, 0x02, 0x10) // EFR
        await wr(m, 0x00, 0x33) // not DLL in the enhanced set
        expect(m.dll).toBe(0)
        expect(m.violations.length).toBe(1)
        await wr(m, 0x03, 0x00)
        await wr(m, 0x04, 0x80)
        expect(m.prescaler()).toBe(4)
        await wr(m, 0x03, 0x80)
        await wr(m, 0x00, 0x34)
        expect(m.dll).toBe(0x34)
        expect(await rd(m, 0x00)).toBe(0x34)
        await wr(m, 0x03, 0x03)
        expect(await rd(m, 0x08)).toBe(1) // FIFOs off: a 1-byte THR
        await wr(m, 0x02, 0x01)
        expect(await rd(m, 0x08)).toBe(64)
        expect(await rd(m, 0x02)).toBe(0xc1) // IIR: FIFOs on, nothing pending
        await wr(m, 0x01, 0x02) // THR interrupt on
        expect(await rd(m, 0x02)).toBe(0xc2)
    })

    test("a channel other than 0, a wrong address or an absent chip is refused", async () => {
        const [a] = createPipe()
        const m = new Sc16is7xxModel({ uart: a })
        await expect(m.xfer(0x4d, Buffer.from([(0x05 << 3) | (1 << 1)]), 1)).rejects.toThrow(/channel 1/)
        await expect(m.xfer(0x48, Buffer.from([0x28]), 1)).rejects.toThrow(/NACK/)
        m.absent = true
        await expect(m.xfer(0x4d, Buffer.from([0x28]), 1)).rejects.toThrow(/NACK/)
    })
})

describe("initialisation", () => {
    test("8N1, FIFOs on and emptied, interrupts off, stale overrun cleared, nothing undefined touched", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        // noise before the driver runs: the chip at reset (no divisor, 16450 mode) overruns
        await settle(far.sendRaw(seeded(20, 1)), 1000, 1)
        expect(b.chip.stats.overrunBytes).toBeGreaterThan(0)
        const t = await b.start({ checkMs: 0 })
        expect(b.chip.lcr).toBe(0x03)
        expect(b.chip.fifoEnabled()).toBe(true)
        expect(b.chip.ier).toBe(0)
        expect(b.chip.rxLevel()).toBe(0)
        expect(b.chip.txLevel()).toBe(64)
        expect(b.chip.mcr).toBe(0)
        expect(b.chip.stats.resets).toBe(1) // the software reset
        expect(b.chip.violations).toEqual([])
        expect(b.chip.unsupported).toEqual([])
        await tick(20)
        expect(t.stats.overruns).toBe(0)
        expect(t.stats.rxBytes).toBe(0)
        await b.stop()
    })

    test("no chip at the address: DriverError, and the address range is checked", async () => {
        const b = new Bench()
        b.chip.absent = true
        await expect(settle(startSc16is7xx({ bus: b.chip }))).rejects.toThrow(/not found or malfunctioning/)
        await expect(settle(startSc16is7xx({ bus: b.chip, address: 0x48 }))).rejects.toThrow(DriverError)
        expect(() => new Sc16is7xxDriver(b.chip, { address: 0x40 })).toThrow(/0x48–0x57/)
        b.chip.dispose()
    })

    test("a rate the crystal cannot make is refused before anything is written", async () => {
        const b = new Bench({ model: { xtal: 12000000 } })
        await expect(settle(startSc16is7xx({ bus: b.chip, xtal: 12000000, baud: 115200 }))).rejects.toThrow(/-7|−7|7 %/)
        expect(b.chip.lcr).toBe(0x1d) // reset value: configuration never started
        b.chip.dispose()
    })

    test("flow control: TCR halt 48 / resume 16 written before auto-RTS/CTS, then SPR visible again", async () => {
        const b = new Bench()
        await b.start({ flowControl: true, checkMs: 0 })
        expect(b.chip.tcr).toBe(0x4c)
        expect(b.chip.efr).toBe(0xd0)
        expect(b.chip.mcr & 0x04).toBe(0)
        expect(b.chip.rts()).toBe(true)
        expect(b.chip.violations).toEqual([])
        await b.stop()
    })
})

describe("byte stream through a 115 200-baud line", () => {
    test("MCU → module: 5000 bytes arrive intact; write() waits for TXLVL room and never overfills", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const t = await b.start({ checkMs: 0 })
        const data = seeded(5000, 2)
        const t0 = Date.now()
        await settle(t.write(data), 10_000, 1)
        const took = Date.now() - t0
        // it returns once the last byte is in the FIFO: the rest of the data has already left
        expect(took).toBeGreaterThanOrEqual(wireTimeMs(5000 - 65, 115200) - 1)
        expect(b.chip.stats.txOverflow).toBe(0)
        await tick(100)
        const seen = far.take()
        expect(seen.length).toBe(data.length)
        let firstDiff = -1
        for (let i = 0; i < data.length && firstDiff < 0; i++) if (seen[i] !== data[i]) firstDiff = i
        expect(firstDiff).toBe(-1)
        expect(t.stats.txBytes).toBe(5000)
        await b.stop()
    })

    test("module → MCU: 5000 bytes arrive intact in chunks of at most 64, no overrun", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const t = await b.start({ checkMs: 0 })
        const sink = new Sink(t)
        const data = seeded(5000, 3)
        await settle(far.sendRaw(data), 10_000, 1)
        await tick(20)
        expect(sink.bytes().equals(data)).toBe(true)
        expect(Math.max(...sink.chunks.map(c => c.length))).toBeLessThanOrEqual(64)
        expect(t.stats.overruns).toBe(0)
        expect(b.chip.stats.overrunBytes).toBe(0)
        await b.stop()
    })

    test("both ways at once", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const t = await b.start({ checkMs: 0 })
        const sink = new Sink(t)
        const up = seeded(3000, 4)
        const down = seeded(3000, 5)
        await settle(Promise.all([t.write(up), far.sendRaw(down)]), 10_000, 1)
        await tick(50)
        expect(far.take().equals(up)).toBe(true)
        expect(sink.bytes().equals(down)).toBe(true)
        expect(t.stats.overruns + b.chip.stats.txOverflow + b.chip.stats.overrunBytes).toBe(0)
        await b.stop()
    })
})

describe("overrun", () => {
    test("polling slower than the FIFO fills: lost bytes are counted and reported, the rest arrives in order", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const reported: number[] = []
        const t = await b.start({ checkMs: 0, pollMs: 20, onOverrun: n => reported.push(n) })
        const sink = new Sink(t)
        const data = seeded(2000, 6)
        await settle(far.sendRaw(data), 10_000, 1)
        await tick(100)
        const got = sink.bytes()
        const lost = b.chip.stats.overrunBytes
        expect(lost).toBeGreaterThan(0)
        expect(got.length + lost).toBe(data.length)
        expect(t.stats.overruns).toBeGreaterThan(0)
        expect(reported).toEqual(Array.from({ length: t.stats.overruns }, (_, i) => i + 1))
        expect(sink.links).toEqual([]) // an overrun is not a link drop
        // what arrived is the data with gaps, never reordered or altered
        let j = 0
        for (let i = 0; i < data.length && j < got.length; i++) if (data[i] === got[j]) j++
        expect(j).toBe(got.length)
        // the first FIFO-full is intact: the gap comes after it
        expect(got.subarray(0, 64).equals(data.subarray(0, 64))).toBe(true)
        await b.stop()
    })

    test("the same slow polling with RTS/CTS flow control: nothing lost", async () => {
        const b = new Bench({ model: { honourRts: true } })
        const far = new Terminal(b.line.module)
        const t = await b.start({ checkMs: 0, pollMs: 20, flowControl: true })
        const sink = new Sink(t)
        const data = seeded(2000, 6)
        await settle(far.sendRaw(data), 10_000, 1)
        await settle(
            (async () => {
                while (sink.bytes().length < data.length) await tick(10)
            })(),
            10_000,
            10
        )
        expect(sink.bytes().equals(data)).toBe(true)
        expect(t.stats.overruns).toBe(0)
        expect(b.chip.stats.overrunBytes).toBe(0)
        expect(b.chip.stats.heldBack).toBeGreaterThan(0) // RTS really did stop the far end
        await b.stop()
    })

    test("LSR's overrun bit is cleared by reading it", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const chip = new Sc16is7xxDriver(b.chip, {})
        await settle(chip.init())
        await settle(far.sendRaw(seeded(100, 7)), 1000, 1)
        expect(await chip.read(SC16IS7XX_RXLVL)).toBe(64)
        expect((await chip.read(SC16IS7XX_LSR)) & SC16IS7XX_LSR_OVERRUN).toBe(SC16IS7XX_LSR_OVERRUN)
        expect((await chip.read(SC16IS7XX_LSR)) & SC16IS7XX_LSR_OVERRUN).toBe(0)
        const first = await chip.readFifo(64)
        expect(first.equals(seeded(100, 7).subarray(0, 64))).toBe(true)
        expect(await chip.read(SC16IS7XX_RXLVL)).toBe(0)
        b.chip.dispose()
    })
})

describe("the bridge itself fails", () => {
    test("stops answering on I2C: link down after 3 failed polls, writes refused; back: reconfigured, link up", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const t = await b.start({ checkMs: 0, retryMs: 50 })
        const sink = new Sink(t)
        b.chip.absent = true
        await tick(3 * t.pollMs + 5)
        expect(sink.links).toEqual([false])
        expect(t.up).toBe(false)
        await expect(t.write(Buffer.from("AT\r"))).rejects.toThrow(/down/)
        b.chip.powerCycle()
        b.chip.absent = false
        await tick(200)
        expect(sink.links).toEqual([false, true])
        expect(t.stats.reinits).toBe(1)
        expect(b.chip.lcr).toBe(0x03)
        expect(b.chip.divisor()).toBe(8)
        await settle(t.write(Buffer.from("AT\r")), 1000, 1)
        await settle(far.sendRaw(Buffer.from("\r\nOK\r\n")), 1000, 1)
        await tick(20)
        expect(far.takeText()).toBe("AT\r")
        expect(sink.bytes().toString()).toBe("\r\nOK\r\n")
        await b.stop()
    })

    test("resets without an I2C error (its own brown-out): found by the periodic LCR check", async () => {
        const b = new Bench()
        const t = await b.start({ checkMs: 100 })
        const sink = new Sink(t)
        await tick(150)
        expect(sink.links).toEqual([])
        b.chip.powerCycle()
        expect(b.chip.lcr).toBe(0x1d)
        await tick(150)
        expect(sink.links).toEqual([false, true])
        expect(b.chip.lcr).toBe(0x03)
        expect(t.stats.reinits).toBe(1)
        await b.stop()
    })
})

describe("a wrong rate", () => {
    test("driver at 9600 on a 115 200 line: the module sees garbage, the MCU sees framing errors", async () => {
        const b = new Bench()
        const far = new Terminal(b.line.module)
        const t = await b.start({ baud: 9600, checkMs: 0 })
        const sink = new Sink(t)
        expect(b.chip.inStep()).toBe(false)
        await settle(t.write(Buffer.from("AT\r")), 1000, 1)
        await tick(20)
        const seen = far.take()
        expect(seen.length).toBe(3)
        expect(seen.toString()).not.toBe("AT\r")
        await settle(far.sendRaw(Buffer.from("\r\nOK\r\n")), 1000, 1)
        await tick(40)
        expect(sink.bytes().toString()).not.toBe("\r\nOK\r\n")
        expect(t.stats.lineErrors).toBeGreaterThan(0)
        await b.stop()
    })
})
