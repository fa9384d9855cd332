// The modem's UART through the SC16IS7xx bridge, as the ByteTransport the AT client reads from:
// a polling fiber moves RX FIFO contents to the listener, write() feeds the TX FIFO, and a bridge
// that stops answering or comes back reset is reported as link(false)/link(true). Separate from
// the chip driver (sc16is7xx.ts: registers, configuration, FIFO access, line status) so the
// driver can be used and tested without the polling policy. Portable: runs under vitest against
// sim/bridge/sc16is7xx-model.ts.

import * as ds from "@devicescript/core"
import { ByteTransport, TransportEvents } from "../link/transport"
import { Signal } from "../lib/signal"
import { startFiber } from "../lib/fiber"
import { DriverError, I2cBus } from "./driver"
import {
    SC16IS7XX_FIFO,
    SC16IS7XX_LCR,
    SC16IS7XX_LCR_8N1,
    SC16IS7XX_LSR,
    SC16IS7XX_LSR_FIFO_ERROR,
    SC16IS7XX_LSR_OVERRUN,
    SC16IS7XX_RXLVL,
    SC16IS7XX_TXLVL,
    Sc16is7xxDriver,
    Sc16is7xxOptions,
} from "./sc16is7xx"

export interface Sc16is7xxTransportOptions {
    /**
     * Pause between polls while the RX FIFO is less than half full. Default: a third of the time
     * the line takes to fill the FIFO (2 ms at 115 200), at least 1 ms. Without flow control the
     * poll loop must come back before 64 bytes have arrived, or bytes are lost (an overrun).
     */
    pollMs?: number
    /** Pause while the TX FIFO is full. Default: the time 16 bytes take on the line, at least 1 ms. */
    txWaitMs?: number
    /** Consecutive I2C failures before the link is reported down. Default 3. */
    errorLimit?: number
    /** While the link is down: pause between attempts to bring the chip back. Default 500 ms. */
    retryMs?: number
    /** How often an idle poll checks that the chip kept its configuration (a bridge reset). Default 1000 ms; 0: never. */
    checkMs?: number
    /** Called after each overrun (bytes were lost), with the running count. */
    onOverrun?: (count: number) => void
}

export interface Sc16is7xxStats {
    rxBytes: number
    txBytes: number
    /** Polls that found data. */
    reads: number
    polls: number
    /** Times LSR reported an overrun: bytes arrived with the RX FIFO full and were lost. */
    overruns: number
    /** Reads whose LSR flagged a parity, framing or break error in the RX FIFO. */
    lineErrors: number
    i2cErrors: number
    /** Times the chip was found reset or unreachable and configured again. */
    reinits: number
}

/**
 * The modem link through the bridge: a polling fiber moves RX FIFO contents to the AT client
 * (RXLVL, then LSR, then at most 64 bytes of RHR), write() feeds the TX FIFO as TXLVL allows.
 *
 * Overrun: counted in stats.overruns and passed to onOverrun, NOT turned into link(false). The
 * module is still there and the link is in step again from the next byte; a link drop would make
 * the AT client fail the command as "link-lost", which the SOTA engine treats as a module
 * restart (re-register, resume). Lost bytes are already caught by the AT layer where they
 * matter: a payload short of its length breaks its trailer check (malformed → resync, the block
 * is read again), a lost final result is a timeout (→ resync), a lost event is a stall the engine
 * recovers from, and the image digests catch anything else. link(false)/link(true) mean what
 * they say: the bridge stopped answering on I2C, or was found reset, and came back configured.
 */
export class Sc16is7xxTransport implements ByteTransport {
    readonly chip: Sc16is7xxDriver
    readonly stats: Sc16is7xxStats = { rxBytes: 0, txBytes: 0, reads: 0, polls: 0, overruns: 0, lineErrors: 0, i2cErrors: 0, reinits: 0 }
    /** The bridge answers and holds its configuration. */
    up = true
    readonly pollMs: number
    readonly txWaitMs: number
    private errorLimit: number
    private retryMs: number
    private checkMs: number
    private onOverrun: (count: number) => void
    private events: TransportEvents = null
    // not private: stopSc16is7xx() reads them
    running = false
    stopped: Signal
    loopDone = true
    private failures = 0
    private lastCheck = 0
    private busy = false
    private free: Signal

