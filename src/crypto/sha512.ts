// SHA-512 (FIPS 180-4) without 64-bit integers: each word is a pair of int32 halves (hi, lo).
// Ed25519 hashes R || A || M with it; DeviceScript has SHA-256 only. One-shot, with a yield
// between blocks (one 128-byte block is tens of thousands of opcodes in the VM): the message is
// copied once with its padding (for an image's signature, M is its 32-byte SHA-256: 256 bytes in
// all). It was a streaming class (update, finish): 0.3 KB more bytecode for a stream nobody fed.
import { hex } from "../lib/hex"
import { Pace, pay } from "./pace"

/** The 80 round constants (in the image: a number[] of 160 words would hold 1.3 KB of heap for good). */
const K = hex`
    428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc3956c25bf348b53859f111f1b605d019
    923f82a4af194f9bab1c5ed5da6d8118d807aa98a303024212835b0145706fbe243185be4ee4b28c550c7dc3d5ffb4e2
    72be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235c19bf174cf692694e49b69c19ef14ad2efbe4786384f25e3
    0fc19dc68b8cd5b5240ca1cc77ac9c652de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5
    983e5152ee66dfaba831c66d2db43210b00327c898fb213fbf597fc7beef0ee4c6e00bf33da88fc2d5a79147930aa725
    06ca6351e003826f142929670a0e6e7027b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed53380d139d95b3df
    650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353ba2bfe8a14cf10364a81a664bbc423001
    c24b8b70d0f89791c76c51a30654be30d192e819d6ef5218d69906245565a910f40e35855771202a106aa07032bbd1b8
    19a4c116b8d2d0c81e376c085141ab532748774cdf8eeb9934b0bcb5e19b48a8391c0cb3c5c95a634ed8aa4ae3418acb
    5b9cca4f7763e373682e6ff3d6b2b8a3748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec
    90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532bca273eceea26619cd186b8c721c0c207
    eada7dd6cde0eb1ef57d4f7fee6ed17806f067aa72176fba0a637dc5a2c898a6113f9804bef90dae1b710b35131c471b
    28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc431d67c49c100d4c4cc5d4becb3e42b6597f299cfc657e2a
    5fcb6fab3ad6faec6c44198c4a475817
`

/** Opcodes of one block in the VM, measured: 44 000 to 47 500. */
export const BLOCK_COST = 48000

const IV = hex`6a09e667f3bcc908 bb67ae8584caa73b 3c6ef372fe94f82b a54ff53a5f1d36f1
    510e527fade682d1 9b05688c2b3e6c1f 1f83d9abfb41bd6b 5be0cd19137e2179`

/** The big-endian 32-bit word at b[p], as an int32 (DeviceScript's readUInt32BE is library code: slower). */
function word(b: Buffer, p: number): number {
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]
}

/** out[off..off+64) = SHA-512 of the concatenation of `parts`, a block per payment to the pace. */
export async function sha512(parts: Buffer[], out: Buffer, off: number, pace: Pace) {
    let n = 0
    for (const p of parts) n += p.length
    // the message, 0x80, zeros, and the bit length in the last 16 bytes (< 2^53: the top 9 bytes stay 0)
    const m = Buffer.alloc((Math.floor((n + 16) / 128) + 1) * 128)
    let at = 0
    for (const p of parts) {
        m.set(p, at)
        at += p.length
    }
    m[n] = 0x80
    let bits = n * 8
    for (let i = m.length - 1; bits > 0; i--) {
        m[i] = bits & 0xff // ToInt32 keeps the low bits of any integer below 2^53
        bits = Math.floor(bits / 256)
    }
    /** Chaining value: hi, lo of each of the 8 words; message schedule, a window of 16 words (w[t] at 2 (t & 15)). */
    const h: number[] = []
    const w: number[] = []
    // one loop for both (a loop costs more bytecode than its body): w gets 2 zeros per h word
    for (let i = 0; i < 16; i++) {
        h.push(word(IV, 4 * i))
        w.push(0, 0)
    }
    for (let b = 0; b < m.length; b += 128) {
        await pay(pace, BLOCK_COST)
        compress(m, b, h, w)
    }
    for (let i = 0; i < 64; i++) out[off + i] = h[i >> 2] >> (24 - 8 * (i & 3))
}

