// What this project's I2C chip driver (sc16is7xx.ts) stands on: the bus it talks through and the
// DriverError it throws, as DeviceScript's own drivers have them (packages/drivers/src/driver.ts).
// The driver keeps upstream I2CDriver's shape (a 7-bit `devAddr`, a `client`, `init()` that wraps
// bus failures in a DriverError) without a base class: the one chip needs two register accessors,
// and every method of a class costs image bytecode whether called or not (readReg, writeReg,
// readRegBuf, writeRegBuf, xfer: ~0.3 KB).
//
// Why not extend @devicescript/drivers' I2CDriver itself: that class is bound to
// @devicescript/i2c (a runtime builtin, `ds._i2cTransaction`), and the drivers package index pulls
// in graphics and servers, so nothing built on it can run under vitest. Here the client is the
// narrow I2cBus below instead. Its one method has exactly the signature of @devicescript/i2c's
// `I2C.xfer`, so on a board the stock `i2c` object IS an I2cBus (src/platform/i2c-bus.ts), and in
// Node a register-level chip model is (sim/bridge/sc16is7xx-model.ts). One difference from
// upstream on purpose: upstream `init()` returns early under `ds.isSimulator()`; ours always
// initialises, because our simulation happens in the model, not by skipping the chip.

/**
 * One I2C transaction: write `writeBuf` (START, address+W, bytes), then, when `numRead` > 0, a
 * repeated START and `numRead` bytes read (address+R). Throws when the device does not ACK.
 * This is @devicescript/i2c's `I2C.xfer`.
 */
export interface I2cBus {
    xfer(devAddr: number, writeBuf: Buffer, numRead?: number): Promise<Buffer>
}

export class DriverError extends Error {
    constructor(message?: string) {
        super(message)
        this.name = "DriverError"
    }
}

export function hex2(n: number): string {
    const d = "0123456789abcdef"
    return d[(n >> 4) & 15] + d[n & 15]
}
