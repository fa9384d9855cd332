// `--modem <where>`: the firmware's portable code (src/at, src/sota, src/flash, src/verify) in
// this process, driving a real module on a serial port or across TCP instead of the emulator.
// The MCU side is SimDevice's: its NOR flash (persisted with --flash FILE, so an interrupted
// desktop run resumes like a power-cut MCU) and an MCU rebuilt on every reboot, while the link
// to the module stays open (the module does not reboot when the MCU does). There is no
// emulator and no Developer Center here: the plan comes from the real platform.

import { closeSync, existsSync, openSync, readSync } from "node:fs"
import { createHash } from "node:crypto"
import { layoutFor, makeImage, Reboot, SECTOR, SimDevice } from "../device/device"
import type { PlanResult, StartResult } from "../../src/sota/engine"
import { SotaError } from "../../src/sota/reasons"
import { LinkError, ModuleLink, parseTcpAddress, TcpTransport } from "../link/tcp-transport"
import { SerialTransport } from "../link/serial-transport"
import { firstContact, formatReport, ModuleReport } from "./first-contact"
import { fileProblem, SimOptions } from "./options"
import { CommonSummary, errorSummary, SimResult, SimSummary, summarize } from "./summary"
import { View } from "./view"
import { storeState } from "../../src/flash/image-store"

/** Exit code when the module cannot be reached or used (2 is bad options, 1 an unhealthy device). */
export const EXIT_LINK = 3

/** A run that could not reach or use the module (or its --flash file): the common summary plus where. */
export interface LinkErrorSummary extends CommonSummary {
    result: "link-error"
    modem: string
    module: ModuleReport | null
}

export interface ModemSummary extends SimSummary {
    /** --modem as given */
    modem: string
    /** the first-contact report */
    module: ModuleReport
    /** --flash, or null (a flash that lives only in this run) */
    flashFile: string | null
    /** the store had no image and got the generated --from image (first use of the flash) */
    factoryInstalled: boolean
    /** AT+QIOTOTARD payload bytes read in this run */
    bytesRead: number
    /** where this run's download started thanks to the journal (0: from scratch) */
    resumedAt: number
    /** a download is journaled: another run with the same --flash resumes it */
    resumable: boolean
    /** bytes the journal holds (verified) at the end */
    journalBytes: number
    /** SHA-256 of the image running at the end */
    runningSha256: string
    /** times the link dropped during the run */
    linkDrops: number
}

/** Open `where`: tcp://HOST:PORT or a serial port. Throws LinkError. */
export async function openModuleLink(where: string, baud: number, notice: (t: string) => void): Promise<ModuleLink> {
    if (parseTcpAddress(where)) return TcpTransport.connect(where, { notice })
    return SerialTransport.open(where, { baud, notice })
}

/** Slot size of an existing --flash file (its geometry wins), or null for a new file. */
function slotOfFile(file: string): number | null {
    if (!existsSync(file)) return null
    const hdr = Buffer.alloc(32)
    let got = 0
    try {
        const fd = openSync(file, "r")
        try {
            got = readSync(fd, hdr, 0, 32, 0)
        } finally {
            closeSync(fd)
        }
    } catch (e) {
        throw new LinkError("flash-file", `--flash ${file}: ${fileProblem(e)}`)
    }
    const size = hdr.readUInt32LE(16)
    const geometry = hdr.readUInt32LE(8) === SECTOR && hdr.readUInt32LE(12) === PROGRAM_UNIT && size > 2 * SECTOR
    // never advise deleting it: it may be anything (a typo naming a document)
    if (got < 32 || hdr.toString("latin1", 0, 8) !== "NORSIM01" || !geometry)
        throw new LinkError("flash-file", `--flash ${file}: not a flash file of this simulator; name a new file (it is created) or one an earlier --modem run made`)
    const slot = (size - 2 * SECTOR) / 2
    if (slot % SECTOR !== 0) throw new LinkError("flash-file", `--flash ${file}: unexpected geometry (${size} bytes)`)
    return slot
}

