// The closing summary of a simulator run: what happened, what runs now, and how long it took
// against the floors the line and the simulator impose (issue 6: the node engine's download
// phase must stay within 1.05 × the UART floor).

export type SimResult = "upgraded" | "rolled-back" | "refused" | "failed"

export interface SimSummary {
    result: SimResult
    reason: string | null
    /** the version running at the end */
    version: string
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

export function round(x: number, digits = 3): number {
    const f = 10 ** digits
    return Math.round(x * f) / f
}
