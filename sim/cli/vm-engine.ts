// `--engine vm` (the default): the real firmware (src/simulator/main.ts, prebuilt to .devs) runs in
// DeviceScript's VM (`devs run`) against the simulator host:
//
//   devs run firmware.devs ──ws── devs devtools hub ──ws── jacdac-ts bus, device "sim-io"
//                                                             ├ Serial "flash" ─ FlashServer ─ NOR model
//   devs run's TCP socket ── 127.0.0.1:8084 (sim/host/flash-socket.ts) ─ FlashServer ─ the same NOR model
//                                                             └ Serial "modem" ─ ModemBridge ─ LineTap ─ UART line ─ module emulator + Developer Center
//
// The world (module, Developer Center, UART line, NOR flash, factory image) is sim/device's
// SimDevice, as for the node engine; only the MCU is elsewhere. The firmware prints one line per
// SOTA event (src/simulator/main.ts); this follows them to draw the view, to apply the faults that are
// timed by the download, and to decide when the run is over:
//   - a boot whose start() confirmed the new image, or the first boot after a rollback that does
//     not reboot again, ends the run (as in the node engine: no new request in the same run);
//   - so does a plan result other than "rebooting" (no plan, refused, failed), or a firmware error;
//   - a plan run (--components N: the components profile) goes on after the confirm: the firmware
//     serves the plan's next component (DATA, after the program's version report) in the same boot,
//     and the run ends at that plan's result (or the no-plan after the last component), as the node
//     engine's walk does (a "deferred" refusal does not end it either: the firmware asks again at
//     the consent's time); the summary's `components` is read from the outcome records on the flash;
//   - every launch is the boot stage's (sim/boot/boot-stage.ts, MCUboot's role): before the VM
//     starts, the host decides and records the boot on the NOR model, checks the chosen image and
//     runs that image's program (its body, a .devs file). So the firmware's reboot is a reset the
//     host does: the program prints SOTA-RESET and waits; so is a program that panics (an
//     exception nobody caught), and one that does not start up within the watchdog's time;
//   - a power cut: the NOR model's cut fires (cut@op=N, or cut@block=N armed at the firmware's
//     report of block N, so that it lands on the next flash operation, as in the node engine);
//     the host then kills the VM at once (the MCU loses power with its flash), powers the flash
//     back on and launches again through the boot stage (a cut during the stage's own record runs
//     the stage again). Hub, host, flash and module keep running.
// When the run is over both channels are frozen first (nothing the firmware still does reaches
// the models), then everything started here is stopped, by process id, whatever happened.
//
// The firmware reaches the flash over the TCP socket, its only link (src/simulator/socket-flash.ts):
// the VM sends at most 50 Jacdac packets/s (its send throttle), which made the flash channel, not
// the UART, the download's bottleneck (1.46-1.6× the UART floor at 115 200 baud); the Jacdac
// "flash" service stays for programs that use it (examples/simulator), not as a fallback.
// floorSeconds: the larger of the UART floor (as the node engine's) and the VM → host link's
// floor: the Jacdac packets the firmware sent during the download phase (AT commands on the
// modem channel, and flash requests when they went over Jacdac) at the VM's ≈ 50 packets/s
// (reference/devicescript.md §10 Q2).

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { PlanResult, StartResult } from "../../src/sota/engine"
import type { SotaProgress, SotaStats } from "../../src/sota/progress"
import { AtReceiver } from "../../src/at/receiver"
import { quectelLineTable } from "../../src/at/line-table"
import type { StoreLayout } from "../../src/flash/store-config"
import { SimDevice } from "../device/device"
import { FlashServer } from "../flash/flash-server"
import { ChannelGate, ModemBridge } from "../host/bridge"
import { FlashSocket } from "../host/flash-socket"
import { Hub } from "../host/hub"
import { portHolder } from "../host/processes"
import { FLASH_SOCKET_PORT } from "../../src/simulator/flash-protocol"
import { JacdacIo } from "../host/jacdac-io"
import { Vm } from "../host/vm"
import { SimOptions } from "./options"
import { round, SimSummary, summarize } from "./summary"
import { View } from "./view"
import { buildSimWorld, runOutcome } from "./world"
import { FaultRun } from "./fault-spec"
import type { NodeProgram } from "../device/device"
import { componentSummaries, otherPackageBytes } from "./plan-options"

