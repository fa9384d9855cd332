// The two Serial channels of the simulator (or of a board firmware that serves Jacdac Serial):
// "flash" (the NOR model in the Node host, src/simulator/remote-flash.ts) and "modem" (the module's
// UART). Role names do NOT pick servers: each role takes the first free Serial service, in
// role-name order × device order × timing (reference/devicescript.md §10 Q1). So this waits for
// both roles to bind, reads each server's connectionName, swaps the two channels when they came
// out crossed, and throws when the names are not {"flash", "modem"} at all.

import * as ds from "@devicescript/core"
import { JacdacSerialTransport } from "./jacdac-serial-transport"

export interface Channels {
    flash: JacdacSerialTransport
    modem: JacdacSerialTransport
    /** The roles came out crossed and were swapped. */
    swapped: boolean
    /** ms from the call until both were bound and identified. */
    bindMs: number
}

// Constants, not options: no caller set them (options cost their defaulting in every image).
/** Give up when the roles are not bound within this. */
const BIND_TIMEOUT_MS = 15000
/** Line rates (the simulator ignores them; a real UART bridge would not). */
const FLASH_BAUD = 921600
const MODEM_BAUD = 115200

async function waitBound(role: ds.Serial, deadline: number) {
    while (!role.isBound) {
        if (ds.millis() > deadline) throw new Error("serial channels: no Serial server bound in time")
        await ds.sleep(20)
    }
}

/** Open both channels; resolves once each is bound to the server that names itself alike. */
export async function openChannels(): Promise<Channels> {
    const t0 = ds.millis()
    const deadline = t0 + BIND_TIMEOUT_MS
    const a = new ds.Serial("flash")
    const b = new ds.Serial("modem")
    await waitBound(a, deadline)
    await waitBound(b, deadline)
    const na = await a.connectionName.read()
    const nb = await b.connectionName.read()
    let swapped = false
    let flashRole = a
    let modemRole = b
    if (na === "modem" && nb === "flash") {
        swapped = true
        flashRole = b
        modemRole = a
    } else if (!(na === "flash" && nb === "modem")) {
        throw new Error(`serial channels: servers name themselves "${na}" and "${nb}", expected "flash" and "modem"`)
    }
    const flash = new JacdacSerialTransport(flashRole)
    const modem = new JacdacSerialTransport(modemRole)
    await flash.open(FLASH_BAUD)
    await modem.open(MODEM_BAUD)
    return { flash: flash, modem: modem, swapped: swapped, bindMs: ds.millis() - t0 }
}
