// The base of this project's I2C chip drivers, shaped like DeviceScript's own
// (packages/drivers/src/driver.ts, `I2CDriver`): a 7-bit device address, a client, `init()`
// that wraps bus failures in a DriverError, and readReg/writeReg/readRegBuf/writeRegBuf.
//
// Why not extend @devicescript/drivers' I2CDriver itself: that class is bound to
// @devicescript/i2c (a runtime builtin, `ds._i2cTransaction`), and the drivers package index pulls
// in graphics and servers, so nothing built on it can run under vitest. Here the client is the
// narrow I2cBus below instead. Its one method has exactly the signature of @devicescript/i2c's
// `I2C.xfer`, so on a board the stock `i2c` object IS an I2cBus (src/platform/i2c-bus.ts), and in
// Node a register-level chip model is (sim/bridge/sc16is7xx-model.ts). One difference from
// upstream on purpose: upstream `init()` returns early under `ds.isSimulator()`; this one always
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

/** A chip on an I2C bus at a 7-bit address. */
export abstract class I2CDriver {
    readonly devAddr: number
    readonly client: I2cBus

    /**
     * @param devAddr a 7-bit I2C address
     * @param client the bus (on a board: `i2c` from @devicescript/i2c)
     */
    constructor(devAddr: number, client: I2cBus) {
        this.devAddr = devAddr
        this.client = client
    }

    /**
     * Initialise the chip.
     * @throws DriverError
     */
    async init(): Promise<void> {
        try {
            await this.initDriver()
        } catch (e: any) {
            if (e instanceof DriverError) throw e
            throw new DriverError(`I2C device 0x${hex2(this.devAddr)} not found or malfunctioning: ${e && e.message ? e.message : e}`)
        }
    }

    protected abstract initDriver(): Promise<void>

    /** Write `writeBuf`, then read `numRead` bytes (repeated START). */
    async xfer(writeBuf: Buffer, numRead: number): Promise<Buffer> {
        return await this.client.xfer(this.devAddr, writeBuf, numRead)
    }

    /** Write one byte to an 8-bit register (sub-)address. */
    async writeReg(regAddr: number, byte: number): Promise<void> {
        await this.client.xfer(this.devAddr, Buffer.from([regAddr, byte]), 0)
    }

    /** Read one byte from an 8-bit register (sub-)address. */
    async readReg(regAddr: number): Promise<number> {
        const b = await this.client.xfer(this.devAddr, Buffer.from([regAddr]), 1)
        return b[0]
    }

    /** Write `b` after the register address, in one transaction. */
    async writeRegBuf(regAddr: number, b: Buffer): Promise<void> {
        const nb = Buffer.alloc(1 + b.length)
        nb[0] = regAddr
        nb.set(b, 1)
        await this.client.xfer(this.devAddr, nb, 0)
    }

    /** Read `size` bytes starting at the register address, in one transaction. */
    async readRegBuf(regAddr: number, size: number): Promise<Buffer> {
        return await this.client.xfer(this.devAddr, Buffer.from([regAddr]), size)
    }
}

export function hex2(n: number): string {
    const d = "0123456789abcdef"
    return d[(n >> 4) & 15] + d[n & 15]
}
