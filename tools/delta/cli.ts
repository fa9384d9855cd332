// `npm run delta -- diff | compress | apply | info | vm-fixture` (tools/delta/main.ts runs it): delta packages in Node.
//   diff OLD NEW -o PATCH [--compression heatshrink|none] [--window W] [--lookahead L]
//        a detools sequential patch (bsdiff + heatshrink by default, detools' 8/7 window)
//   compress IMAGE -o PACKAGE [same options]
//        a compressed full image: the same format with no diff, applies over any old image
//   apply OLD PATCH -o NEW [--max-size N]
//        the portable applier of src/delta (what the MCU runs), reading and writing files
//   info PATCH      header, target size, compression, and the chunks of the patch
//   vm-fixture      rewrite test/vm/lib/delta-fixture.ts (the VM suite's patches)
// Exit codes: 0 ok; 1 the applier refused the patch (its reason on stdout); 2 bad command line or file.
// `deltaMain(argv)` is also what `npm run image -- diff …` can hand over to.

import { readFileSync, writeFileSync } from "node:fs"
import { DeltaError } from "../../src/delta/errors"
import { DeltaApplier } from "../../src/delta/sequential-apply"
import { decodeSize, SizeRead } from "../../src/delta/size"
import { compressImage, createPatch, PatchOptions } from "./patch"
import { heatshrinkDecodeAll } from "./inspect"
import { vmFixtureSource } from "./vm-cases"

export const USAGE = `usage: npm run delta -- <command>
  diff OLD NEW -o PATCH [--compression heatshrink|none] [--window W] [--lookahead L]
  compress IMAGE -o PACKAGE [--compression heatshrink|none] [--window W] [--lookahead L]
  apply OLD PATCH -o NEW [--max-size N]
  info PATCH
  vm-fixture`

export class UsageError extends Error {}

function parse(argv: string[]): { pos: string[]; opt: Map<string, string> } {
    const pos: string[] = []
    const opt = new Map<string, string>()
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        if (a === "-o" || a.startsWith("--")) {
            if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`)
            opt.set(a, argv[++i])
        } else pos.push(a)
    }
    return { pos, opt }
}

function int(opt: Map<string, string>, name: string): number | undefined {
    const v = opt.get(name)
    if (v === undefined) return undefined
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} takes a number, not ${v}`)
    return Number(v)
}

function read(path: string): Buffer {
    try {
        return readFileSync(path)
    } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as Error).message}`)
    }
}

function patchOptions(opt: Map<string, string>): PatchOptions {
    const c = opt.get("--compression") ?? "heatshrink"
    if (c !== "heatshrink" && c !== "none") throw new UsageError(`--compression heatshrink or none, not ${c}`)
    const w = int(opt, "--window") ?? 8
    const l = int(opt, "--lookahead") ?? Math.min(7, w - 1)
    return { compression: c, heatshrink: { windowSz2: w, lookaheadSz2: l } }
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(2)} %` : "-")

async function applyFiles(oldPath: string, patchPath: string, out: string, maxSize: number): Promise<number> {
    const old = read(oldPath)
    const patch = read(patchPath)
    let target = Buffer.alloc(0)
    const a = new DeltaApplier({
        store: {
            readImage: async (receiving, o, n) => (receiving ? target : old).subarray(o, o + n),
            writeImage: async (o, d, n) => {
                if (o + n > target.length) {
                    const t = Buffer.alloc(Math.max(o + n, 2 * target.length))
                    target.copy(t)
                    target = t
                }
                d.copy(target, o, 0, n)
            },
        },
        byValue: true,
        oldSize: old.length,
        maxSize,
        yielder: async () => {},
        bufferSize: 4096,
    })
    try {
        for (let i = 0; i < patch.length; i += 4096) await a.feed(patch, i, Math.min(patch.length, i + 4096))
        const size = await a.finish()
        writeFileSync(out, target.subarray(0, size))
        console.log(`applied ${patchPath} (${patch.length} bytes) to ${oldPath} (${old.length} bytes): ${out}, ${size} bytes`)
        return 0
    } catch (e) {
        if (!(e instanceof DeltaError)) throw e
        console.log(`refused: ${patchPath}: ${e.reason}: ${e.message.replace(/^delta: [a-z-]+: /, "")}`)
        return 1
    }
}

