// The W25Q driver's SpiBus on a board: `@devicescript/spi` plus a GPIO chip select.
// DeviceScript's SPI has no chip-select control, so CS is a plain output pin held low for the
// whole transaction (command, address, data). SPI throws in the simulator ("SPI not supported
// (yet)"), so this is board-only; tests drive the driver against sim/flash/w25q-model.ts.

import * as ds from "@devicescript/core"
import { spi, SPI, SPIConfig } from "@devicescript/spi"
import "@devicescript/gpio"
import { SpiBus, W25qFlash, W25qOptions } from "../flash/w25q"

export class DsSpiBus implements SpiBus {
    private cs: ds.OutputPin
    private bus: SPI

    constructor(cs: ds.OutputPin, bus?: SPI) {
        this.cs = cs
        this.bus = bus || spi
        cs.setMode(ds.GPIOMode.OutputHigh)
    }

    async transfer(tx: Buffer, rxLength: number): Promise<Buffer> {
        this.cs.write(0)
        try {
            await this.bus.write(tx)
            return rxLength > 0 ? await this.bus.read(rxLength) : Buffer.alloc(0)
        } finally {
            this.cs.write(1)
        }
    }
}

export interface W25qBoardOptions extends W25qOptions {
    /** SPI pins and clock (W25Q: mode 0 or 3, up to 50 MHz for 0x03 reads). */
    spi: SPIConfig
    /** Chip-select pin (active low). */
    cs: ds.OutputPin
}

/**
 * Configure SPI, identify the W25Q and return it as a Flash for the image store.
 * @example
 * const flash = await startW25qFlash({ spi: { sck: pins.P18, mosi: pins.P23, miso: pins.P19, hz: 8_000_000 }, cs: pins.P5 })
 */
export async function startW25qFlash(options: W25qBoardOptions): Promise<W25qFlash> {
    spi.configure(options.spi)
    return await W25qFlash.open(new DsSpiBus(options.cs), options)
}
