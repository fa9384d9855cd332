// VM bench for the SOTA engine's per-block work, in DeviceScript's own VM (`devs run --test`, so
// GC stress is on: pessimistic figures). For each digest alone, all of them together, and the
// whole per-block pipeline (AT receiver framing a real reply fed as 232-byte Jacdac packets, the
// copy into the block buffer, MD5 + SHA-256 + CRC-32, the store port's block path (aligned
// writer, program, journal checkpoints) on the portable RAM flash): ms per KB, and the ratio to the
// UART's line time for one 1 KB block at 115 200 baud (the reply is ≈1 060 bytes: ≈92 ms).
import * as ds from "@devicescript/core"
import { AtReceiver, ReceiverListener } from "../../src/at/receiver"
import { quectelLineTable } from "../../src/at/line-table"
import { DigestSet } from "../../src/verify/digest-set"
import { Md5 } from "../../src/verify/md5"
import { Sha256 } from "../../src/verify/sha256"
import { crc32Update } from "../../src/lib/crc32"
import { RamFlash } from "../../src/flash/ram-flash"
import { ImageStore } from "../../src/flash/image-store"
import { StoreLayout } from "../../src/flash/store-config"
import { pattern } from "../../test/vm/lib/pattern"

/** KB through the pipeline: the RAM flash's slot holds 8 KB. */
const KB = 8
/** KB per digest timing: 32 at the ms clock keeps one figure within about ±0.05 ms/KB. */
const DIGEST_KB = 32
const LINE_MS = ((1024 + 36) * 10 * 1000) / 115200

/** No Number.toFixed in DeviceScript. */
function fixed(x: number, digits: number): string {
    const f = Math.pow(10, digits)
    return `${Math.round(x * f) / f}`
}

function report(label: string, ms: number, kb: number) {
    const perKb = ms / kb
    console.log(`BENCH ${label}: ${fixed(perKb, 2)} ms/KB = ${fixed(perKb / LINE_MS, 3)} x the 1 KB line time (${fixed(LINE_MS, 1)} ms)`)
}


/** Hash 1 KB with `step` per 64-byte slice, yielding between slices as DigestSet does. */
async function timeSlices(block: Buffer, step: (b: Buffer, s: number, e: number) => void): Promise<number> {
    const t0 = ds.millis()
    for (let k = 0; k < DIGEST_KB; k++) {
        for (let off = 0; off < 1024; off += 64) {
            step(block, off, off + 64)
            await ds.sleep(0)
        }
    }
    return ds.millis() - t0
}

const SECTOR = 4096
const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 4 * SECTOR], slotSize: 2 * SECTOR }

const block = await pattern(1024)
const empty = await timeSlices(block, (b, s, e) => {})
report("yield loop alone (subtracted below)", empty, DIGEST_KB)
const md5 = new Md5()
report("MD5", (await timeSlices(block, (b, s, e) => md5.update(b, s, e))) - empty, DIGEST_KB)
const sha = new Sha256()
report("SHA-256", (await timeSlices(block, (b, s, e) => sha.update(b, s, e))) - empty, DIGEST_KB)
let crc = 0
report("CRC-32", (await timeSlices(block, (b, s, e) => (crc = crc32Update(crc, b, s, e)))) - empty, DIGEST_KB)
const all = new DigestSet({ sha256: true, crc32: true })
let t0 = ds.millis()
for (let k = 0; k < DIGEST_KB; k++) await all.update(block, 0, 1024)
report("all digests (DigestSet: MD5 + SHA-256 + CRC-32)", ds.millis() - t0, DIGEST_KB)

// the whole per-block pipeline
const flash = new RamFlash({ sectorSize: SECTOR, programUnit: 8, size: 6 * SECTOR })
const store = new ImageStore(flash, LAYOUT)
await store.mount()
await store.startReceive({ version: "1_0_0", size: 1024 })
await store.write(0, Buffer.alloc(1024))
await store.markReady()
await store.activate(true)
await store.boot()
await store.startReceive({ version: "2_0_0", size: KB * 1024 })
const digests = new DigestSet({ sha256: true, crc32: true })
store.openBlocks(0, digests) // the port's block path: aligned writes, digests, sector checkpoints
const target = Buffer.alloc(1024)
let got = 0
const sink: ReceiverListener = {
    line: (k, c, t) => {},
    payloadStart: (h, n, u) => {
        got = 0
    },
    payloadData: (b, s, e) => {
        for (let i = s; i < e; i++) target[got++] = b[i]
    },
    payloadEnd: ok => {},
    fault: (k, d) => {},
}
const rx = new AtReceiver(quectelLineTable(), sink)
t0 = ds.millis()
for (let k = 0; k < KB; k++) {
    const reply = Buffer.concat(Buffer.from(`\r\n+QIOTOTARD: ${k * 1024},1024\r\n`), block, Buffer.from("\r\n\r\nOK\r\n"))
    for (let off = 0; off < reply.length; off += 232) {
        rx.feed(reply, off, Math.min(reply.length, off + 232))
        await ds.sleep(0)
    }
    await store.putBlock(k * 1024, target, 1024)
}
report("whole per-block pipeline (framing + copy + digests + store write + journal)", ds.millis() - t0, KB)
console.log(`BENCH done: ${store.nextOffset()} bytes written`)
ds.restart()
