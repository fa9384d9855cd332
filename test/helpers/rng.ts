// A small seeded PRNG (mulberry32) so every random test is reproducible from its seed.
export function rng(seed: number) {
    let a = seed >>> 0
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    return {
        next,
        /** integer in [lo, hi] */
        int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
        pick: <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)],
        bytes: (n: number) => {
            const b = Buffer.alloc(n)
            for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256)
            return b
        },
    }
}
export type Rng = ReturnType<typeof rng>
