// Register-level model of an NXP SC16IS740/750/760 I2C-to-UART bridge, for Node tests of
// src/drivers/sc16is7xx.ts. Its I2C side is the drivers' I2cBus (one transaction per xfer); its
// UART side drives a ByteTransport end (a UartLine's `mcu` end, or a PipeEnd), so the chain
// driver → model → UartLine → QuecModule carries real AT traffic.
//
//   const line = new UartLine({ baud: 115200, burstBytes: 16 })
//   const chip = new Sc16is7xxModel({ uart: line.mcu, lineBaud: 115200 })
//   new QuecModule(line.module, {...})
//   const modem = await startSc16is7xx({ bus: chip, baud: 115200 })   // src/drivers/sc16is7xx-transport.ts
//
// Written from the datasheet independently of the driver (its own register constants), so a
// wrong constant in the driver is not mirrored here. What it models:
//   - sub-address decoding (reg = bits 6:3, channel = bits 2:1; channel ≠ 0 is refused on these
//     single-UART parts), no auto-increment: a burst reads RHR / writes THR byte after byte;
//   - the three register sets selected by LCR (general; DLL/DLH when LCR[7] = 1 and LCR ≠ 0xBF;
//     EFR/XON/XOFF when LCR = 0xBF), TCR/TLR over MSR/SPR when MCR[2] = 1 and EFR[4] = 1;
//   - EFR[4] as the write enable of IER[7:4], FCR[5:4] and MCR[7:5];
//   - reset values (LCR 0x1D, FIFOs off, divisor 0 = the UART does not run), IOControl[3]
//     software reset, a power cycle, an absent chip (every transaction NACKed);
//   - the TX path in time: FIFO (64, or 1 byte with FCR[0] = 0) → shift register → wire at the
//     configured rate and frame (start + 5–8 data + parity + 1/2 stop bits), so TXLVL and
//     LSR[5]/[6] move as on the chip; FIFO resets; writes to a full THR are lost (and counted);
//   - the RX path: bytes from the line enter the RX FIFO; a byte arriving with the FIFO full is
//     lost and sets LSR[1] (overrun), cleared by reading LSR; RXLVL; LSR[0], [7]; per-byte
//     framing errors;
//   - `lineBaud`: the far end's rate, 8N1. A chip whose rate is more than 3 % off, or whose frame
//     is not 8N1, receives garbage with framing errors and sends garbage (both directions
//     are XORed with 0x5A: deterministic, so tests fail the same way every time);
//   - auto-RTS (EFR[6]) with the TCR halt/resume levels; with `honourRts` the far end stops
//     sending while RTS is deasserted (its bytes wait here, as in its own UART) — a flow-
//     controlled module (AT+IFC=2,2). CTS from the far end is always asserted (the module model
//     has no RTS output), so auto-CTS never holds the transmitter;
//   - IIR: FIFO-enabled bits, and the receiver line status, RX data (trigger level) and THR
//     sources when enabled in IER (no RX time-out source, no IRQ pin);
//   - EFCR[1]/[2] receiver/transmitter disable.
// Not modelled (a write that enables one is recorded in `unsupported`): loopback (MCR[4]), IrDA,
// Xon/Xoff software flow control, sleep mode, RS-485, the GPIOs of the 750/760.

import type { ByteTransport } from "../../src/link/transport"
import type { I2cBus } from "../../src/drivers/driver"

const RHR_THR = 0x00
const IER = 0x01
const IIR_FCR = 0x02
const LCR = 0x03
const MCR = 0x04
const LSR = 0x05
const MSR_TCR = 0x06
const SPR_TLR = 0x07
const TXLVL = 0x08
const RXLVL = 0x09
const IODIR = 0x0a
const IOSTATE = 0x0b
const IOINTENA = 0x0c
const IOCONTROL = 0x0e
const EFCR = 0x0f

const LCR_RESET = 0x1d
const FIFO_SIZE = 64
const GARBLE = 0x5a

