// The bridge on the bench: a UART line, the SC16IS7xx model on its MCU end, a raw terminal (or
// the module emulator) on the other, and the driver's transport started against the model.
import { vi } from "vitest"
import { Sc16is7xxStartOptions, Sc16is7xxTransport, startSc16is7xx, stopSc16is7xx } from "../../src/drivers/sc16is7xx-transport"
import { Sc16is7xxModel, Sc16is7xxModelOptions } from "../../sim/bridge/sc16is7xx-model"
import { UartLine } from "../../sim/link/uart-line"
import { Rng } from "../../sim/lib/rng"

export async function tick(ms = 0): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms)
}

/** Let virtual time pass until `p` settles (or `limitMs` is reached). */
export async function settle<T>(p: Promise<T>, limitMs = 60_000, step = 5): Promise<T> {
    let done = false
    p.then(
        () => (done = true),
        () => (done = true)
    )
    for (let t = 0; t < limitMs && !done; t += step) await vi.advanceTimersByTimeAsync(step)
    if (!done) throw new Error(`not settled after ${limitMs} ms of virtual time`)
    return p
}

export function seeded(n: number, seed: number): Buffer {
    const b = Buffer.alloc(n)
    const rng = new Rng(seed)
    for (let i = 0; i < n; i++) b[i] = rng.int(256)
    return b
}

export interface BenchOptions {
    lineBaud?: number
    burstBytes?: number
    model?: Partial<Sc16is7xxModelOptions>
}

/** What the MCU side got from the transport. */
export class Sink {
    chunks: Buffer[] = []
    links: boolean[] = []
    constructor(t: Sc16is7xxTransport) {
        t.listen({
            data: c => this.chunks.push(Buffer.from(c)),
            link: up => this.links.push(up),
        })
    }
    bytes(): Buffer {
        return Buffer.concat(this.chunks)
    }
}

export class Bench {
    readonly line: UartLine
    readonly chip: Sc16is7xxModel
    transport: Sc16is7xxTransport = null

    constructor(o: BenchOptions = {}) {
        const baud = o.lineBaud ?? 115200
        this.line = new UartLine({ baud, burstBytes: o.burstBytes ?? 16 })
        this.chip = new Sc16is7xxModel({ uart: this.line.mcu, lineBaud: baud, ...(o.model || {}) })
    }

    /** startSc16is7xx against the model, with virtual time running. */
    async start(o: Partial<Sc16is7xxStartOptions> = {}): Promise<Sc16is7xxTransport> {
        this.transport = await settle(startSc16is7xx({ bus: this.chip, ...o }))
        return this.transport
    }

    async stop() {
        if (this.transport) await settle(stopSc16is7xx(this.transport))
        this.chip.dispose()
    }
}
