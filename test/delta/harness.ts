// Running the portable applier in Node over Buffers: the old image, a target buffer as the sink
// (each byte written once, in order, unless a resume rewinds), chunked feeding, checkpoints.

import { DeltaApplier, DeltaOptions } from "../../src/delta/sequential-apply"

export const fast = async () => {}

export interface Run {
    out: Buffer
    /** Checkpoints in order, with the output offset and the patch offset they resume from. */
    checkpoints: { cp: Buffer; at: number; patchOffset: number }[]
    size: number
    applier: DeltaApplier
}

export interface RunOptions {
    maxSize?: number
    /** Feed sizes: a number, or a function giving the next size. */
    chunk?: number | ((i: number) => number)
    every?: number
    /** Checkpoints carry the window by reference (the applier reads the target back); else byValue. */
    readNew?: boolean
    bufferSize?: number
    maxWindowSz2?: number
    /** Stop before feeding byte `stopAt` (no finish): a power cut. */
    stopAt?: number
    /** Called after each checkpoint is recorded. */
    onCp?: (c: { cp: Buffer; at: number; patchOffset: number }) => void
    extra?: Partial<DeltaOptions>
}

/** The options of an applier writing into `out` (grown as needed, up to maxSize). */
export function sinkOptions(old: Buffer, r: Run, o: RunOptions): DeltaOptions {
    return {
        store: {
            readImage: async (receiving, off, n) => {
                if (receiving) {
                    if (!o.readNew) throw new Error("read back of the target in a by-value run")
                    return r.out.subarray(off, off + n)
                }
                if (off < 0 || off + n > old.length) throw new Error(`readOld outside the old image: ${off}+${n} of ${old.length}`)
                return old.subarray(off, off + n)
            },
            writeImage: async (off, data, n) => {
                if (off + n > r.out.length) {
                    const b = Buffer.alloc(Math.max(off + n, r.out.length * 2))
                    r.out.copy(b)
                    r.out = b
                }
                data.copy(r.out, off, 0, n)
                r.size = Math.max(r.size, off + n)
            },
        },
        oldSize: old.length,
        maxSize: o.maxSize ?? 1 << 24,
        checkpointEvery: o.every,
        onCheckpoint: o.every
            ? async (cp, at) => {
                  const c = { cp: Buffer.from(cp), at, patchOffset: r.applier.patchOffset() }
                  r.checkpoints.push(c)
                  o.onCp?.(c)
              }
            : undefined,
        byValue: !o.readNew,
        bufferSize: o.bufferSize,
        maxWindowSz2: o.maxWindowSz2,
        yielder: fast,
        ...o.extra,
    }
}

export function newRun(): Run {
    return { out: Buffer.alloc(1024), checkpoints: [], size: 0, applier: null as unknown as DeltaApplier }
}

async function feedAll(a: DeltaApplier, patch: Buffer, from: number, o: RunOptions): Promise<boolean> {
    let i = from
    let k = 0
    const stop = o.stopAt ?? Infinity
    while (i < patch.length) {
        const c = o.chunk === undefined ? patch.length : typeof o.chunk === "number" ? o.chunk : o.chunk(k++)
        const e = Math.min(patch.length, i + Math.max(1, c), stop)
        if (e <= i) return false
        await a.feed(patch, i, e)
        i = e
    }
    return i >= stop ? false : true
}

/** Apply `patch` to `old`; returns the target bytes (throws what the applier throws). */
export async function apply(old: Buffer, patch: Buffer, o: RunOptions = {}): Promise<Run> {
    const r = newRun()
    r.applier = new DeltaApplier(sinkOptions(old, r, o))
    if (await feedAll(r.applier, patch, 0, o)) await r.applier.finish()
    r.out = r.out.subarray(0, r.size)
    return r
}

/** Resume from checkpoint `cp` into `r` (whose output holds what was written before the cut), then finish. */
export async function resume(old: Buffer, patch: Buffer, r: Run, cp: Buffer, o: RunOptions = {}): Promise<Run> {
    const r2: Run = { out: Buffer.from(r.out), checkpoints: [], size: 0, applier: null as unknown as DeltaApplier }
    r2.applier = new DeltaApplier(sinkOptions(old, r2, o))
    await r2.applier.resume(cp)
    r2.size = cp.readUInt32LE(16) // the checkpoint's output offset (its fixed part: 8 bytes, then toSize, patch offset, t)
    if (await feedAll(r2.applier, patch, r2.applier.patchOffset(), o)) await r2.applier.finish()
    r2.out = r2.out.subarray(0, r2.size)
    return r2
}
