// A small seeded PRNG (mulberry32). Every random choice in the simulator (which byte to
// corrupt, which command to fail) comes from one of these, so a failing run is reproduced
// exactly by its seed. Not for cryptography.

export class Rng {
    private state: number

    constructor(seed: number) {
        this.state = seed >>> 0
    }

    /** Uniform 32-bit unsigned integer. */
    nextU32(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0
        let t = this.state
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return (t ^ (t >>> 14)) >>> 0
    }

    /** Uniform in [0, 1). */
    next(): number {
        return this.nextU32() / 4294967296
    }

    /** Uniform integer in [0, n). */
    int(n: number): number {
        return Math.floor(this.next() * n)
    }

    /** True with probability p (p <= 0 never draws, so adding a zero-probability fault changes nothing). */
    chance(p: number): boolean {
        if (!(p > 0)) return false
        return this.next() < p
    }

    /** Uniform integer in [lo, hi]. */
    range(lo: number, hi: number): number {
        return lo + this.int(hi - lo + 1)
    }

    /** n random bytes. */
    bytes(n: number): Buffer {
        const b = Buffer.alloc(n)
        for (let i = 0; i < n; i++) b[i] = this.int(256)
        return b
    }

    pick<T>(items: readonly T[]): T {
        return items[this.int(items.length)]
    }

    /** An independent generator derived from this one (so one stream's use does not shift another's). */
    fork(): Rng {
        return new Rng(this.nextU32())
    }
}
