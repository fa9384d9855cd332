// Node-side helpers to look inside patches: the whole heatshrink stream decoded at once, with
// the portable decoder.
import { HeatshrinkDecoder } from "../../src/delta/heatshrink-decoder"

export function heatshrinkDecodeAll(stream: Buffer, w: number, l: number): Buffer {
    const d = new HeatshrinkDecoder(w, l)
    const parts: Buffer[] = []
    const out = Buffer.alloc(65536)
    for (let p = 0; ; p = d.inPos) {
        const n = d.poll(out, 0, out.length, stream, p, stream.length)
        parts.push(Buffer.from(out.subarray(0, n)))
        if (n < out.length) return Buffer.concat(parts)
    }
}
