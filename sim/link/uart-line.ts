// The UART between the MCU and the module: two ByteTransport ends, each direction paced at
// the baud rate (8N1: 10 bits per byte on the wire) and subject to seeded byte faults, so that
// timings in the simulator mean something and a noisy line can be reproduced from its seed.
//
//   const line = new UartLine({ baud: 115200, seed: 42, toMcu: { corrupt: 1e-4 } })
//   new QuecModule(line.module, {...})      // the module's end
//   new AtClient(line.mcu)                  // the MCU's end
//
// Bytes are delivered in bursts of at most `burstBytes`, each when its last byte has crossed
// the wire (a UART FIFO with a receive timeout behaves alike); the time of a burst is exact on
// average (fractions of a millisecond are kept on an absolute wire clock). A timer that fires
// late delivers, with its burst, every byte already queued behind it that has crossed the wire
// by then (up to LATE_BYTES): Node's timers are ≥ 1 ms, and a 64-byte burst at 921 600 baud is
// 0.69 ms, so one burst per timer made the line ≈ 1.5× slower than its baud (the node engine's
// download was 1.7-1.96× its floor at 921 600). baud 0: unpaced, delivered on the next
// timer tick, for fast tests. Only setTimeout and setImmediate are used, so vitest fake timers drive it.
//
// write() resolves when the bytes have crossed the line (or were lost to a link drop), like a
// blocking UART write. setLink(false) is a dead line: bytes in flight are lost, writes vanish.
// Module response latency is the module's own option (QuecModule `latencyMs`), not the line's.

import type { ByteTransport, TransportEvents } from "../../src/link/transport"
import { Rng } from "../lib/rng"

export type Direction = "to-mcu" | "to-module"

/** Per-byte probabilities, drawn from the line's seeded generator. */
export interface ByteFaultRates {
    drop?: number
    corrupt?: number
    duplicate?: number
}

/** A fault on one chosen byte: the `index`-th byte (from 0) sent in that direction. */
export interface ScriptedByteFault {
    dir: Direction
    index: number
    action: "drop" | "corrupt" | "duplicate"
    /** For corrupt: the XOR mask (default: a seeded non-zero value). */
    xor?: number
}

export interface UartLineOptions {
    /** Bits per second; 0: unpaced. Default 0. */
    baud?: number
    /** Largest burst delivered at once. Default 64. */
    burstBytes?: number
    seed?: number
    toMcu?: ByteFaultRates
    toModule?: ByteFaultRates
    script?: ScriptedByteFault[]
}

export interface AppliedByteFault {
    dir: Direction
    index: number
    action: "drop" | "corrupt" | "duplicate"
    before: number
    after: number
}

export interface DirectionStats {
    bytesIn: number
    bytesOut: number
    dropped: number
    corrupted: number
    duplicated: number
}

/** Most bytes one late timer delivers: the AT client feeds larger chunks in 256-byte turns. */
const LATE_BYTES = 256

/** Milliseconds to send n bytes at `baud` with 8N1 framing. */
export function wireTimeMs(n: number, baud: number): number {
    return baud > 0 ? (n * 10 * 1000) / baud : 0
}

class Wire {
    readonly stats: DirectionStats = { bytesIn: 0, bytesOut: 0, dropped: 0, corrupted: 0, duplicated: 0 }
    private queue: number[] = []
    private head = 0
    private busy = false
    /** Date.now() at which the last byte handed to the wire has crossed it (fractional ms). */
    private wireAt = 0
    private sent = 0 // input bytes taken off the queue (delivered or lost)
    private waiters: { end: number; resolve: () => void }[] = []
    private generation = 0
    /** Bytes queued behind the burst in flight when it was scheduled (they follow it back to back). */
    private behind = 0
    /** The bytes now at the head were queued before the last burst was delivered. */
    private backToBack = false

    constructor(
        private line: UartLine,
        readonly dir: Direction,
        private rates: ByteFaultRates,
        private rng: Rng,
        /** The receiving end's listener, looked up at delivery time. */
        private receiver: () => TransportEvents,
    ) {}

    write(data: Buffer): Promise<void> {
        if (!this.line.up) return Promise.resolve() // a dead line: the bytes are lost
        for (let i = 0; i < data.length; i++) this.queue.push(data[i])
        this.stats.bytesIn += data.length
        const end = this.sent + (this.queue.length - this.head)
        const p = new Promise<void>(resolve => this.waiters.push({ end, resolve }))
        this.pump()
        return p
    }

    /** The line went down: what is in flight is lost. */
    flush() {
        this.generation++
        this.sent += this.queue.length - this.head
        this.queue = []
        this.head = 0
        this.busy = false
        this.wireAt = 0
        this.backToBack = false
        this.settle()
    }

