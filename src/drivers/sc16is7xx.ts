// NXP SC16IS740/750/760: a single UART with 64-byte FIFOs behind an I2C (or SPI) slave port.
// Stock DeviceScript firmware has no UART API (reference/devicescript.md §1), so on a board the
// modem's UART goes through this chip. This file is the chip driver: registers (private to it),
// probe and reset, baud divisor and configuration, FIFO access, line status. The ByteTransport the
// AT client reads from is built on it in sc16is7xx-transport.ts. Portable: it runs under vitest
// against sim/bridge/sc16is7xx-model.ts.
//
// Datasheet notes (NXP SC16IS740/750/760, rev. 7; the Linux and Zephyr drivers agree):
//   - I2C 7-bit address 0x48–0x57 from the A1/A0 pins, each tied to VDD, VSS, SCL or SDA:
//     A1 A0 = VDD VDD → 0x48, VDD VSS → 0x49, VDD SCL → 0x4A, VDD SDA → 0x4B, VSS VDD → 0x4C,
//     VSS VSS → 0x4D (the usual breakout default), VSS SCL → 0x4E, …, SDA SDA → 0x57.
//   - The byte after the address is a sub-address: bit 7 unused, bits 6:3 the register, bits 2:1
//     the channel (always 00 on these single-UART parts), bit 0 unused. It does NOT
//     auto-increment: a multi-byte read of RHR pops that many bytes from the RX FIFO, a
//     multi-byte write to THR pushes that many into the TX FIFO (Linux: regmap_noinc_read/write).
//   - Register sets: general (LCR[7] = 0); special, DLL/DLH at 0x00/0x01, when LCR[7] = 1 and
//     LCR ≠ 0xBF; enhanced, EFR at 0x02 (and XON/XOFF at 0x04–0x07), only when LCR = 0xBF.
//     TXLVL/RXLVL (0x08/0x09) and IOControl/EFCR (0x0E/0x0F) are reachable in every set.
//   - EFR[4] is the write enable of IER[7:4], FCR[5:4] and MCR[7:5]: the /4 prescaler (MCR[7])
//     cannot be selected without it. TCR/TLR replace MSR/SPR at 0x06/0x07 while MCR[2] = 1 and
//     EFR[4] = 1.
//   - baud = XTAL / (prescaler × 16 × divisor), prescaler 1 or 4 (MCR[7]), divisor 1–65535
//     (DLH:DLL). Crystal up to 24 MHz (an external clock may be faster).
//   - FCR (write-only): [0] FIFO enable, [1] reset RX FIFO, [2] reset TX FIFO (both self-clearing),
//     [5:4] TX trigger, [7:6] RX trigger. Without FCR[0] the chip is a 16450 with 1-byte buffers.
//   - LSR: [0] data in RX FIFO, [1] overrun (a byte arrived with the RX FIFO full and was lost;
//     cleared by reading LSR), [2] parity, [3] framing, [4] break (for the byte at the head of
//     the RX FIFO), [5] THR/TX FIFO empty, [6] TX FIFO and shift register empty, [7] at least
//     one parity/framing/break error somewhere in the RX FIFO.
//   - TXLVL: free spaces in the TX FIFO (0–64). RXLVL: bytes in the RX FIFO (0–64).
//   - LCR resets to 0x1D (6 bits, 2 stop bits, even parity): 8N1 must be written.
//   - IOControl[3] (0x0E) is a software reset; the host waits ≥ 3 µs afterwards. The datasheet
//     lists IOControl for the 750/760 only; Linux writes it on every variant and ignores the
//     result, and so does this driver (an error on that one write is tolerated).

import * as ds from "@devicescript/core"
import { errText } from "../lib/err-text"
import { DriverError, hex2, I2cBus } from "./driver"

