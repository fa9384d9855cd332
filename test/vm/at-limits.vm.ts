// The VM's hard limits hold whatever the input: 64 KB of garbage, a flood of maximum payloads and
// lying headers, fed as Jacdac would (≤ 236-byte packets, one per turn), with 48 KB of live
// ballast held the whole time. Either limit (131 072 opcodes per slice, 64 KB heap) is an
// uncatchable panic, so finishing at all is the assertion; the counts check the work was done.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { AtReceiver, LineKind, ReceiverListener } from "../../src/at/receiver"
import { quectelLineTable } from "../../src/at/line-table"

const PACKET = 236

class Counter implements ReceiverListener {
    lines = 0
    finals = 0
    urcs = 0
    payloads = 0
    payloadBytes = 0
    faults = 0
    line(k: LineKind, c: number, t: string) {
        if (k === "line" || k === "echo") this.lines++
        else if (k === "urc") this.urcs++
        else this.finals++
    }
    payloadStart(h: string, n: number, u: boolean) {
        this.payloads++
    }
    payloadData(b: Buffer, s: number, e: number) {
        this.payloadBytes += e - s
    }
    payloadEnd(ok: boolean) {}
    fault(k: string, d: string) {
        this.faults++
    }
}

/** 48 KB held live for the whole suite: the flows below must fit in what is left. */
const ballast: Buffer[] = []
for (let i = 0; i < 6; i++) ballast.push(Buffer.alloc(8192))

async function feedPackets(rx: AtReceiver, chunk: Buffer) {
    for (let off = 0; off < chunk.length; off += PACKET) {
        rx.feed(chunk, off, Math.min(off + PACKET, chunk.length))
        await ds.sleep(0)
    }
}

describe("AT receiver under the VM's limits", () => {
    test("64 KB of garbage with no line end, then binary noise, then a clean OK", async () => {
        const c = new Counter()
        const rx = new AtReceiver(quectelLineTable(), c)
        const junk = Buffer.alloc(1024)
        let x = 12345
        for (let k = 0; k < 64; k++) {
            for (let i = 0; i < junk.length; i++) {
                x = (x * 1103515245 + 12345) & 0x7fffffff
                junk[i] = k < 32 ? 0x41 + (x % 26) : x & 0xff
            }
            await feedPackets(rx, junk)
        }
        await feedPackets(rx, Buffer.from("\r\nOK\r\n"))
        expect(rx.bytesIn).toBe(65536 + 6)
        expect(rx.lineLen).toBe(0)
        expect(c.faults > 0).toBe(true)
        expect(c.finals >= 1).toBe(true)
        expect(ballast.length).toBe(6)
    })

    test("16 back-to-back maximum payloads (4 KB each) and lying headers", async () => {
        const c = new Counter()
        const rx = new AtReceiver(quectelLineTable(), c)
        const body = Buffer.alloc(1024)
        for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff
        for (let k = 0; k < 16; k++) {
            await feedPackets(rx, Buffer.from(`+QIOTOTARD: ${k * 4096},4096\r\n`))
            for (let j = 0; j < 4; j++) await feedPackets(rx, body)
            await feedPackets(rx, Buffer.from("\r\n\r\nOK\r\n+QIOTEVT: 7,10702\r\n"))
        }
        await feedPackets(rx, Buffer.from("+QIOTOTARD: 0,99999999\r\n+QIOTOTARD: 0,-1\r\n+QIOTOTARD: 0,zz\r\nOK\r\n"))
        expect(c.payloads).toBe(16)
        expect(c.payloadBytes).toBe(16 * 4096)
        expect(c.urcs).toBe(16)
        expect(c.finals).toBe(17)
        expect(c.faults).toBe(3)
    })
})
