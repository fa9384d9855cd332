// `npm run sim -- --module-upgrade URL`: the MCU drives a firmware upgrade of the module itself
// (DFOTA, src/dfota) against the emulator, which serves a delta package at that location
// (an HTTP or FTP server with the file, or a file in the module's file system for UFS:).
// The location is checked by options.ts before anything runs. The summary is the common one
// (summary.ts): "version" is the module's revision at the end, "healthy" that the module answers
// (it came back), and "dfota" src/dfota's result (stage, code, revisions, timings).

import { AtClient } from "../../src/at/client"
import { parseLocation, LocationError } from "../../src/dfota/location"
import { runModuleUpgrade } from "../../src/dfota/dfota"
import { DfotaResult } from "../../src/dfota/result"
import { SimDevice } from "../device/device"
import { SimOptions } from "./options"
import { CommonSummary, exitCode, round } from "./summary"
import { View } from "./view"

/** The revision the emulated module runs before the upgrade, and the one the package brings. */
export const REVISION_BEFORE = "BG95M3LAR02A03"
export const REVISION_AFTER = "BG95M3LAR02A04"

export interface ModuleUpgradeSummary extends CommonSummary {
    run: "module-upgrade"
    engine: "node"
    /** src/dfota's result, but for what the common fields already say (ok, reason, detail) */
    dfota: Omit<DfotaResult, "ok" | "reason" | "detail">
}

/** The emulator's DFOTA servers (or module file system) hold a package at `location`. */
function serve(location: string) {
    const loc = parseLocation(location)
    const file = { fromRevision: REVISION_BEFORE, toRevision: REVISION_AFTER, size: 256 * 1024 }
    if (loc instanceof LocationError) return { servers: {}, ufs: null as string } // the driver refuses it first
    if (loc.scheme === "ufs") return { servers: {}, ufs: loc.path }
    const server: any = { files: { [loc.path]: file } }
    if (loc.scheme === "ftp") {
        server.user = loc.user
        server.password = loc.password
    }
    return { servers: { [loc.host]: server }, ufs: null as string }
}

/** DFOTA's result in the common shape. */
export function moduleSummary(r: DfotaResult, seconds: number): ModuleUpgradeSummary {
    const { ok, reason, detail, ...dfota } = r
    const healthy = reason !== "no-return" // the module answers at the end
    const result = ok ? "upgraded" : reason === "bad-location" || reason === "bad-option" ? "refused" : "failed"
    return {
        result,
        reason: ok ? null : reason,
        detail: ok ? null : detail || null,
        run: "module-upgrade",
        version: r.revisionAfter || (healthy && r.revisionBefore ? r.revisionBefore : null),
        healthy,
        engine: "node",
        from: r.revisionBefore || REVISION_BEFORE,
        to: REVISION_AFTER,
        seconds: round(seconds),
        faultsFired: [],
        faultsNotFired: [],
        exitCode: exitCode(result, healthy, false),
        dfota,
    }
}

export async function runModuleUpgradeCli(o: SimOptions, location: string, view: View): Promise<ModuleUpgradeSummary> {
    const { servers, ufs } = serve(location)
    const d = new SimDevice({
        module: {
            revision: REVISION_BEFORE,
            latencyMs: o.latency,
            dfota: { servers, downloadBytesPerSec: 256 * 1024, rebootMs: 1000, stepMs: 20, finalBootMs: 500 },
        },
        uart: { baud: o.baud, seed: o.seed },
        trace: o.trace ? line => view.trace(line) : undefined,
    })
    if (ufs) d.module.nvm.ufsFiles.set(ufs, { fromRevision: REVISION_BEFORE, toRevision: REVISION_AFTER })
    view.line(`sim: module upgrade (DFOTA) from ${location}, module ${REVISION_BEFORE}, node engine, ${o.baud ? o.baud + " baud" : "unpaced"}`)
    const at = new AtClient(d.tap, { feedSlice: 1 << 16 })
    const t0 = Date.now()
    const r = await runModuleUpgrade(at, location, {}, p => view.moduleProgress(p))
    return moduleSummary(r, (Date.now() - t0) / 1000)
}
