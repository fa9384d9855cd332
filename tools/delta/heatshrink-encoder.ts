// A heatshrink encoder for Node (the tools' side of src/delta/heatshrink-decoder.ts): LZSS with
// a window of 2^W bytes and back-references of 1..2^L bytes, bit-packed most significant bit
// first as heatshrink writes it, so that heatshrink's own decoder (detools, heatshrink2, the C
// library) and ours read it. Before the first byte the window holds 2^W zeros, as every
// heatshrink decoder's does after reset, so a run of zeros at the start is a back-reference too.
//
// Matching: hash chains over two-byte keys inside the window, the longest match wins (the
// nearest on a tie), one step of lazy matching (a literal now when the next position matches
// longer), and a back-reference only where it is cheaper than literals (1 + W + L bits against 9
// per byte). The last byte is padded with zero bits, as heatshrink's encoder does.

export interface HeatshrinkParams {
    windowSz2: number
    lookaheadSz2: number
}

export const DETOOLS_DEFAULT: HeatshrinkParams = { windowSz2: 8, lookaheadSz2: 7 }

/** heatshrink's header byte as detools writes it before the stream (detools/compression/heatshrink.py). */
export function heatshrinkHeader(p: HeatshrinkParams): number {
    return ((p.windowSz2 - 4) << 4) | (p.lookaheadSz2 - 3)
}

export function checkParams(p: HeatshrinkParams): void {
    const { windowSz2: w, lookaheadSz2: l } = p
    if (!Number.isInteger(w) || !Number.isInteger(l) || w < 4 || w > 15 || l < 3 || l >= w)
        throw new RangeError(`heatshrink: window 2^${w} and lookahead 2^${l}: heatshrink takes 4 ≤ window ≤ 15 and 3 ≤ lookahead < window`)
}

class BitWriter {
    private buf = Buffer.alloc(1024)
    private len = 0
    private cur = 0
    private used = 0

    bits(value: number, count: number) {
        for (let i = count - 1; i >= 0; i--) {
            this.cur = (this.cur << 1) | ((value >> i) & 1)
            if (++this.used === 8) this.byte()
        }
    }

    private byte() {
        if (this.len === this.buf.length) {
            const b = Buffer.alloc(this.buf.length * 2)
            this.buf.copy(b)
            this.buf = b
        }
        this.buf[this.len++] = this.cur
        this.cur = 0
        this.used = 0
    }

    finish(): Buffer {
        if (this.used > 0) {
            this.cur <<= 8 - this.used
            this.byte()
        }
        return this.buf.subarray(0, this.len)
    }
}

/** The heatshrink stream of `data` (without detools' header byte). */
export function heatshrinkEncode(data: Uint8Array, p: HeatshrinkParams = DETOOLS_DEFAULT): Buffer {
    checkParams(p)
    const W = 1 << p.windowSz2
    const maxLen = 1 << p.lookaheadSz2
    const refBits = 1 + p.windowSz2 + p.lookaheadSz2
    // the virtual history of zeros, then the data
    const buf = new Uint8Array(W + data.length)
    buf.set(data, W)
    const end = buf.length
    const HASH = 1 << 16
    const head = new Int32Array(HASH).fill(-1)
    const prev = new Int32Array(end).fill(-1)
    const key = (i: number) => (buf[i] << 8) | buf[i + 1]
    let inserted = 0
    const insertUpTo = (limit: number) => {
        for (; inserted < limit && inserted + 1 < end; inserted++) {
            const k = key(inserted)
            prev[inserted] = head[k]
            head[k] = inserted
        }
    }
    let bestPos = 0
    const longest = (pos: number): number => {
        insertUpTo(pos)
        const lim = Math.min(maxLen, end - pos)
        if (lim < 2) return 0
        let best = 0
        let c = head[key(pos)]
        let chain = 4096
        while (c >= 0 && pos - c <= W && chain-- > 0) {
            if (buf[c + best] === buf[pos + best]) {
                let n = 0
                while (n < lim && buf[c + n] === buf[pos + n]) n++
                if (n > best) {
                    best = n
                    bestPos = c
                    if (n === lim) break
                }
            }
            c = prev[c]
        }
        return best
    }
    const worth = (len: number) => len * 9 > refBits
    const out = new BitWriter()
    let pos = W
    while (pos < end) {
        let len = longest(pos)
        let from = bestPos
        if (worth(len) && len < maxLen && pos + 1 < end) {
            const next = longest(pos + 1)
            if (next > len + 1) len = 0 // a literal now, the longer match next
            else bestPos = from
        }
        if (worth(len)) {
            out.bits(0, 1)
            out.bits(pos - from - 1, p.windowSz2)
            out.bits(len - 1, p.lookaheadSz2)
            pos += len
        } else {
            out.bits(0x100 | buf[pos], 9)
            pos++
        }
    }
    return out.finish()
}
