// The application on a Raspberry Pi Pico: the module behind an SC16IS7xx I2C-to-UART bridge, the
// image slots on a W25Q SPI NOR flash (wiring: docs/BOARDS.md of devicescript-quecthing-sota's
// repository). The version is this program's own: bump it for the image you upload to QuecThing.
import { pins } from "@dsboard/pico"
import { configureHardware } from "@devicescript/servers"
import { boardI2c, startSc16is7xx, startW25qFlash } from "devicescript-quecthing-sota/src/platform/hardware"
import { startApp } from "./app"

const VERSION = "1_0_0"

configureHardware({ scanI2C: false, i2c: { pinSDA: pins.GP4, pinSCL: pins.GP5, kHz: 400 } })
const modem = await startSc16is7xx({ bus: boardI2c, address: 0x4d, xtal: 14745600, baud: 115200 })
const flash = await startW25qFlash({ spi: { sck: pins.GP18, mosi: pins.GP19, miso: pins.GP16, hz: 8000000 }, cs: pins.GP17 })
startApp({ transport: modem, flash: flash }, VERSION)
