// Node-side helpers to look inside patches: the whole heatshrink stream decoded at once, with
// the portable decoder.
import { HeatshrinkDecoder } from "../../src/delta/heatshrink-decoder"

export function heatshrinkDecodeAll(stream: Buffer, w: number, l: number): Buffer {
    const d = new HeatshrinkDecoder(w, l)
    d.inBuf = stream
    d.inPos = 0
    d.inEnd = stream.length
    const parts: Buffer[] = []
    const out = Buffer.alloc(65536)
    for (;;) {
        const n = d.poll(out, 0, out.length)
        parts.push(Buffer.from(out.subarray(0, n)))
        if (n < out.length) return Buffer.concat(parts)
    }
}
