// The DFOTA driver against the module emulator: an AtClient on the MCU end of a pipe, the
// QuecModule (with its DFOTA servers, files and timings) on the other, a private upgrade lock,
// and vitest's fake timers as the clock (vi.useFakeTimers() in the test file).
import { vi } from "vitest"
import { AtClient } from "../../src/at/client"
import { createPipe } from "../../src/link/pipe"
import type { ByteTransport } from "../../src/link/transport"
import { ModuleUpgrade } from "../../src/dfota/dfota"
import { DfotaProgress } from "../../src/dfota/result"
import { UpgradeLock } from "../../src/lib/upgrade-lock"
import type { DfotaOptions as SimDfotaOptions, FotaServer } from "../../sim/module/dfota"
import { ModuleTransport, QuecModule, QuecModuleOptions } from "../../sim/module/module"
import { UartLine, UartLineOptions } from "../../sim/link/uart-line"
import { PK, PS } from "../module/harness"

export const OLD = "BG95M3LAR02A03"
export const NEW = "BG95M3LAR02A04"

export const SERVERS: Record<string, FotaServer> = {
    "www.example.com": { files: { "/delta.bin": { fromRevision: OLD, toRevision: NEW, size: 200000 } } },
    "demo.com": { user: "test", password: "test", files: { "/update/delta.bin": { fromRevision: OLD, toRevision: NEW } } },
    "other.com": { files: { "/wrong.bin": { fromRevision: "XYZ", toRevision: NEW } } },
    "same.com": { files: { "/same.bin": { fromRevision: OLD, toRevision: OLD } } },
    "slow.com": { files: { "/big.bin": { fromRevision: OLD, toRevision: NEW, size: 1 << 20 } } },
}

export interface Rig {
    module: QuecModule
    at: AtClient
    up: ModuleUpgrade
    lock: UpgradeLock
    progress: DfotaProgress[]
    mcu: ByteTransport & { bytesOut?: number }
    line: UartLine | null
}

/**
 * A module at revision OLD (over an unpaced pipe, or the paced UART model when `uart` is given) with the walk-through's servers, QuecThing product info saved (so
 * AT+QIOTREG=1 works; there is no Developer Center, so every connection succeeds).
 */
export function rig(dfota: SimDfotaOptions = {}, opts: QuecModuleOptions = {}, uart?: UartLineOptions): Rig {
    let mcu: ByteTransport & { bytesOut?: number }
    let modem: ModuleTransport
    let line: UartLine | null = null
    if (uart) {
        line = new UartLine(uart)
        mcu = line.mcu
        modem = line.module
    } else {
        const ends = createPipe()
        mcu = ends[0]
        modem = ends[1]
    }
    const module = new QuecModule(modem, {
        revision: OLD,
        bootMs: 100,
        ...opts,
        nvm: { productKey: PK, productSecret: PS, ...(opts.nvm || {}) },
        dfota: { servers: SERVERS, rebootMs: 2000, finalBootMs: 500, stepMs: 100, ...dfota },
    })
    const at = new AtClient(mcu, { feedSlice: 1 << 16 })
    const lock = new UpgradeLock()
    const up = new ModuleUpgrade(at, lock)
    const progress: DfotaProgress[] = []
    up.onProgress(p => progress.push(p))
    return { module, at, up, lock, progress, mcu, line }
}

/** Advance the virtual clock until `p` settles; its value, and the virtual time it took. */
export async function drive<T>(p: Promise<T>, limitMs = 4 * 3600_000, stepMs = 100): Promise<T> {
    let done = false
    p.then(
        () => (done = true),
        () => (done = true)
    )
    for (let t = 0; t < limitMs && !done; t += stepMs) await vi.advanceTimersByTimeAsync(stepMs)
    if (!done) throw new Error(`still running after ${limitMs} ms of virtual time`)
    return p
}

/** The commands the module received after `from` (e.g. what followed AT+QFOTADL). */
export function after(received: string[], from: string): string[] {
    const i = received.indexOf(from)
    return i < 0 ? [] : received.slice(i + 1)
}
