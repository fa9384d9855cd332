// Board entry for a Raspberry Pi Pico (RP2040): the SOTA client with the Quectel module behind an
// SC16IS7xx I2C-to-UART bridge and the image store on a W25Q SPI NOR flash. Wiring, power and
// level shifting: docs/BOARDS.md. Build: npm run build:boards.
import { pins } from "@dsboard/pico"
import { configureHardware } from "@devicescript/servers"
import { runBoard } from "./common"

// ─── Pins: the only place they are named ───────────────────────────────────────────────────────
//  signal      Pico pin (GPIO)    physical pin   goes to            notes
//  I2C SDA     GP4                6              SC16IS7xx SDA      I2C0; 4.7 kΩ pull-up to 3V3(OUT)
//  I2C SCL     GP5                7              SC16IS7xx SCL      I2C0; 4.7 kΩ pull-up to 3V3(OUT)
//  SPI SCK     GP18               24             W25Q CLK           SPI0 SCK
//  SPI MOSI    GP19               25             W25Q DI  (IO0)     SPI0 TX
//  SPI MISO    GP16               21             W25Q DO  (IO1)     SPI0 RX
//  flash CS    GP17               22             W25Q /CS           driven as GPIO; 10 kΩ pull-up
// DeviceScript takes the I2C pins as compile-time hardware configuration, literal pins only
// (configureHardware); SPI is configured at run time from FLASH below.
configureHardware({ scanI2C: false, i2c: { pinSDA: pins.GP4, pinSCL: pins.GP5, kHz: 400 } })
const FLASH = { sck: pins.GP18, mosi: pins.GP19, miso: pins.GP16, cs: pins.GP17, hz: 8000000 }
// SC16IS7xx: A1 = A0 = GND → 0x4D; 14.7456 MHz crystal (most breakouts); module at 115 200 8N1.
const BRIDGE = { address: 0x4d, xtal: 14745600, baud: 115200, flowControl: false }

await runBoard({ board: "pico", flash: FLASH, bridge: BRIDGE, component: "STM32" })
