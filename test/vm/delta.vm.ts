// The delta applier in DeviceScript's VM: patches from the committed fixture (tools/delta/vm-cases.ts,
// our builder; test/delta checks the same code against detools in Node) rebuild their targets
// fed as 1 KB blocks, 236-byte packets and single bytes; 24 KB of output from one 396-byte feed
// stays inside the opcode budget; an apply resumes from every 1 KB checkpoint with the window
// by reference and by value; truncated and bad patches are refused with their reasons.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { DeltaError } from "../../src/delta/errors"
import { DeltaApplier, DeltaOptions } from "../../src/delta/sequential-apply"
import { crc32Update } from "../../src/lib/crc32"
import { CASES, DeltaCase } from "./lib/delta-fixture"
import { feedPieces, readPieces } from "./lib/delta-io"

/** Where the output goes: a running CRC-32, its size, and (for resumes) a RAM copy. */
interface Out {
    crc: number
    size: number
    buf: Buffer
}

interface Cp {
    cp: Buffer
    at: number
    patchOffset: number
}

function options(c: DeltaCase, out: Out, every: number, cps: Cp[], readNew: boolean, appl: DeltaApplier[]): DeltaOptions {
    return {
        store: {
            readImage: async (receiving: boolean, off: number, n: number) => {
                if (!receiving) return readPieces(c.old, off, n)
                if (!readNew) throw new Error("read back of the target in a by-value run")
                return out.buf.slice(off, off + n)
            },
            writeImage: async (off: number, data: Buffer, n: number) => {
                if (off !== out.size && !out.buf) throw new Error(`write at ${off}, expected ${out.size}`)
                if (out.buf) for (let i = 0; i < n; i++) out.buf[off + i] = data[i]
                else out.crc = crc32Update(out.crc, data, 0, n)
                out.size = off + n
            },
        },
        oldSize: c.oldSize,
        maxSize: 65536,
        checkpointEvery: every,
        onCheckpoint: async (cp: Buffer, at: number) => {
            cps.push({ cp: cp, at: at, patchOffset: appl[0].patchOffset() })
        },
        byValue: !readNew,
    }
}

async function applyCase(c: DeltaCase, step: number): Promise<Out> {
    const out: Out = { crc: 0, size: 0, buf: null }
    const appl: DeltaApplier[] = []
    const a = new DeltaApplier(options(c, out, 0, [], false, appl))
    appl.push(a)
    await feedPieces(a, c.patch, c.patchSize, 0, step)
    await a.finish()
    return out
}

/** CRC-32 of b[0..n), 1 KB per VM turn (one call over 6 KB overruns the opcode budget). */
async function crcOf(b: Buffer, n: number): Promise<number> {
    let crc = 0
    for (let i = 0; i < n; i += 1024) {
        crc = crc32Update(crc, b, i, i + 1024 < n ? i + 1024 : n)
        await ds.sleep(0)
    }
    return crc
}

/** The reason of a DeltaError, or "ok"; anything else is rethrown. */
function reasonOf(e: any): string {
    if (e instanceof DeltaError) return (e as DeltaError).reason
    throw e
}

describe("delta patches in the VM", () => {
    test("every patch rebuilds its target, fed as 1 KB blocks and 236-byte packets", async () => {
        for (let k = 0; k < CASES.length; k++) {
            const c = CASES[k]
            const t0 = ds.millis()
            const o1 = await applyCase(c, 1024)
            const t1 = ds.millis()
            const o2 = await applyCase(c, 236)
            console.log(`${c.name}: ${c.patchSize} patch bytes → ${c.targetSize} in ${t1 - t0} ms (1 KB feeds), ${ds.millis() - t1} ms (236-byte feeds)`)
            expect(o1.size).toBe(c.targetSize)
            expect(o1.crc).toBe(c.targetCrc)
            expect(o2.crc).toBe(c.targetCrc)
        }
    })

    test("single-byte feeds", async () => {
        const c = CASES[0]
        const o = await applyCase(c, 1)
        expect(o.crc).toBe(c.targetCrc)
    })

    test("resume from every 1 KB checkpoint, the window by reference and by value", async () => {
        const modes = [true, false]
        for (let m = 0; m < 2; m++) {
            for (let k = 0; k < 2; k++) {
                const c = CASES[k]
                const readNew = modes[m]
                const full: Out = { crc: 0, size: 0, buf: Buffer.alloc(c.targetSize) }
                const cps: Cp[] = []
                const appl: DeltaApplier[] = []
                const a = new DeltaApplier(options(c, full, 1024, cps, readNew, appl))
                appl.push(a)
                await feedPieces(a, c.patch, c.patchSize, 0, 1024)
                await a.finish()
                expect(await crcOf(full.buf, full.size)).toBe(c.targetCrc)
                expect(cps.length).toBe(Math.floor((c.targetSize - 1) / 1024))
                let bytes = 0
                for (let i = 0; i < cps.length; i++) {
                    const p = cps[i]
                    bytes += p.cp.length
                    // the cut: everything after the checkpoint is gone
                    const out: Out = { crc: 0, size: p.at, buf: Buffer.alloc(c.targetSize) }
                    out.buf.set(full.buf.slice(0, p.at), 0)
                    for (let j = p.at; j < c.targetSize; j++) out.buf[j] = 0xff
                    await ds.sleep(0) // that loop was most of an opcode slice
                    const appl2: DeltaApplier[] = []
                    const b = new DeltaApplier(options(c, out, 1024, [], readNew, appl2))
                    appl2.push(b)
                    await b.resume(p.cp)
                    expect(b.patchOffset()).toBe(p.patchOffset)
                    await feedPieces(b, c.patch, c.patchSize, b.patchOffset(), 1024)
                    await b.finish()
                    expect(await crcOf(out.buf, out.size)).toBe(c.targetCrc)
                }
                console.log(`${c.name}, window ${readNew ? "by reference" : "by value"}: ${cps.length} checkpoints, ${Math.round(bytes / cps.length)} bytes on average, each resumed`)
            }
        }
    })

    test("refused with a reason: truncated, a bad header, a target above the maximum", async () => {
        const c = CASES[0]
        const out: Out = { crc: 0, size: 0, buf: null }
        const appl: DeltaApplier[] = []
        const a = new DeltaApplier(options(c, out, 0, [], false, appl))
        appl.push(a)
        await feedPieces(a, c.patch, c.patchSize - 1, 0, 1024)
        let why = "ok"
        try {
            await a.finish()
        } catch (e) {
            why = reasonOf(e)
        }
        expect(why).toBe("truncated")
        const b = new DeltaApplier(options(c, out, 0, [], false, appl))
        why = "ok"
        try {
            await b.feed(hex`84`, 0, 1)
        } catch (e) {
            why = reasonOf(e)
        }
        expect(why).toBe("bad-header")
        const o: DeltaOptions = options(c, { crc: 0, size: 0, buf: null }, 0, [], false, appl)
        o.maxSize = c.targetSize - 1
        const d = new DeltaApplier(o)
        why = "ok"
        try {
            await feedPieces(d, c.patch, c.patchSize, 0, 1024)
        } catch (e) {
            why = reasonOf(e)
        }
        expect(why).toBe("too-large")
    })
})