/** The block at m[b..b+128) into the chaining value h; w is the schedule's scratch. */
function compress(m: Buffer, b: number, h: number[], w: number[]) {
    for (let i = 0; i < 32; i++) w[i] = word(m, b + 4 * i)
    let ah = h[0], al = h[1], bh = h[2], bl = h[3], ch = h[4], cl = h[5], dh = h[6], dl = h[7]
    let eh = h[8], el = h[9], fh = h[10], fl = h[11], gh = h[12], gl = h[13], hh = h[14], hl = h[15]
    for (let t = 0; t < 80; t++) {
        const j = 2 * (t & 15) // w[t], w[t - 16] at j; w[t - 15] at j + 2, w[t - 7] at j + 18, w[t - 2] at j + 28
        if (t >= 16) {
            // w[t] = s1(w[t - 2]) + w[t - 7] + s0(w[t - 15]) + w[t - 16]
            // s0 = rotr 1 ^ rotr 8 ^ shr 7; s1 = rotr 19 ^ rotr 61 ^ shr 6
            const xh = w[(j + 2) & 31], xl = w[(j + 3) & 31]
            const yh = w[(j + 28) & 31], yl = w[(j + 29) & 31]
            const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7)
            const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25))
            const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6)
            const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26))
            const lo = (s0l >>> 0) + (s1l >>> 0) + (w[(j + 19) & 31] >>> 0) + (w[j + 1] >>> 0)
            w[j] = (s0h + s1h + w[(j + 18) & 31] + w[j] + ((lo / 0x100000000) | 0)) | 0
            w[j + 1] = lo | 0
        }
        // t1 = h + S1(e) + ch(e, f, g) + K[t] + w[t]; S1 = rotr 14 ^ rotr 18 ^ rotr 41
        const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23))
        const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23))
        const t1l = (hl >>> 0) + (S1l >>> 0) + (((el & fl) ^ (~el & gl)) >>> 0) + (word(K, 8 * t + 4) >>> 0) + (w[j + 1] >>> 0)
        const t1h = hh + S1h + ((eh & fh) ^ (~eh & gh)) + word(K, 8 * t) + w[j] + ((t1l / 0x100000000) | 0)
        // t2 = S0(a) + maj(a, b, c); S0 = rotr 28 ^ rotr 34 ^ rotr 39
        const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25))
        const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25))
        const t2l = (S0l >>> 0) + (((al & bl) ^ (al & cl) ^ (bl & cl)) >>> 0)
        const t2h = S0h + ((ah & bh) ^ (ah & ch) ^ (bh & ch))
        hh = gh
        hl = gl
        gh = fh
        gl = fl
        fh = eh
        fl = el
        const e = (dl >>> 0) + (t1l >>> 0)
        eh = (dh + t1h + ((e / 0x100000000) | 0)) | 0
        el = e | 0
        dh = ch
        dl = cl
        ch = bh
        cl = bl
        bh = ah
        bl = al
        const a = (t1l >>> 0) + t2l
        ah = (t1h + t2h + ((a / 0x100000000) | 0)) | 0
        al = a | 0
    }
    add(h, 0, ah, al)
    add(h, 2, bh, bl)
    add(h, 4, ch, cl)
    add(h, 6, dh, dl)
    add(h, 8, eh, el)
    add(h, 10, fh, fl)
    add(h, 12, gh, gl)
    add(h, 14, hh, hl)
}

/** (h[i], h[i+1]) += (xh, xl) mod 2^64. */
function add(h: number[], i: number, xh: number, xl: number) {
    const lo = (h[i + 1] >>> 0) + (xl >>> 0)
    h[i] = (h[i] + xh + ((lo / 0x100000000) | 0)) | 0
    h[i + 1] = lo | 0
}
