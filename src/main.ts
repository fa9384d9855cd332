// Firmware entry. For now it brings up the AT link to the module over the "modem" Serial role
// and reports what the module says; the SOTA engine (src/sota) takes over from here as it lands.
import * as ds from "@devicescript/core"
import { AtClient } from "./at/client"
import { JacdacSerialTransport } from "./platform/jacdac-serial-transport"

const modem = new JacdacSerialTransport(new ds.Serial("modem"))

async function start() {
    await modem.open(115200)
    const at = new AtClient(modem)
    at.onUrc(line => console.log(`URC ${line}`))
    await at.resync()
    await at.command("ATE0")
    const info = await at.command("ATI")
    console.log(`module: ${info.lines.join(" / ")}`)
}

await start()
