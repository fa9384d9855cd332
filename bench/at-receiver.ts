// Bench: AT receiver and client throughput in Node, as ratios to the UART they will sit behind.
// Run: npm run bench:at   (the VM figures: npm run bench:at:vm)
import { AtReceiver, ReceiverListener } from "../src/at/receiver"
import { quectelLineTable } from "../src/at/line-table"
import { AtClient } from "../src/at/client"
import { createPipe } from "../src/link/pipe"

const UART_115200 = 115200 / 10 // bytes per second on an 8N1 line

const nop: ReceiverListener = {
    line() {},
    payloadStart() {},
    payloadData() {},
    payloadEnd() {},
    fault() {},
}

function stream(kind: "reads" | "urcs", bytes: number): Buffer {
    const parts: Buffer[] = []
    let n = 0
    const body = Buffer.alloc(1024, 0x5a)
    for (let off = 0; n < bytes; off += 1024) {
        const b =
            kind === "reads"
                ? Buffer.concat([Buffer.from(`AT+QIOTOTARD=${off},1024\r\r\n+QIOTOTARD: ${off},1024\r\n`), body, Buffer.from("\r\n\r\nOK\r\n")])
                : Buffer.from('+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954\r\n'.repeat(20))
        parts.push(b)
        n += b.length
    }
    return Buffer.concat(parts)
}

function receiverRate(kind: "reads" | "urcs", chunk: number) {
    const s = stream(kind, 4 * 1024 * 1024)
    const rx = new AtReceiver(quectelLineTable(), nop)
    const t0 = performance.now()
    for (let off = 0; off < s.length; off += chunk) rx.feed(s, off, Math.min(s.length, off + chunk))
    const sec = (performance.now() - t0) / 1000
    return s.length / sec
}

async function clientReads(blocks: number, feedSlice?: number) {
    const [mcu, mod] = createPipe()
    const body = Buffer.alloc(1024, 0x33)
    let rx = ""
    mod.listen({
        data: c => {
            rx += c.toString("latin1")
            let cr: number
            while ((cr = rx.indexOf("\r")) >= 0) {
                const cmd = rx.slice(0, cr)
                rx = rx.slice(cr + 1)
                const off = cmd.split("=")[1].split(",")[0]
                mod.send(Buffer.concat([Buffer.from(`\r\n+QIOTOTARD: ${off},1024\r\n`), body, Buffer.from("\r\n\r\nOK\r\n")]))
            }
        },
        link: () => {},
    })
    const client = new AtClient(mcu, { feedSlice })
    let got = 0
    const sink = { begin() {}, data: (b: Buffer, s: number, e: number) => (got += e - s), end() {} }
    const t0 = performance.now()
    for (let i = 0; i < blocks; i++) await client.command(`AT+QIOTOTARD=${i * 1024},1024`, { sink })
    const sec = (performance.now() - t0) / 1000
    if (got !== blocks * 1024) throw new Error("lost bytes")
    return { sec, blocksPerSec: blocks / sec }
}

const fmt = (bps: number) => `${(bps / 1e6).toFixed(1)} MB/s = ${Math.round(bps / UART_115200)}× a 115 200-baud UART`
console.log(`receiver, 1 KB reads, 236-byte chunks: ${fmt(receiverRate("reads", 236))}`)
console.log(`receiver, 1 KB reads, 1-byte chunks:   ${fmt(receiverRate("reads", 1))}`)
console.log(`receiver, URC lines, 236-byte chunks:  ${fmt(receiverRate("urcs", 236))}`)
const uartBlocks = UART_115200 / 1060
for (const [label, slice] of [["VM-safe 256-byte slices", undefined], ["feedSlice 4096 (Node only)", 4096]] as const) {
    const c = await clientReads(1000, slice)
    console.log(
        `client, 1000 × AT+QIOTOTARD 1 KB over the unpaced pipe, ${label}: ${c.sec.toFixed(2)} s, ` +
            `${Math.round(c.blocksPerSec)} blocks/s = ${(c.blocksPerSec / uartBlocks).toFixed(1)}× what a 115 200-baud UART carries (${uartBlocks.toFixed(1)} blocks/s)`
    )
}
