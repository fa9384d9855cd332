// One boot of an application that adds SOTA through the library's entry (startSota with the
// world's line and flash), and a wait on vitest's virtual clock: shared by the library's tests.
import { vi } from "vitest"
import { startSota, Sota, SotaOptions, SotaOutcome, SotaProgressEvent } from "../../src/index"
import { Reboot, World } from "../sota/world"

export interface Boot {
    sota: Sota
    progress: SotaProgressEvent[]
    outcomes: SotaOutcome[]
    /** The agent asked for a reboot (the hook throws, unwinding the agent as a reset would end it). */
    rebootAsked: boolean
}

/** One boot of an application that adds SOTA: startSota with the world's line and flash. */
export function boot(w: World, version: string, extra: Partial<SotaOptions> = {}): Boot {
    const b: Boot = { sota: null, progress: [], outcomes: [], rebootAsked: false }
    b.sota = startSota({
        transport: w.tap,
        flash: w.flash,
        layout: w.layout,
        component: "STM32",
        version,
        reboot: async () => {
            b.rebootAsked = true
            throw new Reboot()
        },
        onProgress: p => b.progress.push(p),
        onOutcome: o => b.outcomes.push(o),
        tuning: { yielder: async () => {} },
        ...extra,
    })
    return b
}

/** Let the agent work until `pred` holds (virtual time). */
export async function until(pred: () => boolean, limitMs = 600_000) {
    for (let t = 0; t < limitMs && !pred(); t += 250) await vi.advanceTimersByTimeAsync(250)
    if (!pred()) throw new Error(`not reached within ${limitMs} ms of virtual time`)
}