export type Sc16is7xxVariant = "SC16IS740" | "SC16IS750" | "SC16IS760"

export interface Sc16is7xxModelOptions {
    /** The chip's TX/RX pins: what it sends is written here, what arrives here is received. */
    uart: ByteTransport
    /** 7-bit I2C address. Default 0x4D (A1 = A0 = VSS). */
    address?: number
    /** Crystal in Hz. Default 14 745 600. */
    xtal?: number
    /** The far end's baud rate (8N1). When set, a chip configured for another rate or frame garbles. */
    lineBaud?: number
    /** The far end obeys the chip's RTS (hardware flow control). Default false. */
    honourRts?: boolean
    variant?: Sc16is7xxVariant
}

interface TxByte {
    b: number
    /** Date.now() when written to THR. */
    at: number
}

interface RxByte {
    b: number
    /** LSR error bits for this byte (framing 0x08). */
    err: number
}

export interface Sc16is7xxModelStats {
    transactions: number
    /** Bytes lost to a full RX FIFO. */
    overrunBytes: number
    /** Bytes written to THR with the TX FIFO full (lost). */
    txOverflow: number
    /** Bytes the chip has put on the wire. */
    sent: number
    /** Bytes that arrived from the wire (including lost and held ones). */
    arrived: number
    /** Bytes the far end held back because RTS was deasserted. */
    heldBack: number
    resets: number
}

export class Sc16is7xxModel implements I2cBus {
    readonly address: number
    readonly xtal: number
    readonly variant: Sc16is7xxVariant
    readonly lineBaud: number
    readonly honourRts: boolean
    readonly stats: Sc16is7xxModelStats = { transactions: 0, overrunBytes: 0, txOverflow: 0, sent: 0, arrived: 0, heldBack: 0, resets: 0 }
    /** Accesses the datasheet does not define (a driver bug): register, direction, LCR at the time. */
    readonly violations: string[] = []
    /** Features enabled that this model does not emulate. */
    readonly unsupported: string[] = []
    /** The chip does not answer on I2C (unpowered, wrong address strap, broken wire). */
    absent = false

    // registers
    ier = 0
    lcr = LCR_RESET
    mcr = 0
    efr = 0
    dll = 0
    dlh = 0
    spr = 0xff
    tcr = 0
    tlr = 0
    efcr = 0
    ioControl = 0
    private fcr = 0
    private xonXoff = [0, 0, 0, 0]
    private io = [0, 0, 0] // IODir, IOState, IOIntEna (stored only)

    private uart: ByteTransport
    private rx: RxByte[] = []
    private overrun = false
    private rtsHalted = false
    private held: number[] = []
    private tx: TxByte[] = []
    private tsr = -1 // byte in the shift register, -1 idle
    private tsrEnd = 0
    private lastEnd = 0
    private timer: ReturnType<typeof setTimeout> = null
    private timerAt = 0

    constructor(o: Sc16is7xxModelOptions) {
        this.address = o.address === undefined ? 0x4d : o.address
        this.xtal = o.xtal || 14745600
        this.variant = o.variant || "SC16IS750"
        this.lineBaud = o.lineBaud || 0
        this.honourRts = !!o.honourRts
        this.uart = o.uart
        const self = this
        o.uart.listen({
            data: chunk => {
                for (let i = 0; i < chunk.length; i++) self.arrive(chunk[i])
            },
            link: () => {},
        })
    }

    // ---- I2C side -----------------------------------------------------------------------------

    async xfer(devAddr: number, writeBuf: Buffer, numRead?: number): Promise<Buffer> {
        const n = numRead || 0
        if (this.absent || devAddr !== this.address) throw new Error(`I2C NACK: no device at 0x${devAddr.toString(16)}`)
        this.stats.transactions++
        if (writeBuf.length === 0) throw new Error("SC16IS7xx: a transaction must start with a sub-address byte")
        this.advance()
        const sub = writeBuf[0]
        const reg = (sub >> 3) & 0x0f
        const channel = (sub >> 1) & 0x03
        if (channel !== 0) throw new Error(`SC16IS7xx: channel ${channel} does not exist on the ${this.variant} (sub-address 0x${sub.toString(16)})`)
        for (let i = 1; i < writeBuf.length; i++) this.writeRegister(reg, writeBuf[i])
        const out = Buffer.alloc(n)
        for (let i = 0; i < n; i++) out[i] = this.readRegister(reg)
        this.schedule()
        return out
    }

