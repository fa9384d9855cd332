// VM bench: receiver cost in DeviceScript's own VM, fed as Jacdac delivers (236-byte packets).
// Run under `devs run --test` (GC stress on, so these are pessimistic): npm run bench:at:vm
import * as ds from "@devicescript/core"
import { AtReceiver, ReceiverListener } from "../../src/at/receiver"
import { quectelLineTable } from "../../src/at/line-table"

const nop: ReceiverListener = {
    line: (k, c, t) => {},
    payloadStart: (h, n, u) => {},
    payloadData: (b, s, e) => {},
    payloadEnd: ok => {},
    fault: (k, d) => {},
}

/** One packet per turn, as Jacdac delivers; `feed` false runs the same loop without the receiver. */
async function loop(rx: AtReceiver, unit: Buffer, repeat: number, feed: boolean) {
    const t0 = ds.millis()
    for (let k = 0; k < repeat; k++) {
        for (let off = 0; off < unit.length; off += 236) {
            if (feed) rx.feed(unit, off, Math.min(unit.length, off + 236))
            await ds.sleep(0)
        }
    }
    return ds.millis() - t0
}

async function run(label: string, unit: Buffer, repeat: number) {
    // the clock ticks in ms and one 236-byte feed takes less: time the loop, subtract the bare loop
    const rx = new AtReceiver(quectelLineTable(), nop)
    const withFeed = await loop(rx, unit, repeat, true)
    const bare = await loop(rx, unit, repeat, false)
    const busy = withFeed - bare
    const bytes = unit.length * repeat
    console.log(
        `VM ${label}: ${bytes} bytes, loop ${withFeed} ms, bare loop ${bare} ms, feed ${busy} ms = ${Math.round(bytes / Math.max(1, busy))} KB/s = ${Math.round(bytes / Math.max(1, busy) / 11.52)}× a 115 200-baud UART`
    )
}

const body = Buffer.alloc(1024)
const read = Buffer.concat(Buffer.from("+QIOTOTARD: 0,1024\r\n"), body, Buffer.from("\r\n\r\nOK\r\n"))
await run("1 KB reads", read, 256)
let urcs = ""
for (let i = 0; i < 20; i++) urcs += '+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954\r\n'
await run("URC lines", Buffer.from(urcs), 256)
ds.restart()
