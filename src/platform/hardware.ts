// devicescript-quecthing-sota/src/platform/hardware: the library's second entry, DeviceScript-only (it uses
// @devicescript/i2c, @devicescript/spi and GPIO, which neither Node nor the DeviceScript simulator
// has): a ByteTransport and a Flash for startSota() on a stock DeviceScript board, the same two
// drivers this repository's ESP32 and Pico entries use (src/boards/common.ts):
//   - the module's UART through an NXP SC16IS7xx I2C-to-UART bridge (stock firmware has no raw
//     UART: docs/BOARDS.md);
//   - the image store on a Winbond W25Q SPI NOR flash, chip select on a GPIO.
// Neither driver has run on hardware yet (docs/BOARDS.md says what was checked and how).
//
// I2C pins are compile-time hardware configuration in DeviceScript: the entry calls
// configureHardware({ i2c: { pinSDA, pinSCL, kHz } }) itself, with literal pins.

export { startSc16is7xx, stopSc16is7xx } from "../drivers/sc16is7xx-transport"
export type { Sc16is7xxStartOptions } from "../drivers/sc16is7xx-transport"
export { startW25qFlash } from "./spi-bus"
export type { W25qBoardOptions } from "./spi-bus"
export { boardI2c } from "./i2c-bus"