    // ---- what tests look at ---------------------------------------------------------------------

    /** Divisor latch. */
    divisor(): number {
        return (this.dlh << 8) | this.dll
    }

    prescaler(): number {
        return this.mcr & 0x80 ? 4 : 1
    }

    /** The rate the UART runs at; 0 when the divisor is 0 (not running). */
    baud(): number {
        const d = this.divisor()
        return d === 0 ? 0 : this.xtal / (this.prescaler() * 16 * d)
    }

    /** Bits per character on the wire, from LCR. */
    frameBits(): number {
        const word = 5 + (this.lcr & 0x03)
        const parity = this.lcr & 0x08 ? 1 : 0
        const stop = this.lcr & 0x04 ? (word === 5 ? 1.5 : 2) : 1
        return 1 + word + parity + stop
    }

    fifoEnabled(): boolean {
        return (this.fcr & 0x01) !== 0
    }

    /** RX FIFO trigger level from FCR[7:6]. */
    rxTrigger(): number {
        return [8, 16, 56, 60][(this.fcr >> 6) & 3]
    }

    /** TX FIFO trigger level (spaces) from FCR[5:4]. */
    txTrigger(): number {
        return [8, 16, 32, 56][(this.fcr >> 4) & 3]
    }

    rxLevel(): number {
        return this.rx.length
    }

    txLevel(): number {
        this.advance()
        return this.capacity() - this.tx.length
    }

    /** The RTS output is asserted (the far end may send). */
    rts(): boolean {
        if (this.efr & 0x40) return !this.rtsHalted
        return (this.mcr & 0x02) !== 0
    }

    /** The chip and the far end agree on rate and frame (always true without `lineBaud`). */
    inStep(): boolean {
        if (!this.lineBaud) return true
        const b = this.baud()
        if (b === 0 || (this.lcr & 0x3f) !== 0x03) return false
        return Math.abs(b - this.lineBaud) / this.lineBaud <= 0.03
    }

    /** Power off and on: every register back to its reset value, FIFOs empty, bytes in flight lost. */
    powerCycle() {
        this.reset()
    }

    /** Stop the transmit timer (end of a test). */
    dispose() {
        if (this.timer) clearTimeout(this.timer)
        this.timer = null
    }

    // ---- registers ------------------------------------------------------------------------------

    private enhancedOn(): boolean {
        return (this.efr & 0x10) !== 0
    }

    private tcrMode(): boolean {
        return (this.mcr & 0x04) !== 0 && this.enhancedOn()
    }

    private capacity(): number {
        return this.fifoEnabled() ? FIFO_SIZE : 1
    }

    private violation(what: string, reg: number) {
        this.violations.push(`${what} reg 0x${reg.toString(16)} with LCR 0x${this.lcr.toString(16)}`)
    }

    private readRegister(reg: number): number {
        if (reg < 8 && this.lcr === 0xbf) {
            switch (reg) {
                case IIR_FCR:
                    return this.efr
                case LCR:
                    return this.lcr
                case 4:
                case 5:
                case 6:
                case 7:
                    return this.xonXoff[reg - 4]
            }
            this.violation("read", reg)
            return 0
        }
        if (reg < 2 && this.lcr & 0x80) return reg === 0 ? this.dll : this.dlh
        switch (reg) {
            case RHR_THR: {
                const e = this.rx.shift()
                this.afterRxRead()
                return e ? e.b : 0
            }
            case IER:
                return this.ier
            case IIR_FCR:
                return this.iir()
            case LCR:
                return this.lcr
            case MCR:
                return this.mcr
            case LSR:
                return this.lsr()
            case MSR_TCR:
                return this.tcrMode() ? this.tcr : 0x10 // CTS asserted, no deltas
            case SPR_TLR:
                return this.tcrMode() ? this.tlr : this.spr
            case TXLVL:
                return this.capacity() - this.tx.length
            case RXLVL:
                return this.rx.length
            case IODIR:
            case IOSTATE:
            case IOINTENA:
                if (this.variant === "SC16IS740") break
                return this.io[reg - IODIR]
            case IOCONTROL:
                return this.ioControl
            case EFCR:
                return this.efcr
        }
        this.violation("read", reg)
        return 0
    }

