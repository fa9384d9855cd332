// The application: a sensor loop that logs a reading every few seconds, with firmware updates
// over the air added in a few lines (the startSota call at the end). Portable: it never names a
// pin or a bus, so the same file runs on a board (main.ts wires the module and the flash) and in
// this repository's simulator (examples/simulator: the emulated module and flash).
import * as ds from "@devicescript/core"
import { startSota, Sota, ByteTransport, Flash } from "devicescript-quecthing-sota"

/** What the board gives the application: the module's UART, the NOR flash, and how to reset. */
export interface Board {
    transport: ByteTransport
    flash: Flash
    /** Default: ds.restart(). */
    reboot?: () => Promise<void>
    /** Default: 100 % (mains power). */
    battery?: () => Promise<number>
    /** The board's own check of a new image (the simulator can make it fail); default: passes. */
    selfTest?: () => Promise<boolean>
    /** A boot stage chose the image before this program ran (the simulator's host does). */
    bootStage?: boolean
}

/** A stand-in sensor: replace with yours (e.g. a ds.Temperature client). */
function readTemperature(): number {
    const step = Math.floor(ds.millis() / 5000) % 20 // a slow triangle wave, 20.0 … 21.0 °C
    return 20 + (step < 10 ? step : 20 - step) / 10
}

function sensorOk(celsius: number): boolean {
    return celsius > -40 && celsius < 125
}

export function startApp(board: Board, version: string): Sota {
    let readings = 0
    setInterval(async () => {
        readings++
        console.log(`app ${version}: temperature ${readTemperature()} °C (reading ${readings})`)
    }, 5000)

    // ---- OTA: the module's UART, the flash, this program's version; the rest has defaults
    const sota = startSota({
        transport: board.transport,
        flash: board.flash,
        reboot: board.reboot,
        battery: board.battery,
        bootStage: board.bootStage,
        component: "STM32",
        version: version,
        // a new image proves itself: its sensor answers with a plausible value, and the board's own check passes
        selfTest: async () => sensorOk(readTemperature()) && (!board.selfTest || (await board.selfTest())),
        // the application may say no (a measurement campaign, a user to ask): the platform offers it again later
        consent: async plan => plan.size <= 256 * 1024,
        onProgress: p => {
            if (p.state !== "downloading") console.log(`ota: ${p.state} ${p.target}${p.reason ? ` (${p.reason})` : ""}`)
        },
    })
    return sota
}
