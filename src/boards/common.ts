// What every board entry shares: the modem through the SC16IS7xx I2C-to-UART bridge, the image
// store on a W25Q SPI NOR flash, and the SOTA engine on top. A board file names its pins and
// calls runBoard(); everything else is here. DeviceScript-only (I2C, SPI, GPIO): it does not run
// in the simulator, where pins do not exist (src/simulator/main.ts is the simulator's entry).
//
// The deployment model, honestly:
//   DeviceScript runs a bytecode program (.devs) that `devs deploy` writes into the runtime's own
//   flash partition (fstor). The "image" this board updates is that application payload: the
//   SOTA engine downloads it from QuecThing, writes it into the inactive slot of the W25Q,
//   verifies MD5/SHA-256, flips the A/B metadata, and calls ds.restart(). After the restart the
//   engine finds a trial slot, runs the self-test and confirms it (or rolls it back).
//   What the stock runtime does NOT do is run the bytecode from that slot: it always starts
//   the program in fstor, and a DeviceScript program has no API to rewrite fstor (there is no
//   raw flash access; reference/devicescript.md §3). So on stock firmware the loop is complete
//   up to "the new image is stored, verified, selected and confirmed", and the running program
//   does not change. To boot the selected slot one of these is needed:
//     1. a small C stage in a fork of devicescript-esp32 / devicescript-pico that, before the VM
//        starts, reads the store's newest valid metadata record (src/flash/store-records.ts
//        format: sequence + CRC), and when the active slot's image differs from fstor's,
//        deploys it through the runtime's own bytecode-deploy path, then starts the VM; a
//        rollback is the same operation with the other slot. That stage is the bootloader of
//        this design and does not exist yet;
//     2. or the image is not for this MCU at all (a separate host MCU, whose bootloader reads the
//        W25Q); then this board is the update agent and the self-test must ask that MCU.
//   Neither is in this repository; reboot() is ds.restart(), which restarts the program.

import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { hex2 } from "../drivers/driver"
import { Sc16is7xxTransport, startSc16is7xx } from "../drivers/sc16is7xx-transport"
import { BlockImageStore } from "../flash/image-store"
import { W25qFlash } from "../flash/w25q"
import { boardI2c } from "../platform/i2c-bus"
import { startW25qFlash } from "../platform/spi-bus"
import { PlanResult, SotaEngine, StartResult } from "../sota/engine"
import { SotaProgress } from "../sota/progress"
import { SotaPlatform } from "../sota/port"
import { boardLayout } from "./layout"
import { boardSotaConfig } from "./sota-config"

export interface FlashWiring {
    sck: ds.OutputPin
    mosi: ds.OutputPin
    miso: ds.InputPin
    /** Chip select, active low, driven as a GPIO around each transaction. */
    cs: ds.OutputPin
    /** SPI clock. W25Q reads (0x03) go to 50 MHz; long wires want less. */
    hz: number
}

export interface BridgeWiring {
    /** 0x48–0x57 from A1/A0; 0x4D with both to GND. */
    address: number
    /** The bridge's crystal. */
    xtal: number
    /** The module's UART rate (Quectel default 115 200). */
    baud: number
    /** RTS/CTS wired between bridge and module, and AT+IFC=2,2 set in the module. */
    flowControl: boolean
}

export interface BoardWiring {
    /** The @dsboard id, for the log. */
    board: string
    flash: FlashWiring
    bridge: BridgeWiring
    /** The MCU component the platform's plans name. */
    component: string
    slotSize?: number
}

/** Ask the platform for plans this often (pushed plans are taken at any time). */
const PLAN_CHECK_MS = 600000

/**
 * The board's side of the SOTA port: three closures over the bridge and the flash, not a class
 * (a class adds a constructor and ~11 B of prototype table per method to the image).
 */
function boardPlatform(modem: Sc16is7xxTransport, flash: W25qFlash): SotaPlatform {
    return {
        reboot: async () => {
            console.log("SOTA: restarting")
            ds.restart()
        },
        // these boards have no fuel gauge: mains power. A product with a battery measures it here
        battery: async () => 100,
        // a new image must still reach its peripherals: the bridge is up and the flash answers
        selfTest: async () => modem.up && (await flash.readStatus()) !== 0xff,
    }
}

/** Bring up bridge, flash, store and engine; then check for updates forever. */
export async function runBoard(w: BoardWiring): Promise<void> {
    if (ds.isSimulator()) throw new Error(`${w.board}: board entries need real I2C and SPI pins; run src/simulator/main.ts in the simulator`)
    console.log(`board ${w.board}: SC16IS7xx at 0x${hex2(w.bridge.address)}, W25Q on SPI`)
    const modem = await startSc16is7xx({
        bus: boardI2c,
        address: w.bridge.address,
        xtal: w.bridge.xtal,
        baud: w.bridge.baud,
        flowControl: w.bridge.flowControl,
        onOverrun: (n: number) => console.log(`bridge: RX overrun #${n} (bytes lost; the AT layer resynchronises)`),
    })
    // the wiring is the SPI configuration itself (sck, mosi, miso, hz; spi.configure reads only those): no copy to build
    const flash = await startW25qFlash({ spi: w.flash, cs: w.flash.cs })
    const layout = boardLayout(flash.geometry.size, w.slotSize) // its default: BOARD_SLOT_SIZE
    console.log(`flash: ${flash.geometry.size} bytes; slots of ${layout.slotSize} at ${layout.slotAddress[0]} and ${layout.slotAddress[1]}`)
    const store = new BlockImageStore(flash, layout) // no rebuilder on a board: the store without the rebuild path
    const at = new AtClient(modem)
    const engine = new SotaEngine(at, store, boardPlatform(modem, flash), boardSotaConfig(w.component))
    engine.onProgress((p: SotaProgress) =>
        console.log(`SOTA ${p.state} ${p.version}${p.target ? " → " + p.target : ""} ${p.bytes}/${p.total}${p.reason ? " " + p.reason : ""}${p.detail ? " " + p.detail : ""}`)
    )
    const start: StartResult = await engine.start()
    console.log(`SOTA start: ${start.version} in slot ${start.slot}, trial ${start.trial}, platform ${start.platform}`)
    await engine.serve(PLAN_CHECK_MS, (plan: PlanResult) =>
        console.log(`SOTA plan: ${plan.result} ${plan.target} ${plan.reason || ""} ${plan.detail}`)
    )
}
