// An edge-triggered wake-up for the fibers waiting on it. DeviceScript has no
// `new Promise(executor)`; its ds.wait(emitter) builds five closures per wait and starts a new
// fiber per emit to run the handler, which shows in a 64 KB heap when every AT command, event
// and block write waits on one. Here a waiter parks its own fiber (ds.suspend) and notify()
// resumes it: nothing is allocated per wait or per wake-up. The state itself lives with the
// caller: check it, then wait, with no `await` in between (both runtimes are single-threaded,
// so no wake-up is lost).

import * as ds from "@devicescript/core"

export class Signal {
    private waiters: ds.Fiber[] = []

    /** Wake every fiber waiting now. */
    notify() {
        const w = this.waiters
        while (w.length > 0) {
            const f = w.pop()
            if (f.suspended) f.resume(true)
        }
    }

    /** Resolves true when notified, false after `ms` (Infinity or undefined waits forever). */
    async wait(ms?: number): Promise<boolean> {
        const me = ds.Fiber.self()
        this.waiters.push(me)
        const v = await ds.suspend<boolean>(ms)
        if (v !== true) {
            // timed out: notify() did not take it off the list (inlined: one caller)
            const w = this.waiters
            const i = w.indexOf(me)
            if (i >= 0) {
                for (let k = i + 1; k < w.length; k++) w[k - 1] = w[k]
                w.pop()
            }
        }
        return v === true
    }
}