    private writeRegister(reg: number, v: number) {
        if (reg < 8 && this.lcr === 0xbf) {
            switch (reg) {
                case IIR_FCR:
                    this.efr = v
                    if (v & 0x2f) this.unsupported.push(`EFR 0x${v.toString(16)}: software flow control`)
                    this.checkRts()
                    return
                case LCR:
                    this.lcr = v
                    return
                case 4:
                case 5:
                case 6:
                case 7:
                    this.xonXoff[reg - 4] = v
                    return
            }
            this.violation("write", reg)
            return
        }
        if (reg < 2 && this.lcr & 0x80) {
            if (reg === 0) this.dll = v
            else this.dlh = v
            return
        }
        switch (reg) {
            case RHR_THR:
                if (this.tx.length >= this.capacity()) this.stats.txOverflow++
                else this.tx.push({ b: v, at: Date.now() })
                this.advance()
                return
            case IER:
                this.ier = this.enhancedOn() ? v : (this.ier & 0xf0) | (v & 0x0f)
                if (this.ier & 0x10) this.unsupported.push("sleep mode (IER[4])")
                return
            case IIR_FCR: {
                const keep = this.enhancedOn() ? 0 : this.fcr & 0x30
                const mask = this.enhancedOn() ? 0xf1 : 0xc1
                const was = this.fcr & 1
                this.fcr = (v & mask) | keep
                if ((this.fcr & 1) !== was) {
                    // switching the FIFOs on or off empties them
                    this.rx = []
                    this.tx = []
                }
                if (v & 0x02) {
                    this.rx = []
                    this.afterRxRead()
                }
                if (v & 0x04) this.tx = []
                return
            }
            case LCR:
                this.lcr = v
                return
            case MCR:
                this.mcr = this.enhancedOn() ? v : (this.mcr & 0xe0) | (v & 0x1f)
                if (this.mcr & 0x10) this.unsupported.push("loopback (MCR[4])")
                if (this.mcr & 0x40) this.unsupported.push("IrDA (MCR[6])")
                return
            case MSR_TCR:
                if (this.tcrMode()) {
                    this.tcr = v
                    return
                }
                break
            case SPR_TLR:
                if (this.tcrMode()) this.tlr = v
                else this.spr = v
                return
            case IODIR:
            case IOSTATE:
            case IOINTENA:
                if (this.variant === "SC16IS740") break
                this.io[reg - IODIR] = v
                if (v !== 0) this.unsupported.push("GPIO")
                return
            case IOCONTROL:
                if (v & 0x08) {
                    this.reset()
                    return
                }
                this.ioControl = v & 0x07
                return
            case EFCR:
                this.efcr = v
                if (v & 0xb1) this.unsupported.push(`EFCR 0x${v.toString(16)}: RS-485/IrDA`)
                return
        }
        this.violation("write", reg)
    }

    private lsr(): number {
        let v = 0
        if (this.rx.length > 0) v |= 0x01 | (this.rx[0].err & 0x1c)
        if (this.overrun) v |= 0x02
        if (this.tx.length === 0) v |= 0x20
        if (this.tx.length === 0 && this.tsr < 0) v |= 0x40
        for (const e of this.rx)
            if (e.err) {
                v |= 0x80
                break
            }
        this.overrun = false // reading LSR clears the overrun flag
        return v
    }

