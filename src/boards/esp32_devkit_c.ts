// Board entry for an Espressif ESP32-DevKitC (and DOIT DevKit V1 / NodeMCU-32S clones): the SOTA
// client with the Quectel module behind an SC16IS7xx I2C-to-UART bridge and the image store on a
// W25Q SPI NOR flash. Wiring, power and level shifting: docs/BOARDS.md. Build: npm run build:boards.
import { pins } from "@dsboard/esp32_devkit_c"
import { configureHardware } from "@devicescript/servers"
import { runBoard } from "./common"

// ─── Pins: the only place they are named ───────────────────────────────────────────────────────
//  signal      ESP32-DevKitC      goes to                         notes
//  I2C SDA     P21  (GPIO21)      SC16IS7xx SDA                   4.7 kΩ pull-up to 3V3
//  I2C SCL     P22  (GPIO22)      SC16IS7xx SCL                   4.7 kΩ pull-up to 3V3
//  SPI SCK     P18  (GPIO18)      W25Q CLK                        VSPI clock pin
//  SPI MOSI    P23  (GPIO23)      W25Q DI  (IO0)                  VSPI
//  SPI MISO    P19  (GPIO19)      W25Q DO  (IO1)                  VSPI
//  flash CS    P4   (GPIO4)       W25Q /CS                        10 kΩ pull-up; GPIO5 (VSPI CS) is a
//                                                                 strapping pin the board map hides
// DeviceScript takes the I2C pins as compile-time hardware configuration, literal pins only
// (configureHardware); SPI is configured at run time from FLASH below.
configureHardware({ scanI2C: false, i2c: { pinSDA: pins.P21, pinSCL: pins.P22, kHz: 400 } })
const FLASH = { sck: pins.P18, mosi: pins.P23, miso: pins.P19, cs: pins.P4, hz: 8000000 }
// SC16IS7xx: A1 = A0 = GND → 0x4D; 14.7456 MHz crystal (most breakouts); module at 115 200 8N1.
const BRIDGE = { address: 0x4d, xtal: 14745600, baud: 115200, flowControl: false }

await runBoard({ board: "esp32_devkit_c", flash: FLASH, bridge: BRIDGE, component: "STM32" })
