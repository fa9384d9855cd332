// An in-memory byte pipe: two ByteTransport ends joined back to back. Delivery is asynchronous
// (a timer tick, as on a real line) and in order. Optional chunking re-splits every write, so
// tests can feed the receiver at any split point. Portable: used by vitest and by VM suites.

import { ByteTransport, TransportEvents } from "./transport"

/** Returns the size of the next chunk to deliver, given how many bytes are left in the write. */
export type Chunker = (left: number) => number

export class PipeEnd implements ByteTransport {
    peer: PipeEnd = null
    /** How this end receives: every incoming write is re-split by it (null: as written). */
    chunker: Chunker = null
    /** Bytes written by this end. */
    bytesOut = 0
    private events: TransportEvents = null
    private queue: Buffer[] = []
    private scheduled = false
    private up = true
    /** The drain callback, made once (not a closure per delivery). */
    private drainer: () => void = null

    listen(events: TransportEvents) {
        this.events = events
    }

    async write(data: Buffer): Promise<void> {
        this.send(data)
    }

    /** Synchronous write, for responders running inside a receive callback (no await there). */
    send(data: Buffer) {
        if (!this.up) throw new Error("pipe closed")
        this.bytesOut += data.length
        this.peer.enqueue(data)
    }

    /** Bring the link down (both ends see link(false)) or back up. */
    setLink(up: boolean) {
        this.setUp(up)
        this.peer.setUp(up)
    }

    private setUp(up: boolean) {
        if (this.up === up) return
        this.up = up
        if (!up) this.queue = []
        if (this.events) this.events.link(up)
    }

    private enqueue(data: Buffer) {
        // copy: the writer may reuse its buffer, and chunking needs stable bytes
        const copy = Buffer.alloc(data.length)
        for (let i = 0; i < data.length; i++) copy[i] = data[i]
        const chunker = this.chunker
        if (!chunker) this.queue.push(copy)
        else {
            let off = 0
            while (off < copy.length) {
                const n = Math.max(1, Math.min(copy.length - off, chunker(copy.length - off)))
                this.queue.push(copy.slice(off, off + n))
                off += n
            }
        }
        if (!this.scheduled) {
            this.scheduled = true
            if (!this.drainer) this.drainer = this.makeDrainer()
            setTimeout(this.drainer, 0)
        }
    }

    /** In a method of its own: a closure made in enqueue() would keep that call's frame alive. */
    private makeDrainer(): () => void {
        const self = this
        return () => self.drain()
    }

    private drain() {
        this.scheduled = false
        while (this.queue.length > 0) {
            const c = this.queue.shift()
            if (this.events && this.up) this.events.data(c)
        }
    }
}

/** Two connected ends: what `a` writes, `b` receives, and the other way round. */
export function createPipe(): PipeEnd[] {
    const a = new PipeEnd()
    const b = new PipeEnd()
    a.peer = b
    b.peer = a
    return [a, b]
}
