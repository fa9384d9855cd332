// Constant bytes in the program image: DeviceScript's compiler turns any tagged template whose tag
// is named `hex` into a buffer stored in the image (no heap, half the size of a hex string, no
// parsing at run time), whatever `hex` refers to. Node has no such tag: there this function
// parses the same text, so the portable code reads the same bytes in both.
export function hex(lits: any): Buffer {
    const s: string = lits[0]
    const out = Buffer.alloc(s.length >> 1)
    let n = 0
    let hi = -1
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1
        if (d < 0) continue // whitespace between digits, as the compiler allows
        if (hi < 0) hi = d
        else {
            out[n++] = (hi << 4) | d
            hi = -1
        }
    }
    return out.slice(0, n)
}

/**
 * The big-endian 32-bit words of b, unsigned: a constant table kept as a `hex` literal costs no
 * bytecode (a number[] literal costs about 4.5 bytes of bytecode per entry), and becomes the
 * array its hot loop indexes once, at start-up.
 */
export function words(b: Buffer): number[] {
    const w: number[] = []
    for (let i = 0; i < b.length; i += 4) w.push(((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0)
    return w
}