// General register set (LCR[7] = 0)
const SC16IS7XX_RHR = 0x00 // R: RX FIFO
const SC16IS7XX_IER = 0x01
const SC16IS7XX_IIR = 0x02 // R
const SC16IS7XX_FCR = 0x02 // W
export const SC16IS7XX_LCR = 0x03
const SC16IS7XX_MCR = 0x04
export const SC16IS7XX_LSR = 0x05
const SC16IS7XX_MSR = 0x06
const SC16IS7XX_TCR = 0x06 // while MCR[2] = 1 and EFR[4] = 1
const SC16IS7XX_SPR = 0x07 // scratch pad
export const SC16IS7XX_TXLVL = 0x08
export const SC16IS7XX_RXLVL = 0x09
const SC16IS7XX_IOCONTROL = 0x0e
const SC16IS7XX_EFCR = 0x0f
// Special register set (LCR[7] = 1, LCR ≠ 0xBF)
const SC16IS7XX_DLL = 0x00
const SC16IS7XX_DLH = 0x01
// Enhanced register set (LCR = 0xBF)
const SC16IS7XX_EFR = 0x02

export const SC16IS7XX_LCR_8N1 = 0x03
const SC16IS7XX_LCR_DLAB = 0x80 // special register set
const SC16IS7XX_LCR_ENHANCED = 0xbf // enhanced register set
const SC16IS7XX_FCR_FIFO_ENABLE = 0x01
const SC16IS7XX_FCR_RX_RESET = 0x02
const SC16IS7XX_FCR_TX_RESET = 0x04
const SC16IS7XX_MCR_TCR_TLR = 0x04
const SC16IS7XX_MCR_CLOCK_DIV4 = 0x80
const SC16IS7XX_EFR_ENHANCED = 0x10
const SC16IS7XX_EFR_AUTO_RTS = 0x40
const SC16IS7XX_EFR_AUTO_CTS = 0x80
const SC16IS7XX_LSR_DATA_READY = 0x01
/** LSR[1]: a byte arrived with the RX FIFO full and was lost. */
export const SC16IS7XX_LSR_OVERRUN = 0x02
const SC16IS7XX_LSR_PARITY = 0x04
const SC16IS7XX_LSR_FRAMING = 0x08
const SC16IS7XX_LSR_BREAK = 0x10
const SC16IS7XX_LSR_THR_EMPTY = 0x20
const SC16IS7XX_LSR_TX_EMPTY = 0x40
/** LSR[7]: a parity, framing or break error somewhere in the RX FIFO. */
export const SC16IS7XX_LSR_FIFO_ERROR = 0x80
const SC16IS7XX_IOCONTROL_SRESET = 0x08

export const SC16IS7XX_FIFO = 64
/** A1 = A0 = VSS. */
export const SC16IS7XX_DEFAULT_ADDRESS = 0x4d
/** The crystal on most breakout boards (an exact multiple of the standard rates). */
export const SC16IS7XX_DEFAULT_XTAL = 14745600
/** RTS flow control: deassert RTS at this RX FIFO level, assert it again at or below RESUME. */
const SC16IS7XX_RTS_HALT = 48
const SC16IS7XX_RTS_RESUME = 16

export interface BaudSetting {
    /** 1, or 4 when MCR[7] divides the clock by 4. */
    prescaler: number
    /** DLH:DLL, 1–65535. */
    divisor: number
    /** The rate the chip will really run at. */
    actual: number
    /** (actual − wanted) / wanted. */
    error: number
}

/**
 * The divisor for `baud` from a `xtal` Hz clock: the one giving the nearest rate, with the /4
 * prescaler only when the divisor would not fit 16 bits. Throws when the nearest rate is more than `maxError`
 * (a fraction, default 0.02) away: 8N1 framing tolerates about ±4.5 % in total for both ends.
 */
export function sc16is7xxBaud(xtal: number, baud: number, maxError?: number): BaudSetting {
    const tolerance = maxError === undefined ? 0.02 : maxError
    if (!(xtal > 0) || !(baud > 0)) throw new DriverError(`bad clock ${xtal} Hz or baud ${baud}`)
    let prescaler = 1
    if (xtal / (16 * baud) > 0xffff) prescaler = 4
    const divisor = nearestDivisor(xtal / (prescaler * 16), baud)
    if (divisor > 0xffff) throw new DriverError(`${baud} baud is too slow for a ${xtal} Hz clock`)
    const actual = xtal / (prescaler * 16 * divisor)
    const error = (actual - baud) / baud
    if (Math.abs(error) > tolerance)
        throw new DriverError(`${baud} baud from ${xtal} Hz: nearest is ${Math.round(actual)} (${Math.round(error * 1000) / 10} %)`)
    return { prescaler: prescaler, divisor: divisor, actual: actual, error: error }
}

