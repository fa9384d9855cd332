// Yielding inside DeviceScript's opcode budget: a fiber that runs 131 072 opcodes without a real
// sleep panics (uncatchably), and an Ed25519 verification is millions of opcodes. Before each
// costly step, code charges its opcodes to a Pace (`if (due(p, COST)) await spend(p, COST)`) and
// yields first when the slice would run out. Costs are upper bounds measured in the VM (how many
// fit one slice); SLICE leaves half of the budget for the steps that are not charged, at most
// about 21 000 opcodes in a row (the end of a point decoding). Measured: a verification passes
// with SLICE up to 105 000 and can panic from 110 000 on (where the slices fall decides).
import * as ds from "@devicescript/core"

export type Yielder = () => Promise<void>

export interface Pace {
    /** Opcodes left before the next yield. */
    left: number
    yielder: Yielder
}

/** Opcodes between yields: half of the VM's 131 072. */
export const SLICE = 65536
/** Opcodes of one field multiplication (or squaring): 40 fit a 131 072-opcode slice, 41 do not. */
export const MUL_COST = 3300

export function newPace(yielder?: Yielder): Pace {
    return { left: SLICE, yielder: yielder }
}

/** Charge `cost` opcodes to this slice; true when they do not fit and spend(p, cost) must come first. */
export function due(p: Pace, cost: number): boolean {
    if (p.left < cost) return true
    p.left -= cost
    return false
}

/** Yield (a real ds.sleep(0) unless a yielder was given), then charge `cost` to the new slice. */
export async function spend(p: Pace, cost: number) {
    if (p.yielder) await p.yielder()
    else await ds.sleep(0)
    p.left = SLICE - cost
}