    private iir(): number {
        const fifo = this.fifoEnabled() ? 0xc0 : 0
        const errors = this.overrun || (this.rx.length > 0 && this.rx[0].err !== 0)
        if (this.ier & 0x04 && errors) return fifo | 0x06
        if (this.ier & 0x01 && this.rx.length >= (this.fifoEnabled() ? this.rxTrigger() : 1)) return fifo | 0x04
        if (this.ier & 0x02 && this.capacity() - this.tx.length >= (this.fifoEnabled() ? this.txTrigger() : 1)) return fifo | 0x02
        return fifo | 0x01
    }

    private reset() {
        this.stats.resets++
        this.ier = 0
        this.lcr = LCR_RESET
        this.mcr = 0
        this.efr = 0
        this.dll = 0
        this.dlh = 0
        this.spr = 0xff
        this.tcr = 0
        this.tlr = 0
        this.efcr = 0
        this.ioControl = 0
        this.fcr = 0
        this.xonXoff = [0, 0, 0, 0]
        this.io = [0, 0, 0]
        this.rx = []
        this.tx = []
        this.tsr = -1
        this.overrun = false
        this.rtsHalted = false
        this.dispose()
    }

    // ---- RX path ------------------------------------------------------------------------------

    private arrive(b: number) {
        this.stats.arrived++
        if (this.honourRts && (!this.rts() || this.held.length > 0)) {
            // the far end's UART keeps it until RTS is asserted again (and keeps the order)
            this.held.push(b)
            this.stats.heldBack++
            return
        }
        this.enter(b)
    }

    private enter(b: number) {
        if (this.efcr & 0x02) return // receiver disabled
        let err = 0
        if (!this.inStep()) {
            b ^= GARBLE
            err = 0x08
        }
        if (this.rx.length >= this.capacity()) {
            this.overrun = true
            this.stats.overrunBytes++
        } else {
            this.rx.push({ b, err })
        }
        this.checkRts()
    }

    private checkRts() {
        if (!(this.efr & 0x40)) {
            this.rtsHalted = false
            return
        }
        const halt = (this.tcr & 0x0f) * 4
        const resume = ((this.tcr >> 4) & 0x0f) * 4
        if (!this.rtsHalted && halt > 0 && this.rx.length >= halt) this.rtsHalted = true
        else if (this.rtsHalted && this.rx.length <= resume) this.rtsHalted = false
    }

    private afterRxRead() {
        this.checkRts()
        while (this.held.length > 0 && this.rts()) this.enter(this.held.shift())
    }

    // ---- TX path ------------------------------------------------------------------------------

    private charMs(): number {
        const b = this.baud()
        return b > 0 ? (this.frameBits() * 1000) / b : 0
    }

    /** Move the transmitter forward to now: bytes whose last bit has left go to the far end. */
    private advance() {
        const now = Date.now()
        const ms = this.charMs()
        const out: number[] = []
        for (;;) {
            if (this.tsr >= 0) {
                if (now < this.tsrEnd) break
                out.push(this.tsr)
                this.lastEnd = this.tsrEnd
                this.tsr = -1
            }
            if (this.tx.length === 0 || ms === 0 || this.efcr & 0x04) break
            const e = this.tx.shift()
            const start = Math.max(this.lastEnd, e.at)
            this.tsr = e.b
            this.tsrEnd = start + ms
        }
        if (out.length > 0) {
            this.stats.sent += out.length
            const bytes = Buffer.from(out.map(b => (this.inStep() ? b : b ^ GARBLE)))
            this.uart.write(bytes).catch(() => {})
        }
    }

    private schedule() {
        if (this.tsr < 0) return
        const at = Math.ceil(this.tsrEnd)
        if (this.timer && this.timerAt <= at) return
        if (this.timer) clearTimeout(this.timer)
        this.timerAt = at
        this.timer = setTimeout(
            () => {
                this.timer = null
                this.advance()
                this.schedule()
            },
            Math.max(0, at - Date.now()),
        )
    }
}