/** Packets per second the VM sends at most, whatever their size (§10 Q2). */
export const VM_PACKETS_PER_SECOND = 50
/** Boots after which a run that has not settled is failed. */
const MAX_BOOTS = 12
/** The watchdog: a launched program that has not finished its start-up (SOTA-START) by then is reset. */
export const WATCHDOG_MS = 45_000

/** The engine's stats as the firmware prints them, plus the flash channel's retries. */
interface BootStats extends SotaStats {
    flashRetries: number
}

/** Figures beyond the summary, for tests and benchmarks. */
export interface VmRunDetails {
    firmwareBuildMs: number
    /** Packets the VM sent on each channel during the download phase. */
    modemPackets: number
    flashPackets: number
    linkFloorSeconds: number
    uartFloorSeconds: number
    /** ms from each VM launch (or ds.restart() request) to the firmware's SOTA-READY line. */
    readyMs: number[]
    /** What the host answered to the firmware's board-settings queries. */
    simCfgQueries: number
    /** The firmware's stats, summed over boots (a killed boot counts what it had reported; resumedAt: the largest). */
    firmware: BootStats
    /** Hashing/flash channel retries etc. the flash server saw. */
    flashServer: object
    /** Connections to the flash socket (one per boot that used it; 0: the firmware used the Jacdac channel). */
    flashSocketOpens: number
    vmLines: string[]
    /** Date.now() of every packet the VM sent on each channel, and of the download phase's ends. */
    modemPacketTimes: number[]
    flashPacketTimes: number[]
    downloadFrom: number
    downloadTo: number
}

export interface VmEngineEnv {
    /** Project root (node_modules/.bin/devicescript, src/). Default: this file's ../.. */
    root?: string
    /** Give up on a run that has not settled after this long. Default 90 s + 1 s per KB. */
    timeoutMs?: number
    /** Pin the roles through the VM's Role Manager (jacdac-io.ts). Default false. */
    pin?: boolean
    details?: (d: VmRunDetails) => void
    /** The watchdog's time (default WATCHDOG_MS). */
    watchdogMs?: number
    /** Called once with the run's world, before the first launch (the web view reads its flash, acts on its module and line). */
    world?: (d: SimDevice) => void
}

/** Launch folders of runs whose process is gone (killed by a signal before its cleanup ran). */
function removeStaleRunDirs(simDir: string) {
    if (!existsSync(simDir)) return
    for (const name of readdirSync(simDir)) {
        const m = /^run-(\d+)-\d+$/.exec(name)
        if (!m || Number(m[1]) === process.pid) continue
        try {
            process.kill(Number(m[1]), 0) // throws ESRCH when no such process
        } catch (e: any) {
            if (e.code === "ESRCH") rmSync(join(simDir, name), { recursive: true, force: true })
        }
    }
}

function zeroStats(): BootStats {
    return { bytesRead: 0, blocks: 0, blockRetries: 0, checkpoints: 0, moduleRestarts: 0, resumedAt: 0, packageKind: 0, flashRetries: 0 }
}

function parseLine(line: string): { tag: string; body: any } | null {
    if (!line.startsWith("SOTA")) return null
    const sp = line.indexOf(" ")
    if (sp < 0) return null
    try {
        return { tag: line.slice(0, sp), body: JSON.parse(line.slice(sp + 1)) }
    } catch {
        return null
    }
}

function sameLayout(a: StoreLayout, b: StoreLayout): boolean {
    return (
        a.metaAddress === b.metaAddress &&
        a.metaSectors === b.metaSectors &&
        a.slotSize === b.slotSize &&
        a.slotAddress.length === 2 &&
        a.slotAddress[0] === b.slotAddress[0] &&
        a.slotAddress[1] === b.slotAddress[1]
    )
}

