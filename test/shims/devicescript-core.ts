// Node stand-in for the small `@devicescript/core` surface that portable src/ code may use.
// vitest and tsc alias `@devicescript/core` here. Semantics follow the DeviceScript runtime (a
// suspended fiber resumes with the value passed to resume(), or `undefined` on timeout). Timing
// goes through setTimeout and Date.now(), both of which vitest's fake timers replace by default,
// so tests get a virtual clock.

const T0 = Date.now()

/** Milliseconds since the shim was loaded (the VM counts from its boot). */
export function millis(): number {
    return Date.now() - T0
}

export function sleep(ms: number): Promise<void> {
    return new Promise<void>(resolve => setTimeout(resolve, Math.max(0, ms)))
}

export const delay = sleep

export function isSimulator(): boolean {
    return true
}

export function assert(cond: boolean, msg?: string): void {
    if (!cond) throw new Error("assertion failed" + (msg ? ": " + msg : ""))
}

/**
 * Node has no fibers. A fiber here is the one pending suspend(): Fiber.self() makes a handle and
 * the suspend() that follows it in the same synchronous run parks on it, which is the only way
 * portable code uses the pair (src/lib/signal.ts). resume() settles that suspend().
 */
export class Fiber {
    private static next = 1
    private static pending: Fiber | null = null
    readonly id = Fiber.next++
    private settle: ((v: unknown) => void) | null = null

    static self(): Fiber {
        const f = new Fiber()
        Fiber.pending = f
        return f
    }

    get suspended(): boolean {
        return this.settle !== null
    }

    resume(v: unknown): void {
        if (!this.settle) throw new RangeError("fiber not suspended")
        const settle = this.settle
        this.settle = null
        settle(v)
    }

    terminate(): void {
        throw new Error("Fiber.terminate is not available in the Node shim")
    }

    /** suspend(): park the fiber made by the Fiber.self() just before. */
    static park<T>(ms?: number): Promise<T | undefined> {
        const f = Fiber.pending
        Fiber.pending = null
        if (!f) throw new Error("suspend() without Fiber.self() just before it (Node shim)")
        return new Promise<T | undefined>(resolve => {
            let timer: ReturnType<typeof setTimeout> | undefined
            f.settle = v => {
                if (timer !== undefined) clearTimeout(timer)
                resolve(v as T)
            }
            if (ms !== undefined && ms !== Infinity)
                timer = setTimeout(() => {
                    if (!f.settle) return
                    f.settle = null
                    resolve(undefined)
                }, Math.max(0, ms))
        })
    }
}

/** Park the current fiber until resumed (its value) or `ms` passes (undefined). See Fiber. */
export function suspend<T>(ms?: number): Promise<T | undefined> {
    return Fiber.park<T>(ms)
}
