// Seeded randomness for tests, as a small functional view of the simulator's PRNG
// (sim/lib/rng.ts, mulberry32): every random test is reproducible from its seed.
import { Rng } from "../../sim/lib/rng"

export function rng(seed: number) {
    const g = new Rng(seed)
    return {
        next: () => g.next(),
        /** integer in [lo, hi] */
        int: (lo: number, hi: number) => g.range(lo, hi),
        pick: <T>(xs: T[]): T => g.pick(xs),
        bytes: (n: number) => g.bytes(n),
    }
}
export type TestRng = ReturnType<typeof rng>