export async function runVmEngine(o: SimOptions, view: View, env: VmEngineEnv = {}): Promise<SimSummary> {
    const root = env.root ?? fileURLToPath(new URL("../..", import.meta.url))

    // ---- the world, faults included (built as for the node engine)
    const tb = Date.now()
    const { d, image, target, packageSha256 } = await buildSimWorld(o, view, root)
    const buildMs = Date.now() - tb
    env.world?.(d)
    d.flash.resetCounters()
    const metaErases0 = d.metaErases()
    const faults = new FaultRun(o.faults, d, o) // arms the power cuts, tells which faults fired
    // the programs the boot stage launches, one file per launch
    const simDir = join(root, ".devicescript/sim")
    removeStaleRunDirs(simDir)
    const runDir = join(simDir, `run-${process.pid}-${Date.now()}`)
    mkdirSync(runDir, { recursive: true })

    // ---- UART truth: AT+QIOTOTARD payload bytes that crossed the line towards the MCU
    let payloadBytes = 0
    let inRead = false
    const counter = new AtReceiver(
        quectelLineTable(),
        {
            line: () => {},
            payloadStart: h => {
                inRead = h.startsWith("+QIOTOTARD:")
            },
            payloadData: (_b, s, e) => {
                if (inRead) payloadBytes += e - s
            },
            payloadEnd: () => {
                inRead = false
            },
            fault: () => {},
        },
        { maxPayload: 1 << 20 }
    )

    let hub: Hub = null
    let io: JacdacIo = null
    let vm: Vm = null
    let flashGate: ChannelGate = null
    let modemGate: ChannelGate = null
    let server: FlashServer = null
    let socket: FlashSocket = null
    let socketGate: ChannelGate = null
    let socketServer: FlashServer = null
    let bridge: ModemBridge = null
    let watch: NodeJS.Timeout = null
    const vmLines: string[] = []
    const readyMs: number[] = []

    // ---- the run's state, driven by the firmware's lines
    const t0 = Date.now()
    /** a plan run: the confirm does not end it (the plan's next component comes in the same boot) */
    const walk = !!(o.plan && o.plan.asked)
    let boots = 0
    let cuts = 0
    let rolledBack = false
    let rolledBackReason: string = null
    let rebootingThisBoot = false
    let plan: PlanResult = null
    let failure: { reason: string; detail: string } = null
    const totals = zeroStats()
    let current = zeroStats()
    let launchedAt = 0
    let launches = 0
    let started = false
    let runningVersion: string | null = null
    let runningSha256: string | null = null
    let signature: "ed25519" | null = null
    let relaunch: (why: string) => void = null
    let endRun: (why: string) => void = null
    /** The run is decided: what the firmware does after that is not part of it. */
    let over = false
    const ended = new Promise<string>(resolve => {
        endRun = why => {
            over = true
            if (flashGate) flashGate.frozen = true
            if (socketGate) socketGate.frozen = true
            if (modemGate) modemGate.frozen = true
            resolve(why)
        }
    })
    const closeBoot = () => {
        for (const k of Object.keys(totals) as (keyof BootStats)[])
            totals[k] = k === "resumedAt" ? Math.max(totals[k], current[k]) : totals[k] + current[k]
        current = zeroStats()
    }
    const fail = (reason: string, detail: string) => {
        if (!failure) failure = { reason, detail }
        endRun(reason)
    }

    const onFirmwareLine = (line: string) => {
        if (over) return
        vmLines.push(line)
        if (vmLines.length > 400) vmLines.shift()
        const m = parseLine(line)
        if (!m) {
            if (o.trace || /PANIC|Exception|Error/.test(line)) view.line(`  vm: ${line}`)
            // an exception nobody caught: the VM stops the program (and would start it again by itself)
            if (line.startsWith("PANIC")) relaunch("the program panicked")
            return
        }
        const b = m.body
        if (b && b.stats) current = b.stats
        switch (m.tag) {
            case "SOTA-BOOT":
                closeBoot()
                boots++
                started = false
                rebootingThisBoot = false
                if (boots > 1) view.line(`  (boot ${boots})`)
                if (boots > MAX_BOOTS) fail("too-many-boots", `${boots} boots without settling`)
                break
            case "SOTA-READY":
                readyMs.push(Date.now() - launchedAt)
                if (!sameLayout(b.layout, d.layout))
                    fail("layout-mismatch", `the firmware derived ${JSON.stringify(b.layout)}, the host built ${JSON.stringify(d.layout)}`)
                else if (!b.board || !b.board.fromHost) fail("no-board-settings", "the firmware did not get its board settings from the host")
                break
            case "SOTA": {
                const p = b as SotaProgress
                view.progress(p)
                if (p.state === "rolled-back") {
                    rolledBack = true
                    rolledBackReason = p.reason ?? "rolled-back"
                }
                if (p.state === "rebooting") {
                    rebootingThisBoot = true
                    launchedAt = Date.now() // ds.restart(): the next SOTA-READY counts from here
                }
                faults.progress(p) // cut@block=N lands on the next flash operation, as in the node engine
                break
            }
            case "SOTA-RESET":
                relaunch(`the program asked for a reset (${b.why})`)
                break
            case "SOTA-IMAGE":
                // the program's own word: its compiled version, and the SHA-256 TLV of the image in its slot
                runningVersion = b.version
                view.line(`  running ${b.version} from slot ${b.slot}, image SHA-256 ${String(b.sha256).slice(0, 16)}…`)
                if (b.sha256 !== runningSha256) fail("image-mismatch", `the program reads SHA-256 ${b.sha256} in its slot; the boot stage launched ${runningSha256}`)
                break
            case "SOTA-START": {
                started = true
                const s = b as StartResult
                if (s.trial === "rolled-back") {
                    rolledBack = true
                    rolledBackReason ??= "rolled-back"
                }
                if (s.trial === "confirmed" && !walk) endRun("confirmed")
                else if (rolledBack && !rebootingThisBoot) endRun("rolled-back")
                break
            }
            case "SOTA-PLAN":
                plan = b as PlanResult
                // a plan run's deferral: the firmware asks again by itself when the consent's time comes
                if (walk && plan.result === "refused" && plan.reason === "deferred") break
                if (plan.result !== "rebooting") endRun(`plan ${plan.result}`)
                break
            case "SOTA-ERROR":
                if (!d.flash.isOff()) {
                    view.line(`  firmware error (${b.where}): ${b.message}`)
                    fail("firmware-error", b.message)
                }
                break
        }
    }

    let summary: SimSummary
    try {
        view.wait("starting the devs hub (devs devtools)")
        hub = await Hub.start({
            root,
            log: l => {
                if (l.startsWith("waiting for another")) view.wait(l) // the lock: another run holds the hub
                if (o.trace) view.trace(`hub: ${l}`)
            },
        })
        view.wait("connecting to the devs hub")
        io = await JacdacIo.start({ pin: !!env.pin, log: o.trace ? l => view.trace(l) : undefined })
        flashGate = new ChannelGate(io.flash)
        modemGate = new ChannelGate(io.modem)
        server = new FlashServer(d.flash, flashGate)
        // the firmware's only way to its flash (no Jacdac fallback): a taken port is HostError("port-busy")
        socket = await FlashSocket.start()
        socketGate = new ChannelGate(socket)
        socketServer = new FlashServer(d.flash, socketGate)
        bridge = new ModemBridge(
            modemGate,
            d.tap,
            () => ({ battery: d.battery, selfTestPasses: d.selfTestOk, blockSize: o.block, component: o.component, bootStage: true }),
            up => io.modem.setLink(up)
        )
        bridge.onToMcu = chunk => counter.feed(chunk)

        vm = new Vm("", {
            root,
            onLine: onFirmwareLine,
            onExit: (code, sig) => fail("vm-exited", `devs run exited (${code ?? sig})`),
        })
        // every start of the MCU: (power off), the boot stage, the program it chose
        let launching = false
        const launch = async (why: string) => {
            if (launching || over) return
            launching = true
            try {
                if (vm.running()) await vm.kill()
                closeBoot()
                if (launches > 0) view.line(`  reset: ${why}`)
                let program: NodeProgram = null
                while (!program) {
                    try {
                        program = await d.bootStage()
                    } catch (err) {
                        if (!d.flash.isOff()) return fail("no-image", `the boot stage found nothing to run: ${(err as Error).message}`)
                        cuts++ // the power went during the stage's record: the next power-on runs it again
                        faults.powerOn()
                        view.line(`  power cut ${cuts}: during the boot stage`)
                    }
                }
                for (const r of program.launch.refused) view.line(`  boot stage: slot ${r.slot} refused: ${r.reason}`)
                runningSha256 = program.launch.sha256
                signature = program.launch.signedBy >= 0 ? "ed25519" : null
                const file = join(runDir, `launch-${++launches}.devs`)
                writeFileSync(file, program.launch.program)
                launchedAt = Date.now()
                started = false
                view.wait("starting the VM (devs run)") // until the firmware's first progress line
                if (!over) vm.start(file)
            } finally {
                launching = false
            }
        }
        relaunch = why => void launch(why)
        // the power cut: the NOR model's cut fired; the MCU goes down with it. And the watchdog.
        const watchdogMs = env.watchdogMs ?? WATCHDOG_MS
        watch = setInterval(() => {
            if (launching || over || !vm) return
            if (d.flash.isOff()) {
                cuts++
                faults.powerOn()
                view.line(`  power cut ${cuts}: the VM was killed; starting it again`)
                relaunch("power cut")
            } else if (!started && launchedAt && Date.now() - launchedAt > watchdogMs) relaunch(`the watchdog: no start-up in ${watchdogMs} ms`)
        }, 5)
        const timeoutMs = env.timeoutMs ?? 90_000 + Math.ceil(Math.max(image.length, target.length) / 1024) * 1000
        const timer = setTimeout(() => fail("timeout", `the run did not settle in ${timeoutMs} ms`), timeoutMs)
        await launch("power-on")
        await ended
        view.wait(null)
        clearTimeout(timer)
        clearInterval(watch)
        watch = null
        closeBoot()
        await vm.stop()

        // ---- the summary, from the flash and the line (as the node engine's)
        const seconds = (Date.now() - t0) / 1000
        const { result, reason, version, healthy, securityCounter } = await runOutcome(d, o, {
            plan,
            rolledBack: rolledBack ? rolledBackReason ?? "rolled-back" : null,
            failure,
        })

        const tap = d.tap
        const uartFloor = tap.uartFloorSeconds(o.baud, o.latency)
        const modemPackets = tap.firstRead ? modemGate.packetsBetween(tap.firstRead, tap.downloadEnd) : 0
        const flashPackets = tap.firstRead ? flashGate.packetsBetween(tap.firstRead, tap.downloadEnd) : 0
        const linkFloor = (modemPackets + flashPackets) / VM_PACKETS_PER_SECOND
        const floor = Math.max(uartFloor, linkFloor)
        const download = tap.downloadSeconds()
        summary = summarize({
            result,
            reason,
            version,
            runningVersion,
            runningSha256,
            packageSha256,
            signature,
            securityCounter,
            healthy,
            engine: "vm",
            from: o.from,
            to: o.to,
            imageBytes: target.length,
            packageKind: o.packageKind,
            profile: o.profile,
            packageBytes: image.length,
            tap,
            seconds,
            uartFloor,
            floor,
            linkFloor,
            baud: o.baud,
            latencyMs: o.latency,
            boots,
            cuts,
            rereadBytes: Math.max(0, payloadBytes - image.length - otherPackageBytes(o.plan)),
            blockRetries: totals.blockRetries,
            journalCheckpoints: totals.checkpoints,
            metaErases: d.metaErases() - metaErases0,
            detail: failure ? failure.detail : plan && plan.reason === reason ? plan.detail : null,
            faults,
        })
        if (walk) summary.components = await componentSummaries(d, o.plan, o.component)
        if (failure) view.line(`run ended: ${failure.reason}: ${failure.detail}`)
        view.line(
            `vm: download ${round(download)} s; floors: UART ${round(uartFloor)} s, link ${round(linkFloor)} s ` +
                `(${modemPackets} modem + ${flashPackets} flash packets at ${VM_PACKETS_PER_SECOND}/s); ` +
                `firmware ready ${readyMs.join("/")} ms after each launch or restart`
        )
        env.details?.({
            firmwareBuildMs: buildMs,
            modemPackets,
            flashPackets,
            linkFloorSeconds: round(linkFloor),
            uartFloorSeconds: round(uartFloor),
            readyMs,
            simCfgQueries: bridge.queries,
            firmware: totals,
            flashServer: addStats(server.stats, socketServer?.stats),
            flashSocketOpens: socket ? socket.opens : 0,
            vmLines: vmLines.slice(),
            modemPacketTimes: modemGate.packetTimes.slice(),
            flashPacketTimes: flashGate.packetTimes.slice(),
            downloadFrom: tap.firstRead,
            downloadTo: tap.downloadEnd,
        })
        if (failure && (failure.reason === "vm-exited" || failure.reason === "timeout" || failure.reason === "firmware-error"))
            view.line(`last firmware lines:\n  ${vmLines.slice(-20).join("\n  ")}`)
    } finally {
        if (watch) clearInterval(watch)
        if (flashGate) flashGate.frozen = true
        if (socketGate) socketGate.frozen = true
        if (modemGate) modemGate.frozen = true
        await vm?.stop().catch(() => {})
        await socket?.close().catch(() => {})
        await io?.stop().catch(() => {})
        await hub?.stop()
        d.flash.close()
        rmSync(runDir, { recursive: true, force: true })
    }
    return summary
}

/** The two flash servers' counters (Jacdac channel and socket) as one. */
function addStats<T extends object>(a: T, b: T | undefined): T {
    const out = { ...a } as Record<string, number>
    if (b) for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + (v as number)
    return out as T
}
