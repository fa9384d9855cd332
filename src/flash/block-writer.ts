// Behind the store port, between the blocks an agent hands over (any size: 1 024, or 974 on some
// NB modules, and a short last one; pieces that end anywhere) and the slot (writes in whole
// program units): carries the unaligned tail to the next block, feeds the hasher exactly the
// bytes it writes, and saves the journal with the hasher's midstate exactly at every multiple of
// the checkpoint interval (whole sectors). Checkpoints sit on sector starts: a resume writes from
// there, the store erases that sector first, and whatever a cut left after the checkpoint is
// wiped instead of refused.

import { BlockHasher, StoreError } from "./store-port"

/** What the writer needs of its store: the slot write and the journal. */
export interface SlotSink {
    write(offset: number, data: Buffer): Promise<void>
    saveJournal(written: number, verified: number, midstate?: Buffer): Promise<void>
}

export class BlockWriter {
    /** Bytes written to the slot (and hashed): always a multiple of the unit, or the total. */
    written: number
    private sink: SlotSink
    private hasher: BlockHasher
    private unit: number
    private total: number
    private carry: Buffer
    private carryLen = 0
    private every: number
    private saved = false

    /** `every`: the checkpoint interval, a multiple of the sector size; `from` must be a multiple of it. */
    constructor(sink: SlotSink, hasher: BlockHasher, unit: number, total: number, from: number, every: number) {
        this.sink = sink
        this.hasher = hasher
        this.every = every
        this.unit = unit
        this.total = total
        this.written = from
        this.carry = Buffer.alloc(unit)
    }

    /** The offset the next block must start at. */
    next(): number {
        return this.written + this.carryLen
    }

    /** Take block[0..len) at `offset` (= next()). True when a checkpoint was saved. */
    async put(offset: number, block: Buffer, len: number): Promise<boolean> {
        if (offset !== this.next()) throw new StoreError("bad-argument", `block at ${offset}, expected ${this.next()}`)
        this.saved = false
        const end = offset + len
        const aligned = end === this.total ? end : end - (end % this.unit)
        if (this.carryLen === 0 && aligned === end) {
            await this.emit(len === block.length ? block : block.slice(0, len))
            return this.saved
        }
        // rare path: glue the carried tail and this block, write the aligned part, keep the rest
        const take = aligned - this.written
        let used = 0 // bytes of this block written now; the rest is carried (one loop for both cases)
        if (take > 0) {
            const out = Buffer.alloc(take)
            for (let i = 0; i < this.carryLen; i++) out[i] = this.carry[i]
            for (let i = this.carryLen; i < take; i++) out[i] = block[i - this.carryLen]
            used = take - this.carryLen
            this.carryLen = 0
            await this.emit(out)
        }
        for (let i = used; i < len; i++) this.carry[this.carryLen++] = block[i]
        return this.saved
    }

    private async emit(data: Buffer) {
        let pos = 0
        while (pos < data.length) {
            const boundary = (Math.floor(this.written / this.every) + 1) * this.every
            const n = Math.min(data.length - pos, boundary - this.written)
            await this.hasher.update(data, pos, pos + n)
            await this.sink.write(this.written, pos === 0 && n === data.length ? data : data.slice(pos, pos + n))
            this.written += n
            pos += n
            if (this.written === boundary && this.written < this.total) {
                await this.sink.saveJournal(this.written, this.written, this.hasher.save())
                this.saved = true
            }
        }
    }
}