/** The divisor d ≥ 1 whose rate clock / d is nearest to `baud` (floor or ceiling of the quotient). */
function nearestDivisor(clock: number, baud: number): number {
    const lo = Math.max(1, Math.floor(clock / baud))
    const hi = lo + 1
    return Math.abs(clock / lo - baud) <= Math.abs(clock / hi - baud) ? lo : hi
}

export interface Sc16is7xxOptions {
    /** 7-bit I2C address, 0x48–0x57 (A1/A0 pins). Default 0x4D (both to VSS). */
    address?: number
    /** Crystal or clock input in Hz. Default 14 745 600. */
    xtal?: number
    /** Line rate; default 115 200 (Quectel modules' default). */
    baud?: number
    /** Largest baud error accepted, as a fraction. Default 0.02. */
    maxBaudError?: number
    /**
     * Hardware flow control: the chip deasserts RTS at 48 bytes in the RX FIFO (auto-RTS) and
     * stops sending while CTS is high (auto-CTS). Needs RTS/CTS wired and the module told
     * (AT+IFC=2,2). Default false.
     */
    flowControl?: boolean
}

/**
 * The chip: registers, baud divisor, FIFOs, line status. Shaped like DeviceScript's I2CDriver
 * (`devAddr`, `client`, `init()`), without its base class (see driver.ts). Registers are read and
 * written by number (`read(SC16IS7XX_LSR)`): one accessor pair rather than a method per register,
 * each of which would cost its descriptor and prototype entry in every image.
 */
export class Sc16is7xxDriver {
    /** The 7-bit I2C address. */
    readonly devAddr: number
    /** The bus (on a board: `i2c` from @devicescript/i2c). */
    readonly client: I2cBus
    readonly xtal: number
    readonly flowControl: boolean
    baud: number
    maxBaudError: number
    /** The divisor in force after the last configure(). */
    setting: BaudSetting = null

    constructor(client: I2cBus, options?: Sc16is7xxOptions) {
        const o: Sc16is7xxOptions = options || {}
        const a = o.address !== undefined ? o.address : SC16IS7XX_DEFAULT_ADDRESS
        if (!(a >= 0x48 && a <= 0x57)) throw new DriverError(`SC16IS7xx address 0x${hex2(a)} is not 0x48–0x57`)
        this.devAddr = a
        this.client = client
        this.xtal = o.xtal || SC16IS7XX_DEFAULT_XTAL
        this.baud = o.baud || 115200
        this.maxBaudError = o.maxBaudError
        this.flowControl = !!o.flowControl
    }

    /**
     * Probe (scratch pad echo), software reset, then configure().
     * @throws DriverError (a bus failure is wrapped in one, as upstream I2CDriver.init does)
     */
    async init(): Promise<void> {
        try {
            for (const v of [0x5a, 0xa5]) {
                await this.write(SC16IS7XX_SPR, v)
                const r = await this.read(SC16IS7XX_SPR)
                if (r !== v) throw new DriverError(`no SC16IS7xx at 0x${hex2(this.devAddr)}: scratch pad wrote ${hex2(v)}, read ${hex2(r)}`)
            }
            try {
                await this.write(SC16IS7XX_IOCONTROL, SC16IS7XX_IOCONTROL_SRESET)
            } catch (e) {
                // the datasheet does not promise an ACK for the write that resets the slave logic
            }
            await ds.sleep(1) // ≥ 3 µs
            await this.configure()
        } catch (e: any) {
            if (e instanceof DriverError) throw e
            throw new DriverError(`I2C device 0x${hex2(this.devAddr)} not found or malfunctioning: ${errText(e)}`)
        }
    }