    private pump() {
        if (this.busy || this.head >= this.queue.length) return
        this.busy = true
        const baud = this.line.baud
        const n = baud > 0 ? Math.min(this.line.burstBytes, this.queue.length - this.head) : this.queue.length - this.head
        // an absolute wire clock: a timer that fires late must not delay the bytes after it
        // (real timers are ~1 ms coarse; relative scheduling drifted ~1 ms per burst)
        const now = Date.now()
        // bytes that were waiting behind the last burst follow it back to back, even when the
        // timers fell behind (no time is lost); after an idle line the wire starts now
        const end = (this.backToBack ? this.wireAt : Math.max(now, this.wireAt)) + wireTimeMs(n, baud)
        this.wireAt = end
        this.behind = this.queue.length - this.head - n
        const delay = baud > 0 ? Math.max(0, Math.floor(end - now)) : 0
        const gen = this.generation
        const fire = () => {
            if (gen !== this.generation) return
            this.deliver(n)
        }
        // a burst already due (under 1 ms of wire, or behind a late timer) goes at once: Node
        // would make setTimeout(0) a 1 ms wait, which per command is most of a fast line's time
        if (baud > 0 && delay === 0) setImmediate(fire)
        else setTimeout(fire, delay)
    }

    private deliver(n: number) {
        const baud = this.line.baud
        const late = Date.now() - this.wireAt
        let more = 0
        if (baud > 0 && late > 0) {
            // the bytes behind this burst that crossed the wire while the timer was late
            more = Math.max(0, Math.min(Math.floor((late * baud) / 10000), this.behind, LATE_BYTES - n))
            n += more
            this.wireAt += wireTimeMs(more, baud)
        }
        this.backToBack = baud > 0 && this.behind - more > 0
        const out: number[] = []
        for (let k = 0; k < n; k++) this.applyFaults(this.queue[this.head + k], this.sent + k, out)
        this.head += n
        this.sent += n
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
            this.queue = this.queue.slice(this.head)
            this.head = 0
        }
        this.busy = false
        const target = this.receiver()
        if (out.length > 0 && target && this.line.up) {
            this.stats.bytesOut += out.length
            target.data(Buffer.from(out))
        }
        this.settle()
        this.pump()
    }

    private applyFaults(b: number, index: number, out: number[]) {
        let action: "drop" | "corrupt" | "duplicate" | "" = ""
        let xor = 0
        for (const s of this.line.script) {
            if (s.dir === this.dir && s.index === index) {
                action = s.action
                xor = s.xor || 0
            }
        }
        if (action === "") {
            if (this.rng.chance(this.rates.drop || 0)) action = "drop"
            else if (this.rng.chance(this.rates.corrupt || 0)) action = "corrupt"
            else if (this.rng.chance(this.rates.duplicate || 0)) action = "duplicate"
        }
        if (action === "drop") {
            this.stats.dropped++
            this.line.applied.push({ dir: this.dir, index, action, before: b, after: -1 })
            return
        }
        if (action === "corrupt") {
            if (xor === 0) xor = 1 + this.rng.int(255)
            const c = (b ^ xor) & 0xff
            this.stats.corrupted++
            this.line.applied.push({ dir: this.dir, index, action, before: b, after: c })
            out.push(c)
            return
        }
        out.push(b)
        if (action === "duplicate") {
            this.stats.duplicated++
            this.line.applied.push({ dir: this.dir, index, action, before: b, after: b })
            out.push(b)
        }
    }

    private settle() {
        while (this.waiters.length > 0 && this.waiters[0].end <= this.sent) this.waiters.shift().resolve()
    }
}

/** One end of the line: what the MCU (or the module) holds. */
export class UartEnd implements ByteTransport {
    events: TransportEvents = null

    constructor(
        private line: UartLine,
        private out: Wire,
    ) {}


    listen(events: TransportEvents) {
        this.events = events
    }

    write(data: Buffer): Promise<void> {
        return this.out.write(data)
    }

    /** Bring the whole line down or up (a module reset, a cable pulled); both ends see it. */
    setLink(up: boolean) {
        this.line.setLink(up)
    }
}

export class UartLine {
    readonly baud: number
    readonly burstBytes: number
    readonly script: ScriptedByteFault[]
    /** Every byte fault applied, in order. */
    readonly applied: AppliedByteFault[] = []
    readonly mcu: UartEnd
    readonly module: UartEnd
    up = true
    private toMcu: Wire
    private toModule: Wire

    constructor(o: UartLineOptions = {}) {
        this.baud = o.baud || 0
        this.burstBytes = Math.max(1, o.burstBytes || 64)
        this.script = (o.script || []).slice()
        const rng = new Rng(o.seed === undefined ? 1 : o.seed)
        this.toMcu = new Wire(this, "to-mcu", o.toMcu || {}, rng.fork(), () => this.mcu.events)
        this.toModule = new Wire(this, "to-module", o.toModule || {}, rng.fork(), () => this.module.events)
        this.mcu = new UartEnd(this, this.toModule)
        this.module = new UartEnd(this, this.toMcu)
    }

    stats(dir: Direction): DirectionStats {
        return { ...(dir === "to-mcu" ? this.toMcu.stats : this.toModule.stats) }
    }

    /** Add a scripted byte fault while running. */
    addFault(f: ScriptedByteFault) {
        this.script.push(f)
    }

    setLink(up: boolean) {
        if (this.up === up) return
        this.up = up
        if (!up) {
            this.toMcu.flush()
            this.toModule.flush()
        }
        if (this.mcu.events) this.mcu.events.link(up)
        if (this.module.events) this.module.events.link(up)
    }
}