function info(path: string): number {
    const p = read(path)
    const r: SizeRead = { value: 0, end: 1 }
    if (p.length < 2 || !decodeSize(p, 1, p.length, r)) {
        console.log(`invalid: ${path}: no sequential header`)
        return 1
    }
    const type = (p[0] >> 4) & 7
    const comp = p[0] & 15
    console.log(`patch ${path}: ${p.length} bytes, type ${type}${type === 0 ? " (sequential)" : ""}, compression ${comp}${comp === 4 ? " (heatshrink)" : comp === 0 ? " (none)" : ""}, target ${r.value} bytes (patch ${pct(p.length, r.value)} of it)`)
    if (type !== 0 || (comp !== 0 && comp !== 4) || r.value === 0) return 0
    let data = p.subarray(r.end)
    if (comp === 4) {
        const w = (p[r.end] >> 4) + 4
        const l = (p[r.end] & 15) + 3
        console.log(`heatshrink: window 2^${w} (${1 << w} bytes of RAM), lookahead 2^${l}`)
        data = heatshrinkDecodeAll(p.subarray(r.end + 1), w, l)
    }
    const s: SizeRead = { value: 0, end: 0 }
    let pos = 0
    const next = () => {
        if (!decodeSize(data, pos, data.length, s)) throw new UsageError("the data ends inside a size")
        pos = s.end
        return s.value
    }
    next()
    let to = 0
    let diff = 0
    let extra = 0
    let n = 0
    while (to < r.value && pos < data.length) {
        const d = next()
        pos += d
        const e = next()
        pos += e
        next()
        to += d + e
        diff += d
        extra += e
        n++
    }
    console.log(`data: ${data.length} bytes decompressed, ${n} chunks, ${diff} diff bytes, ${extra} extra bytes`)
    return 0
}

export async function deltaMain(argv: string[]): Promise<number> {
    const { pos, opt } = parse(argv)
    const cmd = pos[0]
    if (!cmd || cmd === "help" || cmd === "--help") {
        console.log(USAGE)
        return cmd ? 0 : 2
    }
    if (cmd === "diff" || cmd === "compress") {
        const want = cmd === "diff" ? 3 : 2
        if (pos.length !== want || !opt.get("-o")) throw new UsageError(USAGE)
        const o = patchOptions(opt)
        const nw = read(pos[want - 1])
        const old = cmd === "diff" ? read(pos[1]) : Buffer.alloc(0)
        const b = cmd === "diff" ? createPatch(old, nw, o) : compressImage(nw, o)
        writeFileSync(opt.get("-o")!, b.patch)
        console.log(
            `${cmd === "diff" ? "patch" : "compressed image"} ${opt.get("-o")}: ${b.patch.length} bytes = ${pct(b.patch.length, nw.length)} of the ${nw.length}-byte image; ` +
                `${b.triples.length} chunks, ${b.diffBytes} diff and ${b.extraBytes} extra bytes; ${o.compression}${o.compression === "heatshrink" ? ` ${o.heatshrink!.windowSz2}/${o.heatshrink!.lookaheadSz2}` : ""}`
        )
        return 0
    }
    if (cmd === "apply") {
        if (pos.length !== 3 || !opt.get("-o")) throw new UsageError(USAGE)
        return applyFiles(pos[1], pos[2], opt.get("-o")!, int(opt, "--max-size") ?? 1 << 30)
    }
    if (cmd === "info") {
        if (pos.length !== 2) throw new UsageError(USAGE)
        return info(pos[1])
    }
    if (cmd === "vm-fixture") {
        const path = new URL("../../test/vm/lib/delta-fixture.ts", import.meta.url).pathname
        writeFileSync(path, vmFixtureSource())
        console.log(`wrote ${path}`)
        return 0
    }
    throw new UsageError(`unknown command ${cmd}\n${USAGE}`)
}
