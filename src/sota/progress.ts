// What the SOTA agent tells its application while it works: a progress label, counters, and
// the sink the download's parts report through (the engine, which fans out to listeners).

import { SotaReason } from "./reasons"

export type SotaState =
    | "booting"
    | "registering"
    | "self-test"
    | "confirmed"
    | "rolled-back"
    | "reported"
    | "requesting"
    | "offered"
    | "refused"
    | "downloading"
    | "verifying"
    | "updating"
    | "activating"
    | "ready" // verified; its activation waits for a window or the application (ConsentGate)
    | "rebooting"
    | "failed"
    | "recovering"
    | "fault" // something is wrong that does not stop the agent (e.g. the program's version against the store's)

export interface SotaProgress {
    state: SotaState
    version: string
    target: string
    bytes: number
    total: number
    reason: SotaReason
    detail: string
}

export interface SotaStats {
    /** Payload bytes read with AT+QIOTOTARD in this run. */
    bytesRead: number
    blocks: number
    blockRetries: number
    checkpoints: number
    moduleRestarts: number
    /** Package bytes the download started from thanks to the journal (0: from scratch; a rebuild replays its package from 0). */
    resumedAt: number
    /** What the last download's package is (rebuilder.ts PackageKind: 0 the image, 1 a delta, 2 a compressed image). */
    packageKind: number
}

/** Where the download's parts report progress (a method, not a closure: see the heap notes). */
export interface ProgressSink {
    progress(state: SotaState, target: string, bytes: number, total: number, reason?: SotaReason, detail?: string): void
}
