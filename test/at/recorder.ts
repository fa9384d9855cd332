// Records what the receiver reports as comparable strings; payload bytes are collected whole.
import { createHash } from "node:crypto"
import { AtReceiver, LineKind, ReceiverListener, ReceiverOptions } from "../../src/at/receiver"
import { LineTable, quectelLineTable } from "../../src/at/line-table"

export class Recorder implements ReceiverListener {
    events: string[] = []
    payloads: Buffer[] = []
    private current: Buffer[] = []
    line(kind: LineKind, code: number, t: string) {
        if (kind === "line" || kind === "echo" || kind === "urc") this.events.push(`${kind} ${t}`)
        else this.events.push(`final ${kind} ${code}`)
    }
    payloadStart(h: string, n: number, urc: boolean) {
        this.current = []
        this.events.push(`payload ${n}${urc ? " urc" : ""}`)
    }
    payloadData(chunk: Buffer, start: number, end: number) {
        this.current.push(Buffer.from(chunk.subarray(start, end)))
    }
    payloadEnd(ok: boolean) {
        const p = Buffer.concat(this.current)
        this.payloads.push(p)
        this.events.push(`end ${ok} ${p.length} ${createHash("md5").update(p).digest("hex").slice(0, 8)}`)
    }
    fault(kind: string, detail: string) {
        this.events.push(`fault ${kind}`)
    }
}

export function receiverWith(options?: ReceiverOptions, table?: LineTable) {
    const rec = new Recorder()
    const rx = new AtReceiver(table || quectelLineTable(), rec, options)
    return { rec, rx }
}

/** Feed `stream` split at the given offsets. */
export function feedSplit(rx: AtReceiver, stream: Buffer, cuts: number[]) {
    let off = 0
    for (const c of [...cuts, stream.length]) {
        if (c > off) rx.feed(stream, off, c)
        off = Math.max(off, c)
    }
}

export function md8(b: Buffer) {
    return createHash("md5").update(b).digest("hex").slice(0, 8)
}
