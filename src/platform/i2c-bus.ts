// The drivers' I2cBus on a board: DeviceScript's own `i2c` client. Its `xfer(devAddr, writeBuf,
// numRead)` is exactly I2cBus, so this is a type-checked binding, not a wrapper. I2C pins and
// speed are NOT set here: in DeviceScript 2.16.4 they are compile-time hardware configuration,
// `configureHardware({ i2c: { pinSDA: pins.X, pinSCL: pins.Y, kHz } })` with literal pins, so
// that call lives in each board entry (src/boards/*.ts). I2C throws in the simulator ("I2C not
// supported (yet)"), so this is board-only; tests use sim/bridge/sc16is7xx-model.ts instead.

import { i2c } from "@devicescript/i2c"
import { I2cBus } from "../drivers/driver"

/** The board's I2C controller, as configured by configureHardware in the entry file. */
export const boardI2c: I2cBus = i2c
