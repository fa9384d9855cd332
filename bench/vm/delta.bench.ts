// The delta applier's speed in DeviceScript's VM (run by bench/delta.ts, which writes the
// fixture ./delta-fixture.gen.ts from real firmware pairs first). Each case is applied once with
// a CRC-32 sink (the target must check), then timed three times with a sink that takes the bytes
// and does nothing (the store's own cost is measured elsewhere), fed in 1 KB blocks as the module
// delivers them, with a checkpoint every 4 KB (window by value: no read-back). Prints one
// `BENCH {json}` line per case.
import * as ds from "@devicescript/core"
import { DeltaApplier } from "../../src/delta/sequential-apply"
import { crc32Update } from "../../src/lib/crc32"
import { feedPieces, readPieces } from "../../test/vm/lib/delta-io"
import { CASES, DeltaCase } from "./delta-fixture.gen"

interface Sink {
    crc: number
    size: number
    check: boolean
    checkpoints: number
    cpBytes: number
}

async function run(c: DeltaCase, s: Sink): Promise<number> {
    const a = new DeltaApplier({
        store: {
            readImage: async (receiving: boolean, off: number, n: number) => readPieces(c.old, off, n),
            writeImage: async (off: number, data: Buffer, n: number) => {
                if (s.check) s.crc = crc32Update(s.crc, data, 0, n)
                s.size = off + n
            },
        },
        byValue: true,
        oldSize: c.oldSize,
        maxSize: 1 << 20,
        checkpointEvery: 4096,
        onCheckpoint: async (cp: Buffer, at: number) => {
            s.checkpoints++
            s.cpBytes += cp.length
        },
    })
    await ds.sleep(0)
    const t0 = ds.millis()
    await feedPieces(a, c.patch, c.patchSize, 0, 1024)
    await a.finish()
    return ds.millis() - t0
}

for (let k = 0; k < CASES.length; k++) {
    const c = CASES[k]
    const s: Sink = { crc: 0, size: 0, check: true, checkpoints: 0, cpBytes: 0 }
    await run(c, s)
    if (s.size !== c.targetSize || s.crc !== c.targetCrc) throw new Error(`${c.name}: wrong target (${s.size} bytes, CRC ${s.crc})`)
    const times: number[] = []
    for (let r = 0; r < 3; r++) {
        const q: Sink = { crc: 0, size: 0, check: false, checkpoints: 0, cpBytes: 0 }
        times.push(await run(c, q))
    }
    console.log(
        "BENCH " +
            JSON.stringify({
                name: c.name,
                patchBytes: c.patchSize,
                targetBytes: c.targetSize,
                ms: times,
                checkpoints: s.checkpoints,
                checkpointBytes: s.checkpoints ? Math.round(s.cpBytes / s.checkpoints) : 0,
                info: c.info,
            })
    )
}
ds.restart()
