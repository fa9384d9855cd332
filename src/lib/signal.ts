// An edge-triggered wake-up for one waiting fiber. DeviceScript has no `new Promise(executor)`,
// so waiting for "something changed or the time is up" is built on ds.emitter + ds.wait, which
// the Node shim mirrors. The state itself lives with the caller: check it, then wait, with no
// `await` in between (both runtimes are single-threaded, so no wake-up is lost).

import * as ds from "@devicescript/core"

export class Signal {
    private em: ds.Emitter<boolean>

    constructor() {
        this.em = ds.emitter<boolean>()
    }

    notify() {
        this.em.emit(true)
    }

    /** Resolves true when notified, false after `ms` (Infinity or undefined waits forever). */
    async wait(ms?: number): Promise<boolean> {
        const v = await ds.wait(this.em, ms)
        return v === true
    }
}
