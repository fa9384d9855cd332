// Yielding inside DeviceScript's opcode budget: a fiber that runs 131 072 opcodes without a real
// sleep panics (uncatchably), and an Ed25519 verification is millions of opcodes. Before each
// costly step, code charges its opcodes to a Pace (`await pay(p, COST)`) and yields first
// when the slice would run out. Costs are upper bounds measured in the VM (how many
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

/** A pace whose first charge yields: how much of the current slice the caller used is unknown. */
export function newPace(yielder?: Yielder): Pace {
    return { left: 0, yielder: yielder }
}

/**
 * Charge `cost` opcodes to this slice; when they do not fit, yield first (a real ds.sleep(0)
 * unless a yielder was given) and charge them to the new slice. One call per costly step (it was
 * `if (due(p, c)) await spend(p, c)`: 0.1 KB more bytecode over the call sites).
 */
export async function pay(p: Pace, cost: number) {
    if (p.left >= cost) {
        p.left = p.left - cost
        return
    }
    if (p.yielder) await p.yielder()
    else await ds.sleep(0)
    p.left = SLICE - cost
}