    /** `chip` must have been initialised (init()). */
    constructor(chip: Sc16is7xxDriver, options?: Sc16is7xxTransportOptions) {
        const o: Sc16is7xxTransportOptions = options || {}
        this.chip = chip
        const byteMs = 10000 / chip.baud
        this.pollMs = o.pollMs || Math.max(1, Math.round((SC16IS7XX_FIFO * byteMs) / 3))
        this.txWaitMs = o.txWaitMs || Math.max(1, Math.floor(16 * byteMs))
        this.errorLimit = o.errorLimit || 3
        this.retryMs = o.retryMs || 500
        this.checkMs = o.checkMs === undefined ? 1000 : o.checkMs
        this.onOverrun = o.onOverrun || null
        this.stopped = new Signal()
        this.free = new Signal()
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    /** Start the polling fiber. */
    start() {
        if (this.running) return
        this.running = true
        this.loopDone = false
        this.lastCheck = ds.millis()
        const self = this
        startFiber(async () => {
            try {
                await self.loop()
            } finally {
                self.loopDone = true
                self.stopped.notify()
            }
        })
    }

    /** Resolves when every byte is in the TX FIFO. Throws while the bridge is down or on an I2C error. */
    async write(data: Buffer): Promise<void> {
        let off = 0
        while (off < data.length) {
            if (!this.up) throw new DriverError("SC16IS7xx bridge is down")
            await this.lock()
            let n = 0
            try {
                const space = await this.chip.read(SC16IS7XX_TXLVL)
                n = Math.min(space, data.length - off, SC16IS7XX_FIFO)
                if (n > 0) {
                    await this.chip.writeFifo(off === 0 && n === data.length ? data : data.slice(off, off + n))
                    this.stats.txBytes += n
                }
            } catch (e) {
                this.stats.i2cErrors++
                throw e
            } finally {
                this.unlock()
            }
            off += n
            if (off < data.length) await ds.sleep(n > 0 ? 0 : this.txWaitMs)
        }
    }

    /**
     * One poll: RXLVL; when bytes wait, LSR (overrun and line errors) and up to 64 bytes of RHR,
     * handed to the listener. Returns the number of bytes read. Throws on an I2C failure.
     */
    async poll(): Promise<number> {
        await this.lock()
        let chunk: Buffer = null
        let lsr = 0
        try {
            this.stats.polls++
            const n = await this.chip.read(SC16IS7XX_RXLVL)
            if (n > 0) {
                // an overrun needs a full FIFO, so it always shows up at a poll that finds data;
                // the lost bytes came after everything in the FIFO, i.e. after this chunk
                lsr = await this.chip.read(SC16IS7XX_LSR)
                chunk = await this.chip.readFifo(Math.min(n, SC16IS7XX_FIFO))
            }
        } finally {
            this.unlock()
        }
        if (chunk === null) return 0
        this.stats.reads++
        this.stats.rxBytes += chunk.length
        if (lsr & SC16IS7XX_LSR_FIFO_ERROR) this.stats.lineErrors++
        if (this.events) this.events.data(chunk)
        if (lsr & SC16IS7XX_LSR_OVERRUN) {
            this.stats.overruns++
            if (this.onOverrun) this.onOverrun(this.stats.overruns)
        }
        return chunk.length
    }

    private async loop() {
        while (this.running) {
            let pause = this.pollMs
            try {
                if (this.up) {
                    const got = await this.poll()
                    this.failures = 0
                    if (got >= SC16IS7XX_FIFO / 2) pause = 0
                    else if (got === 0 && this.checkMs > 0 && ds.millis() - this.lastCheck >= this.checkMs) {
                        // a bridge that lost power comes back with reset registers (LCR 0x1D, not
                        // 8N1) and answers as if nothing happened (inlined: one caller)
                        this.lastCheck = ds.millis()
                        await this.lock()
                        let lcr = 0
                        try {
                            lcr = await this.chip.read(SC16IS7XX_LCR)
                        } finally {
                            this.unlock()
                        }
                        if (lcr !== SC16IS7XX_LCR_8N1) {
                            this.setUp(false)
                            await this.revive()
                        }
                    }
                } else {
                    pause = this.retryMs
                    await this.revive()
                }
            } catch (e) {
                this.stats.i2cErrors++
                this.failures++
                if (this.up && this.failures >= this.errorLimit) this.setUp(false)
            }
            if (!this.running) break
            await ds.sleep(pause)
        }
    }

    private async revive() {
        await this.lock()
        try {
            await this.chip.init()
        } finally {
            this.unlock()
        }
        this.stats.reinits++
        this.failures = 0
        this.setUp(true)
    }

    private setUp(up: boolean) {
        if (this.up === up) return
        this.up = up
        if (this.events) this.events.link(up)
    }

    // chip access is one transaction at a time, except (re)configuration, which must not have a
    // THR write land while LCR selects the divisor latches: poll, write and revive take turns
    private async lock() {
        while (this.busy) await this.free.wait(20)
        this.busy = true
    }

    private unlock() {
        this.busy = false
        this.free.notify()
    }
}

export interface Sc16is7xxStartOptions extends Sc16is7xxOptions, Sc16is7xxTransportOptions {
    /** The I2C bus: on a board, `i2c` from @devicescript/i2c (see src/platform/i2c-bus.ts). */
    bus: I2cBus
}

/**
 * Start the NXP SC16IS740/750/760 I2C-to-UART bridge at I2C `0x48`–`0x57` (default `0x4D`) and
 * return its UART as a ByteTransport for the AT client, already polling.
 * @devsPart NXP SC16IS740/750/760
 * @see {@link https://www.nxp.com/docs/en/data-sheet/SC16IS740_750_760.pdf | Datasheet}
 * @throws DriverError when the chip does not answer or the baud rate cannot be made from the clock
 * @example
 * const modem = await startSc16is7xx({ bus: i2c, xtal: 14_745_600, baud: 115200 })
 * const at = new AtClient(modem)
 */
export async function startSc16is7xx(options: Sc16is7xxStartOptions): Promise<Sc16is7xxTransport> {
    const chip = new Sc16is7xxDriver(options.bus, options)
    await chip.init()
    const transport = new Sc16is7xxTransport(chip, options)
    transport.start()
    return transport
}

/**
 * Stop the transport's polling; resolves when its fiber has ended (start() polls again). A
 * function rather than a method: only tests stop a bridge, and a method would be in every image.
 */
export async function stopSc16is7xx(t: Sc16is7xxTransport) {
    t.running = false
    while (!t.loopDone) await t.stopped.wait(100)
}
