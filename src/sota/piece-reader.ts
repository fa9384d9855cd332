// Reading one piece of the package (the part the module holds after a 10703) in blocks with
// AT+QIOTOTARD and handing them to a BlockTarget: the store port's blocks for an image, a rebuild
// (rebuilder.ts) for a delta or a compressed image. Pipelined: while block k is
// hashed and written in a background fiber, the read of block k+1 is already on the wire (in the
// VM a 1 KB flash write over the simulator's channel costs about as much as the 1 KB read at
// 115 200 baud). The target never sees a block that was not whole: the sink checks the reply's
// length first.

import { CommandOptions } from "../at/client-types"
import { AtError } from "../at/errors"
import { Signal } from "../lib/signal"
import { startFiber } from "../lib/fiber"
import { errText } from "../lib/err-text"
import { blockReadOptions, readBlock } from "../qiot/commands"
import { isPlanFailed, OtaPiece } from "../qiot/events"
import { sessionLost } from "../qiot/session"
import { BlockSink } from "./block-sink"
import { orDefault } from "./config"
import { SotaDeps } from "./deps"
import { reasonOf, SotaError, storeFailure } from "./reasons"

/** Where a piece's blocks go, in order (the store port is one): the package offset the next one must start at, and the block. */
export interface BlockTarget {
    nextOffset(): number
    /** True when the block completed a checkpoint (the journal was saved). */
    putBlock(offset: number, block: Buffer, len: number): Promise<boolean>
}

/** A block being hashed and written in the background. */
interface WriteJob {
    done: boolean
    error: any
}

export class PieceReader {
    // the fields are internal (read by the module functions below, which cost less bytecode than methods)
    /** Bytes per AT+QIOTOTARD (set once the module's limit is known). */
    blockSize: number
    d: SotaDeps
    /** Two block buffers: one is read into while the other is hashed and written. */
    blocks: Buffer[]
    cur = 0
    reply: BlockSink
    /** Every AT+QIOTOTARD=<start>,<length> (made once, not per read); also the download's one-byte probe (download.ts stalled()). */
    readonly opts: CommandOptions
    writeDone = new Signal()
    target = ""
    total = 0
    /** Set by read() before any block is stored. */
    sink: BlockTarget

    constructor(d: SotaDeps) {
        this.d = d
        const size = d.cfg.blockSize || 1024
        this.blocks = d.cfg.pipeline === false ? [Buffer.alloc(size)] : [Buffer.alloc(size), Buffer.alloc(size)]
        this.reply = new BlockSink(this.blocks[0])
        this.opts = blockReadOptions(this.reply, orDefault(d.cfg.readTimeoutMs, 3000))
        this.blockSize = size
    }

    /** The block size for a module that allows `max` per read (-1: unknown), in whole program units. */
    fit(max: number, target: string, total: number) {
        const cap = this.blocks[0].length
        this.blockSize = this.d.store.blockSize(Math.min(cap, max > 0 ? max : cap))
        this.target = target
        this.total = total
    }

    /**
     * Read the part of `piece` not yet held. True when the piece is complete; false when the
     * module restarted or the line dropped (every write has finished: the caller recovers and
     * the module re-sends what it holds).
     */
    async read(piece: OtaPiece, sink: BlockTarget): Promise<boolean> {
        const end = piece.start + piece.length
        const d = this.d
        this.sink = sink
        if (sink.nextOffset() < piece.start) throw new SotaError("bad-plan", `piece at ${piece.start}, need ${sink.nextOffset()}`)
        const retries = orDefault(d.cfg.blockRetries, 3)
        let readAt = sink.nextOffset()
        let job: WriteJob = null
        try {
            while (readAt < end) {
                const off = readAt
                let n = Math.min(this.blockSize, end - off)
                let attempt = 0
                while (true) {
                    let failure: any = null
                    try {
                        this.reply.block = this.blocks[this.cur]
                        const r = await readBlock(d.at, off, n, this.opts)
                        d.stats.bytesRead += this.reply.got
                        // fewer bytes than asked is legal (the reply says how many): go on from there
                        if (r.start === off && r.length > 0 && r.length <= n && this.reply.ok && this.reply.got === r.length) {
                            n = r.length
                            break
                        }
                        failure = new SotaError("module-error", `block at ${off}: reply ${r.start},${r.length}`)
                    } catch (err) {
                        if (!(err instanceof AtError)) throw err
                        if (err.reason === "module-reboot" || err.reason === "link-lost") {
                            await finishWrite(this, job)
                            job = null
                            return false
                        }
                        failure = err
                    }
                    // reads fail once the platform has ended the plan: its 10706 is the real reason
                    if (d.inbox.has(isPlanFailed))
                        throw new SotaError("platform-failed", "the platform failed the plan (10706) during the download")
                    // on a plain UART a module that restarts mid-reply can have its RDY swallowed by the
                    // stalled payload: a module that is no longer registered has restarted
                    if (attempt === 0 && (await sessionLost(d.at))) {
                        await finishWrite(this, job)
                        job = null
                        return false
                    }
                    if (attempt >= retries) throw new SotaError(reasonOf(failure), errText(failure))
                    attempt++
                    d.stats.blockRetries++
                }
                d.stats.blocks++
                readAt = off + n
                // the previous block must be stored before this one (the store takes them in order)
                await finishWrite(this, job)
                if (d.cfg.pipeline === false) {
                    await storeBlock(this, off, this.blocks[0], n)
                    continue
                }
                job = startWrite(this, off, this.blocks[this.cur], n)
                this.cur = 1 - this.cur
            }
            // the last block's write too: its failure is this piece's, never swallowed
            await finishWrite(this, job)
            job = null
        } finally {
            // never leave a write running behind an error: wait for it (its own failure, if any,
            // is secondary to the one already propagating)
            if (job) while (!job.done) await this.writeDone.wait(1000)
        }
        return true
    }
}

/** Hash and write a block in a background fiber. */
function startWrite(r: PieceReader, off: number, block: Buffer, n: number): WriteJob {
    const job: WriteJob = { done: false, error: null }
    startFiber(async () => {
        try {
            await storeBlock(r, off, block, n)
        } catch (err) {
            job.error = err
        }
        job.done = true
        r.writeDone.notify()
    })
    return job
}

/** Wait for a background write; rethrow its failure. */
async function finishWrite(r: PieceReader, job: WriteJob) {
    if (!job) return
    while (!job.done) await r.writeDone.wait(1000)
    if (job.error) {
        const e = job.error
        job.error = null
        throw e
    }
}

/** A block to the target (which hashes it and checkpoints on sector boundaries); its failures become reasons. */
async function storeBlock(r: PieceReader, off: number, block: Buffer, n: number) {
    const d = r.d
    const sink = r.sink
    try {
        if (await sink.putBlock(off, block, n)) d.stats.checkpoints++
    } catch (err) {
        throw storeFailure(err)
    }
    d.progress("downloading", r.target, sink.nextOffset(), r.total)
}
