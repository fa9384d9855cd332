// The closing summary of a simulator run: what happened, what runs now, and how long it took
// against the floors the line and the simulator impose (issue 6: the node engine's download
// phase must stay within 1.05 × the UART floor). Every run (SOTA in either engine, --modem,
// --module-upgrade, and a run that could not start) begins with the same fields, CommonSummary;
// docs/summary.schema.json writes the shape down and test/cli checks it.

import type { FaultRun } from "./fault-spec"
import type { FirmwareProfile } from "../boot/firmware-image"

export type RunKind = "sota" | "modem" | "module-upgrade"

/** link-error: --modem cannot reach or use the module; error: the run could not start, or the simulator failed. */
export type SimResult = "upgraded" | "rolled-back" | "refused" | "failed" | "link-error" | "error"

export interface CommonSummary {
    result: SimResult
    /** why, when the result is not "upgraded": a SOTA or DFOTA reason, or the error's kind */
    reason: string | null
    /** the reason in words (null when there is no reason, or nothing more to say) */
    detail: string | null
    run: RunKind
    /** what runs at the end: the MCU's version (the module's revision for a module upgrade); null or "?" when unknown */
    version: string | null
    /** decides the exit code; null when the run never reached the device */
    healthy: boolean | null
    engine: "node" | "vm" | null
    /** the upgrade asked for: versions (revisions for a module upgrade) */
    from: string | null
    to: string | null
    seconds: number
    /** the --fault specs as written, by whether they fired */
    faultsFired: string[]
    faultsNotFired: string[]
    /** the process's exit code (see --help; --strict changes it) */
    exitCode: number
}

export interface SimSummary extends CommonSummary {
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
    /** the signature the boot stage checked on the image it launched last ("ed25519"); null when none was checked */
    signature: "ed25519" | null
    /** the store's security counter at the end (raised only by a confirm); null without a store to read */
    securityCounter: number | null
    /** the firmware profile both images were built from (options.ts): "signed", "delta"; null when the run built none */
    profile: FirmwareProfile | null
    /** running a valid, confirmed image at the end (decides the exit code) */
    healthy: boolean
    engine: "node" | "vm"
    from: string
    to: string
    /** bytes of the image the package delivers */
    imageBytes: number
    /** what the package is: the image, a delta from the running image, the image compressed */
    packageKind: "full" | "delta" | "compressed"
    /** bytes of the package the module delivered (the image's for a full package) */
    packageBytes: number
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
    /** vm engine only: the simulator link's floor, the Jacdac packets the VM sent in the download phase at its 50 packets/s */
    linkFloorSeconds?: number
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
    /** a plan run (sim/cli/plan-options.ts): one entry per component, from its outcome record */
    components?: ComponentSummary[]
}

import type { ComponentSummary } from "./plan-options"
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
        | "signature"
        | "securityCounter"
        | "healthy"
        | "engine"
        | "from"
        | "to"
        | "imageBytes"
        | "packageKind"
        | "packageBytes"
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
    /** the simulator link's floor, where there is one (the vm engine) */
    linkFloor?: number
    /** the reason in words (a failure's or the plan's detail) */
    detail?: string | null
    /** the run's faults, to tell which fired */
    faults?: FaultRun
    run?: RunKind
    /** the firmware profile of the run's images (null or absent: none built, e.g. --modem) */
    profile?: FirmwareProfile | null
}

export function summarize(f: RunFacts): SimSummary {
    const download = f.tap.downloadSeconds()
    const fired = f.faults ? f.faults.report() : { faultsFired: [], faultsNotFired: [] }
    return {
        result: f.result,
        reason: f.reason,
        detail: f.reason === null ? null : f.detail || null,
        run: f.run ?? "sota",
        version: f.version,
        runningVersion: f.runningVersion,
        runningSha256: f.runningSha256,
        packageSha256: f.packageSha256,
        signature: f.signature,
        securityCounter: f.securityCounter,
        profile: f.profile ?? null,
        healthy: f.healthy,
        engine: f.engine,
        from: f.from,
        to: f.to,
        imageBytes: f.imageBytes,
        packageKind: f.packageKind,
        packageBytes: f.packageBytes,
        uartBytes: f.tap.bytesToMcu + f.tap.bytesToModule,
        seconds: round(f.seconds),
        downloadSeconds: round(download),
        uartFloorSeconds: round(f.uartFloor),
        floorSeconds: round(f.floor),
        floorRatio: f.floor > 0 ? round(download / f.floor) : 0,
        ...(f.linkFloor !== undefined ? { linkFloorSeconds: round(f.linkFloor) } : {}),
        baud: f.baud,
        latencyMs: f.latencyMs,
        boots: f.boots,
        cuts: f.cuts,
        rereadBytes: f.rereadBytes,
        blockRetries: f.blockRetries,
        journalCheckpoints: f.journalCheckpoints,
        metaErases: f.metaErases,
        ...fired,
        exitCode: exitCode(f.result, f.healthy, false),
    }
}

export const EXIT = { ok: 0, unhealthy: 1, usage: 2, cannotRun: 3, notUpgraded: 4 } as const

/** The exit code of a run that ended this way (--help: exit codes). */
export function exitCode(result: SimResult, healthy: boolean | null, strict: boolean, reason: string | null = null): number {
    if (result === "error") return reason === "usage" ? EXIT.usage : reason === "internal" ? EXIT.unhealthy : EXIT.cannotRun
    if (result === "link-error") return EXIT.cannotRun
    if (healthy !== true) return EXIT.unhealthy
    return strict && result !== "upgraded" ? EXIT.notUpgraded : EXIT.ok
}

/** The summary of a run that could not start or did not finish (usage, a file, ports, a crash). */
export function errorSummary(
    o: { engine: "node" | "vm"; from: string; to: string } | null,
    run: RunKind,
    result: "error" | "link-error" | "failed",
    reason: string,
    detail: string,
    seconds = 0
): CommonSummary {
    return {
        result,
        reason,
        detail,
        run,
        version: null,
        healthy: null,
        engine: o ? o.engine : null,
        from: o ? o.from : null,
        to: o && run === "sota" ? o.to : null,
        seconds: round(seconds),
        faultsFired: [],
        faultsNotFired: [],
        exitCode: exitCode(result, null, false, reason),
    }
}

export function round(x: number, digits = 3): number {
    const f = 10 ** digits
    return Math.round(x * f) / f
}