/** SimDevice's NOR program unit (its default). */
const PROGRAM_UNIT = 8

function sha256(b: Buffer): string {
    return createHash("sha256").update(b).digest("hex")
}

/** Run one upgrade against the module at o.modem; prints like the emulator run. Returns the summary (main prints it). */
export async function runModem(o: SimOptions, view: View): Promise<ModemSummary | LinkErrorSummary> {
    const where = o.modem
    const notice = (t: string) => view.line(`link: ${t}`)
    let link: ModuleLink = null
    let d: SimDevice = null
    let report: ModuleReport = null
    const closeAll = async () => {
        if (link) await link.close()
        if (d) d.flash.close()
    }
    // Ctrl-C: every flash operation is already in the file; what the journal holds resumes
    const onSignal = () => {
        view.line("interrupted: run again with the same --flash to resume")
        closeAll().finally(() => process.exit(130))
    }
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    try {
        const slot = o.flash ? (slotOfFile(o.flash) ?? o.slot) : o.slot // a local problem is told first
        view.wait(`opening ${where}`)
        link = await openModuleLink(where, o.modemBaud, notice)
        const factory = makeImage(Math.min(o.size || 27954, layoutFor(slot).slotSize), 99)
        const t0 = Date.now()
        try {
            d = new SimDevice({
                moduleLink: link,
                flashFile: o.flash ?? undefined,
                slotSize: slot,
                factoryImage: factory,
                component: o.component,
                fromVersion: o.from,
                engine: { blockSize: o.block, restartTimeoutMs: o.modemWait * 1000 },
                trace: o.trace ? line => view.trace(line) : undefined,
            })
        } catch (err: any) {
            throw new LinkError("flash-file", `--flash ${o.flash ?? "(in memory)"}: ${fileProblem(err)}`)
        }
        view.line(`sim: node engine, module on ${where}${parseTcpAddress(where) ? "" : ` at ${o.modemBaud} baud`}, flash ${o.flash ?? "(in memory)"}`)

        view.wait(`waiting for the module on ${where} to answer (up to ${o.modemWait} s)`)
        report = await firstContact(d.tap, where, { waitMs: o.modemWait * 1000, block: o.block, baud: parseTcpAddress(where) ? 0 : o.modemBaud })
        view.wait(null)
        for (const l of formatReport(report, where)) view.line(l)
        if (report.fatal) throw new LinkError("not-configured", report.fatal)

        // first use of the flash: factory-install --from so that there is something to boot
        const probe = d.newStore()
        await probe.mount()
        const factoryInstalled = !storeState(probe).slots.some(s => s.state === "confirmed" || s.state === "trial")
        if (factoryInstalled) {
            await d.install()
            view.line(`flash: factory-installed ${o.from} (${factory.length} bytes, generated)`)
        } else if (probe.journal()) view.line(`flash: a download of ${probe.journal().version} is journaled at ${probe.journal().verified} bytes: resuming`)
        d.flash.resetCounters()
        const metaErases0 = d.metaErases()

        d.listeners.push(p => view.progress(p))
        let bytesRead = 0
        let retries = 0
        let checkpoints = 0
        let resumedAt = 0
        let plan: PlanResult = null
        let first: StartResult = null
        let last: StartResult = null
        let rolledBack = false
        let startError: SotaError = null
        let packageKind = 0
        for (let boot = 0; boot < 8; boot++) {
            const e = d.powerOn()
            let again = false
            try {
                last = await e.start()
                if (!first) first = last
                rolledBack = rolledBack || last.trial === "rolled-back"
                // a confirmed new image or a rollback ends the run (no new request in this run)
                if (!rolledBack && last.trial !== "confirmed") {
                    plan = await e.checkForUpdate()
                    again = plan.result === "rebooting"
                }
            } catch (err) {
                // start() failing (registration, a link that stays down) ends the run; the flash keeps its state
                if (err instanceof SotaError) startError = err
                else if (!(err instanceof Reboot)) throw err
                again = !startError
            }
            bytesRead += e.stats.bytesRead
            retries += e.stats.blockRetries
            checkpoints += e.stats.checkpoints
            if (e.stats.bytesRead > 0 && !resumedAt) resumedAt = e.stats.resumedAt
            if (e.stats.bytesRead > 0) packageKind = e.stats.packageKind
            if (!again) break
        }
        const seconds = (Date.now() - t0) / 1000

        // the outcome, from the flash as a bootloader reads it: no emulator to ask
        const s = d.newStore()
        await s.mount()
        const st = storeState(s)
        const running = st.active >= 0 ? st.slots[st.active] : null
        const image = running ? await s.read(st.active, 0, running.size) : Buffer.alloc(0)
        const healthy = !!running && running.state === "confirmed"
        const offered = d.progress.find(p => p.state === "offered")
        const target = offered ? offered.target : last && last.trial === "confirmed" ? last.version : ""
        const journal = s.journal()
        let result: SimResult = "failed"
        let reason: string | null = startError ? startError.reason : plan ? plan.reason : "no-plan"
        if (healthy && target && running.version === target) [result, reason] = ["upgraded", null]
        else if (rolledBack) {
            result = "rolled-back"
            reason = d.progress.find(p => p.state === "rolled-back")?.reason ?? "rolled-back"
        } else if (plan && plan.result === "refused") result = "refused"
        else if (plan && plan.result === "no-plan" && !startError) reason = "no-plan"
        if (startError) view.line(`start-up failed: ${startError.message}`)

        const tap = d.tap
        const baud = parseTcpAddress(where) ? 0 : o.modemBaud
        const floor = tap.uartFloorSeconds(baud, 0) // a real module's latency is in what was measured, not in the floor
        const total = offered ? offered.total : journal ? journal.total : 0
        const summary: ModemSummary = {
            ...summarize({
                result,
                reason,
                version: running ? running.version : "?",
                // against a real module the MCU side has no boot stage and no firmware images (yet)
                runningVersion: null,
                runningSha256: null,
                packageSha256: null,
                signature: null,
                securityCounter: null,
                healthy,
                engine: "node",
                from: first ? first.version : o.from,
                detail: startError ? startError.message : plan && plan.reason === reason ? plan.detail : null,
                run: "modem",
                to: target || (journal ? journal.version : ""),
                // a rebuilt image's size is the store's once it is in; a package's otherwise
                imageBytes: packageKind && healthy && running.version === target ? running.size : total,
                packageKind: packageKind === 1 ? "delta" : packageKind === 2 ? "compressed" : "full",
                packageBytes: total,
                tap,
                seconds,
                uartFloor: floor,
                floor,
                baud,
                latencyMs: 0,
                boots: d.boots,
                cuts: 0,
                rereadBytes: total > 0 ? Math.max(0, bytesRead + resumedAt - total) : 0,
                blockRetries: retries,
                journalCheckpoints: checkpoints,
                metaErases: d.metaErases() - metaErases0,
            }),
            modem: where,
            module: report,
            flashFile: o.flash,
            factoryInstalled,
            bytesRead,
            resumedAt,
            resumable: journal !== null && result !== "upgraded",
            journalBytes: journal ? journal.verified : 0,
            runningSha256: sha256(image),
            linkDrops: link.drops,
        }
        if (plan && plan.reason === "too-large")
            view.line(`the package does not fit a slot of ${d.layout.slotSize} bytes: use a new --flash file with a larger --slot`)
        if (summary.resumable)
            view.line(
                `resume: ${journal.verified} of ${journal.total} bytes of ${journal.version} are journaled` +
                    (o.flash ? `; run again with --flash ${o.flash} to go on from there` : "; without --flash they are lost when this run ends")
            )
        return summary
    } catch (err) {
        if (!(err instanceof LinkError)) throw err
        return { ...errorSummary(o, "modem", "link-error", err.code, err.message), modem: where, module: report } as LinkErrorSummary
    } finally {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
        await closeAll()
    }
}
