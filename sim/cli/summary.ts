// The closing summary of a simulator run: what happened, what runs now, and how long it took
// against the floors the line and the simulator impose (issue 6: the node engine's download
// phase must stay within 1.05 × the UART floor).

export type SimResult = "upgraded" | "rolled-back" | "refused" | "failed"

export interface SimSummary {
    result: SimResult
    reason: string | null
    /** the version running at the end (the store's record of the running slot) */
    version: string
    /** the version the running program reports (compiled into it); null when no program reported one */
    runningVersion: string | null
    /** the SHA-256 of the image the boot stage launched last; null when none was launched */
    runningSha256: string | null
    /** the SHA-256 of the image the Developer Center served (its checked TLV); null when the package is no image */
    packageSha256: string | null
    /** running a valid, confirmed image at the end (decides the exit code) */
    healthy: boolean
    engine: "node" | "vm"
    from: string
    to: string
    imageBytes: number
    /** bytes on the UART, both directions, the whole run */
    uartBytes: number
    seconds: number
    /** first AT+QIOTOTARD to the end of the last reply */
    downloadSeconds: number
    /** that phase's UART bytes at the line rate plus the module latency per command */
    uartFloorSeconds: number
    /** the floor that applies to this engine (node: the UART floor) */
    floorSeconds: number
    /** downloadSeconds / floorSeconds (0 when there is no floor) */
    floorRatio: number
    baud: number
    latencyMs: number
    boots: number
    cuts: number
    /** AT+QIOTOTARD payload bytes beyond one full download */
    rereadBytes: number
    blockRetries: number
    /** records and erases of the metadata area during the run */
    journalCheckpoints: number
    metaErases: number
}

import type { LineTap } from "../device/tap"

/** What each engine knows at the end of a run; summarize() derives the rest the same way for all. */
export interface RunFacts
    extends Pick<
        SimSummary,
        | "result"
        | "reason"
        | "version"
        | "runningVersion"
        | "runningSha256"
        | "packageSha256"
        | "healthy"
        | "engine"
        | "from"
        | "to"
        | "imageBytes"
        | "baud"
        | "latencyMs"
        | "boots"
        | "cuts"
        | "rereadBytes"
        | "blockRetries"
        | "journalCheckpoints"
        | "metaErases"
    > {
    tap: LineTap
    seconds: number
    /** the UART floor of the download phase, and the floor that applies to this engine */
    uartFloor: number
    floor: number
}

export function summarize(f: RunFacts): SimSummary {
    const download = f.tap.downloadSeconds()
    return {
        result: f.result,
        reason: f.reason,
        version: f.version,
        runningVersion: f.runningVersion,
        runningSha256: f.runningSha256,
        packageSha256: f.packageSha256,
        healthy: f.healthy,
        engine: f.engine,
        from: f.from,
        to: f.to,
        imageBytes: f.imageBytes,
        uartBytes: f.tap.bytesToMcu + f.tap.bytesToModule,
        seconds: round(f.seconds),
        downloadSeconds: round(download),
        uartFloorSeconds: round(f.uartFloor),
        floorSeconds: round(f.floor),
        floorRatio: f.floor > 0 ? round(download / f.floor) : 0,
        baud: f.baud,
        latencyMs: f.latencyMs,
        boots: f.boots,
        cuts: f.cuts,
        rereadBytes: f.rereadBytes,
        blockRetries: f.blockRetries,
        journalCheckpoints: f.journalCheckpoints,
        metaErases: f.metaErases,
    }
}

export function round(x: number, digits = 3): number {
    const f = 10 ** digits
    return Math.round(x * f) / f
}
