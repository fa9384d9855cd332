// Node stand-in for the small `@devicescript/core` surface that portable src/ code may use.
// vitest and tsc alias `@devicescript/core` here. Semantics follow the DeviceScript runtime
// (packages/core/src/events.ts): handlers run later, not inside emit(); wait() resolves with
// the emitted value or `undefined` on timeout. Timing goes through setTimeout and Date.now(),
// both of which vitest's fake timers replace by default, so tests get a virtual clock.

export type Handler<T> = (v: T) => void | Promise<void>
export type Unsubscribe = () => void
export interface Subscriber<T> {
    subscribe(f: Handler<T>): Unsubscribe
}
export interface Emitter<T> extends Subscriber<T> {
    emit(v: T): void
}

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

class NodeEmitter<T> implements Emitter<T> {
    private handlers: Handler<T>[] = []
    subscribe(f: Handler<T>): Unsubscribe {
        this.handlers.push(f)
        return () => {
            const i = this.handlers.indexOf(f)
            if (i >= 0) this.handlers.splice(i, 1)
        }
    }
    emit(v: T): void {
        for (const h of this.handlers.slice()) queueMicrotask(() => void h(v))
    }
}

export function emitter<T>(): Emitter<T> {
    return new NodeEmitter<T>()
}

export function wait<T>(l: Subscriber<T>, timeout?: number): Promise<T> {
    return new Promise<T>(resolve => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const unsub = l.subscribe(v => {
            unsub()
            if (timer !== undefined) clearTimeout(timer)
            resolve(v)
        })
        if (timeout !== undefined && timeout !== Infinity)
            timer = setTimeout(() => {
                unsub()
                resolve(undefined as T)
            }, Math.max(0, timeout))
    })
}
