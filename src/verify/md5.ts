// Streaming MD5 (RFC 1321) in portable TypeScript: DeviceScript's crypto has SHA-256 one-shot only
// and no MD5 (../shared/reference/devicescript.md §4). QuecThing announces the package MD5 in 10701
// and always sends it, so MD5 is the one check that is always available; it is a transfer check,
// not a security one (SHA-256 is that).
//
// About 8 000 opcodes per 64-byte block in the VM: callers feed a few hundred bytes per turn.

import { BlockHash } from "./block-hash"
import { hex, words } from "../lib/hex"

/** Per-round left-rotation amounts: 7 12 17 22, 5 9 14 20, 4 11 16 23, 6 10 15 21. */
const S = hex`070c1116 05090e14 040b1017 060a0f15`

/** floor(abs(sin(i + 1)) × 2^32): DeviceScript has no Math.sin, so the table is written out. */
const T = words(hex`
    d76aa478 e8c7b756 242070db c1bdceee f57c0faf 4787c62a a8304613 fd469501
    698098d8 8b44f7af ffff5bb1 895cd7be 6b901122 fd987193 a679438e 49b40821
    f61e2562 c040b340 265e5a51 e9b6c7aa d62f105d 02441453 d8a1e681 e7d3fbc8
    21e1cde6 c33707d6 f4d50d87 455a14ed a9e3e905 fcefa3f8 676f02d9 8d2a4c8a
    fffa3942 8771f681 6d9d6122 fde5380c a4beea44 4bdecfa9 f6bb4b60 bebfbc70
    289b7ec6 eaa127fa d4ef3085 04881d05 d9d4d039 e6db99e5 1fa27cf8 c4ac5665
    f4292244 432aff97 ab9423a7 fc93a039 655b59c3 8f0ccc92 ffeff47d 85845dd1
    6fa87e4f fe2ce6e0 a3014314 4e0811a1 f7537e82 bd3af235 2ad7d2bb eb86d391
`)

export class Md5 extends BlockHash {
    constructor() {
        super(words(hex`67452301 efcdab89 98badcfe 10325476`), false)
    }

    // The message words are read from the block as each round needs them, not copied into a
    // 16-word array first: about 8 % more opcodes, 160 bytes less on the VM heap for the whole run.
    protected override compress(b: Buffer, off: number) {
        const h = this.h
        let a = h[0]
        let bb = h[1]
        let c = h[2]
        let d = h[3]
        for (let i = 0; i < 64; i++) {
            let f = 0
            let g = 0
            const r = i >> 4
            if (r === 0) {
                f = (bb & c) | (~bb & d)
                g = i
            } else if (r === 1) {
                f = (d & bb) | (~d & c)
                g = (5 * i + 1) & 15
            } else if (r === 2) {
                f = bb ^ c ^ d
                g = (3 * i + 5) & 15
            } else {
                f = c ^ (bb | ~d)
                g = (7 * i) & 15
            }
            const s = S[(r << 2) | (i & 3)]
            const p = off + 4 * g
            const sum = (a + f + T[i] + (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24))) | 0
            a = d
            d = c
            c = bb
            bb = (bb + ((sum << s) | (sum >>> (32 - s)))) | 0
        }
        h[0] = (h[0] + a) >>> 0
        h[1] = (h[1] + bb) >>> 0
        h[2] = (h[2] + c) >>> 0
        h[3] = (h[3] + d) >>> 0
    }
}
