// A heatshrink decoder (the LZSS coder of atomicobject/heatshrink, as detools and its C library
// use it), written for the VM: one window of 2^W bytes allocated once, input pulled from the
// caller's chunk without copying, and every field of its state a small number, so that it can
// be saved in a checkpoint and restored.
//
// The stream is read most significant bit first: a 1 bit is followed by an 8-bit literal; a 0 bit
// by a back-reference: W bits of (distance − 1), then L bits of (count − 1), each read in at
// most two steps of ≤ 8 bits (the high bits first when the field is wider than 8), as heatshrink
// does. A back-reference copies byte by byte from `distance` bytes behind the head, so it may
// overlap what it writes. The window starts all zeros (heatshrink_decoder_reset), and encoders
// may refer to those zeros before any byte was produced.
//
// The decoder stops the moment it has produced what it was asked for (a back-reference may be
// cut anywhere: `count` keeps the rest) and reads a new input byte only when the bits it holds
// are fewer than the field it needs, so at rest it holds at most 7 bits of the last byte it took.
// `inPos` is then exactly the number of input bytes consumed: what a checkpoint records.

export const HS_TAG = 0
export const HS_LITERAL = 1
export const HS_INDEX_MSB = 2
export const HS_INDEX_LSB = 3
export const HS_COUNT_MSB = 4
export const HS_COUNT_LSB = 5
export const HS_BACKREF = 6

/** heatshrink's limits on the window and lookahead exponents (heatshrink_common.h). */
export const HS_MIN_WINDOW = 4
export const HS_MAX_WINDOW = 15
export const HS_MIN_LOOKAHEAD = 3

export class HeatshrinkDecoder {
    /** The last 2^windowSz2 bytes produced (zeros before the first); the slot of byte n is n & mask. */
    window: Buffer
    mask: number
    windowSz2: number
    lookaheadSz2: number
    /** Bytes produced so far, modulo 2^windowSz2: where the next one goes. */
    head: number
    state: number
    /** Bits taken from the input and not yet used: the low `nbits` bits of `acc`. */
    acc: number
    nbits: number
    /** Back-reference distance (1..2^W) and bytes still to copy (1..2^L). */
    index: number
    count: number
    /** Where the last poll stopped in its input. */
    inPos: number

    constructor(windowSz2: number, lookaheadSz2: number) {
        this.windowSz2 = windowSz2
        this.lookaheadSz2 = lookaheadSz2
        this.window = Buffer.alloc(1 << windowSz2)
        this.mask = (1 << windowSz2) - 1
        this.head = 0
        this.state = HS_TAG
        this.acc = 0
        this.nbits = 0
        this.index = 0
        this.count = 0
    }

    /**
     * Decode input inb[ip..ie) into out[off..off+max); returns how many bytes it produced, fewer
     * than `max` only when the input ran out (then every input byte has been taken); `inPos` is
     * where it stopped in the input (arguments rather than fields: less bytecode).
     */
    poll(out: Buffer, off: number, max: number, inb: Buffer, ip: number, ie: number): number {
        const win = this.window
        const mask = this.mask
        const wbits = this.windowSz2
        const lbits = this.lookaheadSz2
        let head = this.head
        let st = this.state
        let acc = this.acc
        let nbits = this.nbits
        let n = 0
        while (n < max) {
            if (st === HS_BACKREF) {
                let k = max - n
                const cnt = this.count
                if (k > cnt) k = cnt
                const dist = this.index
                let o = off + n
                const stop = o + k
                while (o < stop) {
                    const c = win[(head - dist) & mask]
                    out[o] = c // (x[i] = v; i++ rather than x[i++] = v: 8 B less, and fewer opcodes)
                    o++
                    win[head] = c
                    head = (head + 1) & mask
                }
                n += k
                this.count = cnt - k
                if (cnt === k) st = HS_TAG
                continue
            }
            // bits of the next item: 1 (tag), 8 (literal), or a field's high bits (MSB, even
            // states) or its low ones (LSB, odd states); index fields are W bits wide, counts L
            let need = 1
            if (st === HS_LITERAL) need = 8
            else if (st !== HS_TAG) {
                const width = st < HS_COUNT_MSB ? wbits : lbits
                need = (st & 1) === 0 ? width - 8 : width < 8 ? width : 8
            }
            if (nbits < need) {
                if (ip >= ie) break
                acc = (acc << 8) | inb[ip]
                ip++
                nbits += 8
            }
            nbits -= need
            const v = (acc >> nbits) & ((1 << need) - 1)
            acc &= (1 << nbits) - 1
            if (st === HS_TAG) {
                if (v) st = HS_LITERAL
                else {
                    this.index = 0
                    st = wbits > 8 ? HS_INDEX_MSB : HS_INDEX_LSB
                }
            } else if (st === HS_LITERAL) {
                out[off + n] = v
                n++
                win[head] = v
                head = (head + 1) & mask
                st = HS_TAG
            } else if (st === HS_INDEX_MSB) {
                this.index = v << 8
                st = HS_INDEX_LSB
            } else if (st === HS_INDEX_LSB) {
                // count is 0 here already (0 at first, and a back-reference ends when it reaches 0)
                this.index = (this.index | v) + 1
                st = lbits > 8 ? HS_COUNT_MSB : HS_COUNT_LSB
            } else if (st === HS_COUNT_MSB) {
                this.count = v << 8
                st = HS_COUNT_LSB
            } else {
                this.count = (this.count | v) + 1
                st = HS_BACKREF
            }
        }
        this.inPos = ip
        this.head = head
        this.state = st
        this.acc = acc
        this.nbits = nbits
        return n
    }
}
