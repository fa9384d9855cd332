// The AT receiver and client in DeviceScript's own VM: a 1 KB binary payload that holds CR, LF,
// NUL and "\r\nOK\r\n", split at several chunk sizes, and a client round trip over the pipe.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { AtReceiver, LineKind, ReceiverListener } from "../../src/at/receiver"
import { quectelLineTable } from "../../src/at/line-table"
import { AtClient } from "../../src/at/client"
import { PayloadSink } from "../../src/at/client-types"
import { createPipe } from "../../src/link/pipe"
import { AtTimeoutError } from "../../src/at/errors"

const PAYLOAD = 1024

function payloadByte(i: number) {
    return (i * 37 + 11) & 0xff
}

/** 1 KB of pattern with the traps a line parser falls into. */
function makePayload(): Buffer {
    const b = Buffer.alloc(PAYLOAD)
    for (let i = 0; i < PAYLOAD; i++) b[i] = payloadByte(i)
    const trap = Buffer.from("\r\nOK\r\n")
    for (let i = 0; i < trap.length; i++) b[100 + i] = trap[i]
    b[0] = 0
    b[511] = 13
    b[512] = 10
    b[PAYLOAD - 1] = 13
    return b
}

function transcript(payload: Buffer): Buffer {
    return Buffer.concat(
        Buffer.from("AT+QIOTOTARD=0,1024\r\n+QIOTEVT: 7,10702\r\n+QIOTOTARD: 0,1024\r\n"),
        payload,
        Buffer.from("\r\n+QIOTEVT: 7,10703,\"STM32\",27954,0,27954\r\n\r\nOK\r\n")
    )
}

class Recorder implements ReceiverListener {
    events: string[] = []
    sum = 0
    count = 0
    first = -1
    line(k: LineKind, c: number, t: string) {
        if (k === "line" || k === "echo" || k === "urc") this.events.push(k + ":" + t)
        else this.events.push("final:" + k)
    }
    payloadStart(h: string, n: number, u: boolean) {
        this.events.push(`start:${n}`)
    }
    payloadData(b: Buffer, s: number, e: number) {
        for (let i = s; i < e; i++) {
            if (this.first < 0) this.first = b[i]
            this.sum = (this.sum * 31 + b[i]) % 1000003
            this.count++
        }
    }
    payloadEnd(ok: boolean) {
        this.events.push(`end:${ok}`)
    }
    fault(k: string, d: string) {
        this.events.push("fault:" + k)
    }
}

function checksum(b: Buffer) {
    let s = 0
    for (let i = 0; i < b.length; i++) s = (s * 31 + b[i]) % 1000003
    return s
}

describe("AT receiver in the VM", () => {
    const payload = makePayload()
    const stream = transcript(payload)
    const expected = checksum(payload)
    const sizes = [1, 7, 64, 236, stream.length]
    sizes.forEach(size => {
        test(`1 KB payload, chunks of ${size}`, async () => {
            const rec = new Recorder()
            const rx = new AtReceiver(quectelLineTable(), rec)
            for (let off = 0; off < stream.length; off += size) {
                rx.feed(stream, off, Math.min(off + size, stream.length))
                await ds.sleep(0) // as a Jacdac packet handler would: one chunk per turn
            }
            expect(rec.count).toBe(PAYLOAD)
            expect(rec.sum).toBe(expected)
            expect(rec.events.join("|")).toBe(
                'echo:AT+QIOTOTARD=0,1024|urc:+QIOTEVT: 7,10702|start:1024|end:true|urc:+QIOTEVT: 7,10703,"STM32",27954,0,27954|final:ok'
            )
        })
    })
})

describe("AT client in the VM", () => {
    test("a read with a 1 KB payload, a URC inside the command, then a timeout", async () => {
        const ends = createPipe()
        const mcu = ends[0]
        const module = ends[1]
        const payload = makePayload()
        module.chunker = (left: number) => 1 // the module sees the command byte by byte
        mcu.chunker = (left: number) => (left > 200 ? 200 : left)
        let rx = ""
        module.listen({
            data: (chunk: Buffer) => {
                rx += chunk.toString("utf-8")
                const cr = rx.indexOf("\r")
                if (cr < 0) return
                const cmd = rx.slice(0, cr)
                rx = rx.slice(cr + 1)
                if (cmd === "AT+QIOTOTARD=0,1024")
                    module.send(
                        Buffer.concat(
                            Buffer.from("+QIOTEVT: 7,10702\r\n+QIOTOTARD: 0,1024\r\n"),
                            payload,
                            Buffer.from("\r\n\r\nOK\r\n+QIOTEVT: 7,10704\r\n")
                        )
                    )
                // any other command gets no answer
            },
            link: (up: boolean) => {},
        })
        const client = new AtClient(mcu, { timeoutMs: 500 })
        const urcs: string[] = []
        client.onUrc(l => {
            urcs.push(l)
        })
        let got = 0
        let sum = 0
        let ended = false
        const sink: PayloadSink = {
            begin: (h: string, n: number) => {},
            data: (b: Buffer, s: number, e: number) => {
                for (let i = s; i < e; i++) sum = (sum * 31 + b[i]) % 1000003
                got += e - s
            },
            end: (ok: boolean) => {
                ended = ok
            },
        }
        const r = await client.command("AT+QIOTOTARD=0,1024", { sink })
        expect(r.payloadLength).toBe(1024)
        expect(got).toBe(1024)
        expect(sum).toBe(checksum(payload))
        expect(ended).toBe(true)
        await ds.sleep(20)
        expect(urcs.join("|")).toBe("+QIOTEVT: 7,10702|+QIOTEVT: 7,10704")
        let timedOut = false
        try {
            await client.command("AT+NOANSWER", { timeoutMs: 100 })
        } catch (e) {
            timedOut = e instanceof AtTimeoutError
        }
        expect(timedOut).toBe(true)
        expect(client.outOfSync).toBe(true)
    })

    test("a transport that hands over 6 KB at once: the client feeds it a slice per turn", async () => {
        const ends = createPipe()
        const mcu = ends[0]
        const module = ends[1]
        const body = Buffer.alloc(4096)
        for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 0xff
        let urcText = ""
        for (let i = 0; i < 50; i++) urcText += `+QIOTEVT: 7,10702\r\n`
        module.listen({
            data: (chunk: Buffer) => {
                module.send(
                    Buffer.concat(Buffer.from("+QIOTOTARD: 0,4096\r\n"), body, Buffer.from("\r\n" + urcText + "\r\nOK\r\n"))
                )
            },
            link: (up: boolean) => {},
        })
        const client = new AtClient(mcu, { maxPayload: 4096 })
        let urcs = 0
        client.onUrc(l => {
            urcs++
        })
        let got = 0
        const r = await client.command("AT+QIOTOTARD=0,4096", {
            sink: {
                begin: (h: string, n: number) => {},
                data: (b: Buffer, s: number, e: number) => {
                    got += e - s
                },
                end: (ok: boolean) => {},
            },
        })
        expect(r.payloadLength).toBe(4096)
        expect(got).toBe(4096)
        expect(urcs).toBe(50)
    })
})
