// The patch builder (Node): detools' sequential patch format, which src/delta/sequential-apply.ts
// applies on the MCU and `detools apply_patch` applies on a desktop.
//   header byte (type 0 sequential << 4 | compression: 0 none, 4 heatshrink), to_size,
//   then, compressed as the header says (heatshrink: its own header byte first):
//   data-format size 0, and per triple: diff size, diff bytes, extra size, extra bytes, adjustment.
// A compressed full image is the same format with one triple (no diff, all of the image as
// extra): it applies over any old image, including none, so the MCU needs one applier for both.

import { encodeSize } from "../../src/delta/size"
import { bsdiffTriples, Triple } from "./bsdiff"
import { checkParams, DETOOLS_DEFAULT, heatshrinkEncode, heatshrinkHeader, HeatshrinkParams } from "./heatshrink-encoder"

export type Compression = "none" | "heatshrink"

export interface PatchOptions {
    compression?: Compression
    /** heatshrink's window and lookahead exponents (detools' defaults: 8 and 7). */
    heatshrink?: HeatshrinkParams
}

export interface BuiltPatch {
    patch: Buffer
    triples: Triple[]
    /** Size of the uncompressed data (the sizes, diff and extra bytes). */
    dataSize: number
    diffBytes: number
    extraBytes: number
}

class Bytes {
    private parts: Buffer[] = []
    private scratch = Buffer.alloc(8)
    size(v: number) {
        const n = encodeSize(v, this.scratch, 0)
        this.parts.push(Buffer.from(this.scratch.subarray(0, n)))
    }
    bytes(b: Buffer) {
        this.parts.push(b)
    }
    done(): Buffer {
        return Buffer.concat(this.parts)
    }
}

/** The uncompressed data of a sequential patch: data-format size 0, then the triples. */
export function sequentialData(old: Uint8Array, nw: Uint8Array, triples: Triple[]): Buffer {
    const d = new Bytes()
    d.size(0)
    for (const t of triples) {
        d.size(t.diff)
        const diff = Buffer.alloc(t.diff)
        for (let i = 0; i < t.diff; i++) diff[i] = (nw[t.to + i] - old[t.from + i]) & 0xff
        d.bytes(diff)
        d.size(t.extra)
        d.bytes(Buffer.from(nw.subarray(t.to + t.diff, t.to + t.diff + t.extra)))
        d.size(t.adjust)
    }
    return d.done()
}

function wrap(toSize: number, data: Buffer, o: PatchOptions): Buffer {
    const compression = o.compression ?? "heatshrink"
    const hs = o.heatshrink ?? DETOOLS_DEFAULT
    const head = new Bytes()
    head.bytes(Buffer.from([compression === "heatshrink" ? 4 : 0]))
    head.size(toSize)
    if (toSize === 0) return head.done()
    if (compression === "none") {
        head.bytes(data)
        return head.done()
    }
    checkParams(hs)
    head.bytes(Buffer.from([heatshrinkHeader(hs)]))
    head.bytes(heatshrinkEncode(data, hs))
    return head.done()
}

/** A sequential patch from `old` to `nw`. */
export function createPatch(old: Uint8Array, nw: Uint8Array, o: PatchOptions = {}): BuiltPatch {
    const triples = nw.length === 0 ? [] : bsdiffTriples(old, nw)
    const data = nw.length === 0 ? Buffer.alloc(0) : sequentialData(old, nw, triples)
    let diffBytes = 0
    let extraBytes = 0
    for (const t of triples) {
        diffBytes += t.diff
        extraBytes += t.extra
    }
    return { patch: wrap(nw.length, data, o), triples, dataSize: data.length, diffBytes, extraBytes }
}

/** A compressed full image: a sequential patch that needs no old image. */
export function compressImage(image: Uint8Array, o: PatchOptions = {}): BuiltPatch {
    const triples: Triple[] = image.length ? [{ to: 0, from: 0, diff: 0, extra: image.length, adjust: 0 }] : []
    const data = image.length ? sequentialData(new Uint8Array(0), image, triples) : Buffer.alloc(0)
    return { patch: wrap(image.length, data, o), triples, dataSize: data.length, diffBytes: 0, extraBytes: image.length }
}
