// Test helpers: the MCU's end of the wire as a raw terminal (what the MCU sees, byte for byte),
// a standard Developer Center with the walk-through's product, and a virtual clock.
import { vi } from "vitest"
import { createPipe, PipeEnd } from "../../src/link/pipe"
import type { ByteTransport } from "../../src/link/transport"
import { DevCenter, Package } from "../../sim/module/dev-center"
import { QuecModule, QuecModuleOptions } from "../../sim/module/module"
import { Rng } from "../../sim/lib/rng"

export const PK = "p11tst"
export const PS = "RMWdemoSecretDlt"
export const IMEI = "866123456789012"
export const DS = "ds-walkthrough"

/** Records everything that arrives at the MCU, and sends command lines. */
export class Terminal {
    private chunks: Buffer[] = []
    /** Link changes seen by the MCU, in order, with the byte count received at that moment. */
    readonly linkEvents: { up: boolean; at: number }[] = []
    received = 0

    constructor(readonly end: ByteTransport) {
        end.listen({
            data: c => {
                this.chunks.push(Buffer.from(c))
                this.received += c.length
            },
            link: up => this.linkEvents.push({ up, at: this.received }),
        })
    }

    send(line: string): Promise<void> {
        return this.end.write(Buffer.from(line + "\r", "latin1"))
    }

    sendRaw(bytes: Buffer | string): Promise<void> {
        return this.end.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes)
    }

    /** Everything received since the last take(), and forget it. */
    take(): Buffer {
        const b = Buffer.concat(this.chunks)
        this.chunks = []
        return b
    }

    takeText(): string {
        return this.take().toString("latin1")
    }

    peekText(): string {
        return Buffer.concat(this.chunks).toString("latin1")
    }
}

/** Lines of a text response (no payload), blank lines dropped: how Quectel's docs print [RX]. */
export function lines(text: string): string[] {
    return text.split(/\r\n|\r|\n/).filter(l => l.length > 0)
}

/** Advance the virtual clock (vi.useFakeTimers() must be on). */
export async function tick(ms = 0): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms)
}

/** Send a command, let `ms` of virtual time pass, return what came back. */
export async function exchange(t: Terminal, line: string, ms = 10): Promise<string> {
    t.take()
    // over a paced line the write resolves only once the bytes have crossed it; a dead pipe throws
    t.send(line).catch(() => {})
    await tick(ms)
    return t.takeText()
}

/**
 * A package like the walk-through's: it starts with the bytes the document shows as
 * little-endian words (00000064 65746e45 52412072 4d545f48 = 0x64 0 0 0 "Enter ARH_TM"),
 * then seeded bytes, with the traps a line parser falls into (CR, LF, NUL, "\r\nOK\r\n").
 */
export function makePackage(size: number, seed = 7): Buffer {
    const b = Buffer.alloc(size)
    const rng = new Rng(seed)
    for (let i = 0; i < size; i++) b[i] = rng.int(256)
    const head = Buffer.from([0x64, 0, 0, 0, 0x45, 0x6e, 0x74, 0x65, 0x72, 0x20, 0x41, 0x52, 0x48, 0x5f, 0x54, 0x4d])
    head.copy(b, 0, 0, Math.min(16, size))
    const trap = Buffer.from("\r\nOK\r\n\r\nERROR\r\n+QIOTEVT: 7,10706\r\n")
    if (size > 200 + trap.length) trap.copy(b, 200)
    if (size > 1023) {
        b[1023] = 13 // the last byte of the first block is a CR
        b[1022] = 10
    }
    return b
}

export interface World {
    dc: DevCenter
    pkg: Package
    module: QuecModule
    term: Terminal
    mcuEnd: PipeEnd
    moduleEnd: PipeEnd
}

/** The walk-through's world: product, STM32 component, full package 2_0_0, a plan; the device already provisioned. */
export function walkthroughWorld(opts: QuecModuleOptions = {}, packageSize = 27954): World {
    const dc = new DevCenter()
    dc.addProduct({ productKey: PK, productSecret: PS }).addComponent(PK, "STM32")
    const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(packageSize) })
    dc.createPlan({ packageId: pkg.id, minBattery: 30, minSignal: -113 })
    dc.addDevice(PK, IMEI, DS)
    const [mcuEnd, moduleEnd] = createPipe()
    const module = new QuecModule(moduleEnd, {
        devCenter: dc,
        imei: IMEI,
        ...opts,
        nvm: { productKey: PK, productSecret: PS, deviceSecret: DS, ...(opts.nvm || {}) },
    })
    const term = new Terminal(mcuEnd)
    return { dc, pkg, module, term, mcuEnd, moduleEnd }
}

/** Parse a `+QIOTOTARD: s,n` reply: header, payload, and what follows. */
export function splitRead(raw: Buffer, echo: string): { start: number; length: number; data: Buffer; tail: string } {
    const text = raw.toString("latin1")
    if (!text.startsWith(echo)) throw new Error(`no echo: ${JSON.stringify(text.slice(0, 40))}`)
    const m = /^\r\n\+QIOTOTARD: (\d+),(\d+)\r\n/.exec(text.slice(echo.length))
    if (!m) throw new Error(`no header: ${JSON.stringify(text.slice(echo.length, echo.length + 40))}`)
    const at = echo.length + m[0].length
    const length = +m[2]
    return {
        start: +m[1],
        length,
        data: raw.subarray(at, at + length),
        tail: raw.subarray(at + length).toString("latin1"),
    }
}

/** Echo off, registered, STM32 at 1_0_0 reported, plan requested: the 10700 line is returned. */
export async function toOffer(w: World, version = "1_0_0", info = 1): Promise<string> {
    const t = w.term
    await exchange(t, "ATE0")
    await exchange(t, "AT+QIOTREG=1")
    await exchange(t, `AT+QIOTMCUVER="STM32","${version}"`)
    return exchange(t, `AT+QIOTOTAREQ=${info}`)
}

/** Read [from, to) in blocks of `block`, checking each reply's framing; returns the bytes. */
export async function readRange(t: Terminal, from: number, to: number, block = 1024): Promise<Buffer> {
    const parts: Buffer[] = []
    let off = from
    while (off < to) {
        t.take()
        await t.send(`AT+QIOTOTARD=${off},${block}`)
        await tick(10)
        const r = splitRead(t.take(), "")
        if (r.start !== off || r.tail !== "\r\n\r\nOK\r\n") throw new Error(`bad read at ${off}: ${r.start} ${JSON.stringify(r.tail)}`)
        parts.push(Buffer.from(r.data))
        off += r.length
    }
    return Buffer.concat(parts)
}
