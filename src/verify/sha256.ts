// Streaming SHA-256 (FIPS 180-4) in portable TypeScript. DeviceScript's native
// `digest("sha256", ...)` is one-shot only, which would need the whole image in RAM; this one
// takes the image block by block and its midstate can be saved in the download journal.
//
// About 8 000 opcodes per 64-byte block in the VM: callers feed a few hundred bytes per turn.

import { BlockHash } from "./block-hash"
import { hex, words } from "../lib/hex"

const K = words(hex`
    428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5
    d807aa98 12835b01 243185be 550c7dc3 72be5d74 80deb1fe 9bdc06a7 c19bf174
    e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da
    983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967
    27b70a85 2e1b2138 4d2c6dfc 53380d13 650a7354 766a0abb 81c2c92e 92722c85
    a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070
    19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3
    748f82ee 78a5636f 84c87814 8cc70208 90befffa a4506ceb bef9a3f7 c67178f2
`)

export class Sha256 extends BlockHash {
    /** The message schedule as a 16-word window (w[t] lives in w[t & 15]): 64 words would cost ~0.4 KB more heap. */
    private w: number[] = []

    constructor() {
        super(words(hex`6a09e667 bb67ae85 3c6ef372 a54ff53a 510e527f 9b05688c 1f83d9ab 5be0cd19`), true)
        for (let i = 0; i < 16; i++) this.w.push(0)
    }

    protected override compress(b: Buffer, off: number) {
        const w = this.w
        for (let i = 0; i < 16; i++) {
            const p = off + 4 * i
            w[i] = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]
        }
        const h = this.h
        let a = h[0]
        let bb = h[1]
        let c = h[2]
        let d = h[3]
        let e = h[4]
        let f = h[5]
        let g = h[6]
        let hh = h[7]
        for (let i = 0; i < 64; i++) {
            let wi = 0
            if (i < 16) wi = w[i]
            else {
                const x = w[(i + 1) & 15] // w[i - 15]
                const y = w[(i + 14) & 15] // w[i - 2]
                const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
                const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
                wi = (w[i & 15] + s0 + w[(i + 9) & 15] + s1) | 0 // w[i - 16], w[i - 7]
                w[i & 15] = wi
            }
            const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
            const ch = (e & f) ^ (~e & g)
            const t1 = (hh + S1 + ch + K[i] + wi) | 0
            const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
            const maj = (a & bb) ^ (a & c) ^ (bb & c)
            const t2 = (S0 + maj) | 0
            hh = g
            g = f
            f = e
            e = (d + t1) | 0
            d = c
            c = bb
            bb = a
            a = (t1 + t2) | 0
        }
        h[0] = (h[0] + a) >>> 0
        h[1] = (h[1] + bb) >>> 0
        h[2] = (h[2] + c) >>> 0
        h[3] = (h[3] + d) >>> 0
        h[4] = (h[4] + e) >>> 0
        h[5] = (h[5] + f) >>> 0
        h[6] = (h[6] + g) >>> 0
        h[7] = (h[7] + hh) >>> 0
    }
}
