// Reading the VM fixtures' byte pieces (tools/delta/vm-fixture.ts: `hex` literals of
// FIXTURE_PIECE bytes) as one image, and feeding a patch from its pieces, for the delta suite and
// bench.
import { DeltaApplier } from "../../../src/delta/sequential-apply"

export const PIECE = 16384

/** `n` bytes at `off` of the image held in `pieces` (a copy). */
export function readPieces(pieces: Buffer[], off: number, n: number): Buffer {
    const k = Math.floor(off / PIECE)
    const at = off - k * PIECE
    if (at + n <= PIECE) return pieces[k].slice(at, at + n)
    const b = Buffer.alloc(n)
    const first = PIECE - at
    b.set(pieces[k].slice(at, PIECE), 0)
    b.set(pieces[k + 1].slice(0, n - first), first)
    return b
}

/** Feed the patch held in `pieces` (`size` bytes) from `from`, in feeds of `step` bytes (never across a piece). */
export async function feedPieces(a: DeltaApplier, pieces: Buffer[], size: number, from: number, step: number) {
    let off = from
    while (off < size) {
        const k = Math.floor(off / PIECE)
        const at = off - k * PIECE
        let e = at + step
        if (e > PIECE) e = PIECE
        if (k * PIECE + e > size) e = size - k * PIECE
        await a.feed(pieces[k], at, e)
        off = k * PIECE + e
    }
}
