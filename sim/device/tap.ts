// A tap on the MCU's end of the line: counts the bytes each way, times the download phase
// (first to last AT+QIOTOTARD), and can print the AT dialogue with binary payloads shown as a
// length (--trace), using the firmware's own receiver to frame what the module says.

import type { ByteTransport, TransportEvents } from "../../src/link/transport"
import { AtReceiver, ReceiverListener } from "../../src/at/receiver"
import { quectelLineTable } from "../../src/at/line-table"

export class LineTap implements ByteTransport {
    bytesToModule = 0
    bytesToMcu = 0
    /** The download phase's floor: its UART bytes at the line rate plus the module latency per command (baud 0: unpaced). */
    uartFloorSeconds(baud: number, latencyMs: number): number {
        return baud > 0 ? (this.downloadBytes * 10) / baud + (this.downloadCommands * latencyMs) / 1000 : 0
    }

    /** Seconds from the first read to the end of the last reply. */
    downloadSeconds(): number {
        return this.firstRead ? (this.downloadEnd - this.firstRead) / 1000 : 0
    }

    /** Date.now() when the first AT+QIOTOTARD=<start>,<len> was sent, and of the last byte received before AT+QIOTUPDATE=3. */
    firstRead = 0
    downloadEnd = 0
    /** UART bytes both ways in that phase, and the commands sent in it. */
    downloadBytes = 0
    downloadCommands = 0
    private txLine = ""
    private inDownload = false
    private tracer: AtReceiver = null

    constructor(
        readonly inner: ByteTransport,
        trace?: (line: string) => void
    ) {
        if (trace) {
            const say = (dir: string, text: string) => trace(`${dir} ${text}`)
            const l: ReceiverListener = {
                line: (k, c, t) => say("<-", k === "echo" ? `(echo) ${t}` : t),
                payloadStart: (h, n) => {
                    if (!h.startsWith("+QIOTEVT")) say("<-", h)
                    say("<-", `<${n} bytes>`)
                },
                payloadData: () => {},
                payloadEnd: ok => {
                    if (!ok) say("<-", "(payload framing broken)")
                },
                fault: (k, d) => say("<-", `(${k}${d ? ": " + d : ""})`),
            }
            this.tracer = new AtReceiver(quectelLineTable(), l, { maxPayload: 1 << 20 })
            this.trace = trace
        }
    }

    private trace: (line: string) => void = null

    async write(data: Buffer): Promise<void> {
        this.bytesToModule += data.length
        if (this.inDownload) this.downloadBytes += data.length
        for (const b of data) {
            if (b === 13) this.command(this.txLine)
            else if (b !== 10) this.txLine += String.fromCharCode(b)
            if (b === 13) this.txLine = ""
        }
        return this.inner.write(data)
    }

    listen(events: TransportEvents) {
        this.inner.listen({
            data: chunk => {
                this.bytesToMcu += chunk.length
                if (this.inDownload) {
                    this.downloadBytes += chunk.length
                    this.downloadEnd = Date.now()
                }
                if (this.tracer) this.tracer.feed(chunk)
                events.data(chunk)
            },
            link: up => {
                if (this.trace) this.trace(up ? "-- line up" : "-- line down")
                if (this.tracer) this.tracer.abortPayload(true)
                events.link(up)
            },
        })
    }

    private command(line: string) {
        if (this.trace) this.trace(`-> ${line}`)
        if (line.startsWith("AT+QIOTOTARD=") && !line.endsWith("?")) {
            if (!this.firstRead) this.firstRead = Date.now()
            this.inDownload = true
        } else if (this.inDownload && line.startsWith("AT+QIOTUPDATE=3")) {
            this.inDownload = false
        }
        if (this.inDownload) this.downloadCommands++
    }
}
