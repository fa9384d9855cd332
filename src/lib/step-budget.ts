// DeviceScript panics (uncatchably) when a fiber runs 131 072 opcodes without yielding, and an
// `await` of an async call that completes at once does NOT count as a yield (measured: a loop
// awaiting a trivial async function every 1024 iterations still panicked). Long byte loops
// (CRC over an image, scanning a metadata sector) therefore charge their work to a budget that
// really sleeps when it runs out. Node tests may inject a cheaper yielder.

import * as ds from "@devicescript/core"

export type Yielder = () => Promise<void>

export class StepBudget {
    private used: number
    private limit: number
    private yielder: Yielder

    /** `limit`: work units (roughly bytes processed) between yields. */
    constructor(limit: number, yielder?: Yielder) {
        this.used = 0
        this.limit = limit
        this.yielder = yielder
    }

    /** Record `units` of work; sleeps 0 ms when the budget is used up. */
    async spend(units: number) {
        this.used += units
        if (this.used < this.limit) return
        this.used = 0
        if (this.yielder) await this.yielder()
        else await ds.sleep(0)
    }
}