    /** Baud divisor, 8N1, FIFOs on and emptied, interrupts off (the transport polls). */
    async configure(): Promise<void> {
        const s = sc16is7xxBaud(this.xtal, this.baud, this.maxBaudError)
        // EFR[4] first: it write-enables MCR[7] (prescaler) and the TCR
        await this.write(SC16IS7XX_LCR, SC16IS7XX_LCR_ENHANCED)
        await this.write(SC16IS7XX_EFR, SC16IS7XX_EFR_ENHANCED)
        await this.write(SC16IS7XX_LCR, 0)
        const mcr = s.prescaler === 4 ? SC16IS7XX_MCR_CLOCK_DIV4 : 0
        if (this.flowControl) {
            // TCR before auto-RTS, or RTS toggles spuriously (datasheet); TCR[3:0] halt > [7:4] resume, in 4s
            await this.write(SC16IS7XX_MCR, mcr | SC16IS7XX_MCR_TCR_TLR)
            await this.write(SC16IS7XX_TCR, ((SC16IS7XX_RTS_RESUME / 4) << 4) | (SC16IS7XX_RTS_HALT / 4))
        }
        await this.write(SC16IS7XX_MCR, mcr)
        await this.write(SC16IS7XX_LCR, SC16IS7XX_LCR_DLAB)
        await this.write(SC16IS7XX_DLL, s.divisor & 0xff)
        await this.write(SC16IS7XX_DLH, (s.divisor >> 8) & 0xff)
        if (this.flowControl) {
            await this.write(SC16IS7XX_LCR, SC16IS7XX_LCR_ENHANCED)
            await this.write(SC16IS7XX_EFR, SC16IS7XX_EFR_ENHANCED | SC16IS7XX_EFR_AUTO_RTS | SC16IS7XX_EFR_AUTO_CTS)
        }
        await this.write(SC16IS7XX_LCR, SC16IS7XX_LCR_8N1)
        await this.write(SC16IS7XX_FCR, SC16IS7XX_FCR_FIFO_ENABLE | SC16IS7XX_FCR_RX_RESET | SC16IS7XX_FCR_TX_RESET)
        await this.write(SC16IS7XX_IER, 0)
        const lcr = await this.read(SC16IS7XX_LCR)
        if (lcr !== SC16IS7XX_LCR_8N1) throw new DriverError(`SC16IS7xx LCR reads 0x${hex2(lcr)} after configuration`)
        await this.read(SC16IS7XX_LSR) // clears a stale overrun flag
        this.setting = s
    }

    /** Pop `n` (1–64, at most RXLVL) bytes from the RX FIFO (RHR, sub-address 0) in one transaction. */
    async readFifo(n: number): Promise<Buffer> {
        if (!(n >= 1 && n <= SC16IS7XX_FIFO)) throw new DriverError(`RX FIFO read of ${n} bytes`)
        return await this.client.xfer(this.devAddr, Buffer.from([SC16IS7XX_RHR]), n)
    }

    /** Push `data` (1–64 bytes, at most TXLVL) into the TX FIFO (THR, sub-address 0) in one transaction. */
    async writeFifo(data: Buffer): Promise<void> {
        if (!(data.length >= 1 && data.length <= SC16IS7XX_FIFO)) throw new DriverError(`TX FIFO write of ${data.length} bytes`)
        const tx = Buffer.alloc(1 + data.length) // tx[0] = 0: THR's sub-address
        tx.set(data, 1)
        await this.client.xfer(this.devAddr, tx, 0)
    }

    /**
     * One register of channel 0 (the only channel of the 740/750/760): LSR (reading it clears the
     * overrun bit), RXLVL (bytes waiting), TXLVL (free TX spaces), LCR (8N1 while configured: a
     * chip reset puts 0x1D back), ...
     */
    async read(reg: number): Promise<number> {
        const b = await this.client.xfer(this.devAddr, Buffer.from([(reg & 0x0f) << 3]), 1)
        return b[0]
    }

    async write(reg: number, value: number): Promise<void> {
        await this.client.xfer(this.devAddr, Buffer.from([(reg & 0x0f) << 3, value]), 0)
    }
}
