// Starting work in a fiber of its own, without setTimeout: in DeviceScript setTimeout is library
// code (a timer list and its worker fiber, 0.55 KB of bytecode) that ends in the function's own
// start(), which this calls directly. Node has no fibers and its functions no start(): there the
// work runs after the current turn, as setTimeout(fn, 0) did.
import * as ds from "@devicescript/core"

/** DeviceScript's ds.Callback (the Node shim has no such type). */
export type FiberWork = () => void | Promise<void>

export function startFiber(fn: FiberWork) {
    const f: any = fn
    if (f.start) f.start()
    // Node: fn after a sleep(0), chained rather than wrapped in an async arrow (a closure the VM
    // image would hold for a branch it never takes)
    else {
        const sleep: any = ds.sleep // untyped: a call the VM compiler does not ask to await
        sleep(0).then(fn)
    }
}
