// The QuecThing module emulator: bytes in from the MCU → echo → command lines → handlers →
// bytes out, plus the URCs the module sends on its own (registration, OTA events, DFOTA,
// RDY after a reboot). It knows nothing of the firmware that drives it: only bytes.
//
//   const [mcu, modem] = createPipe()          // or: const line = new UartLine({ baud: 115200 })
//   const module = new QuecModule(modem, { devCenter, nvm: { productKey, productSecret } })
//   // the MCU side writes "AT+QIOTREG=1\r" to `mcu` and reads what comes back
//
// Like a real module after power-on: echo on, 115200 8N1 is the line's business, commands
// handled one at a time in order of arrival, each answered `latencyMs` after its CR.
// Timing uses setTimeout only, so vitest fake timers give a virtual clock; with every delay
// at 0 it is still asynchronous (a timer tick per step).

import type { ByteTransport } from "../../src/link/transport"
import { Rng } from "../lib/rng"
import { AtCommand, parseCommand } from "./at-command"
import { CommandReader } from "./command-reader"
import { commandTable } from "./commands"
import { DevCenter } from "./dev-center"
import { Dfota, DfotaOptions, resolveDfotaOptions, ResolvedDfotaOptions } from "./dfota"
import { FaultAction, FaultPlan, FaultRule } from "./faults"
import { defaultNvm, ModuleNvm } from "./nvm"
import { OtaController } from "./ota-controller"
import { QiotConnection } from "./qiot-connection"
import { encodeLine, encodeReply, Reply } from "./reply"

/** A transport the module can also cut (power loss), such as PipeEnd or a UartLine end. */
export interface ModuleTransport extends ByteTransport {
    setLink?(up: boolean): void
}

export interface QuecModuleOptions {
    /** The platform. Without one, connections always succeed and no plan is ever offered. */
    devCenter?: DevCenter
    imei?: string
    manufacturer?: string
    model?: string
    /** Firmware revision (ATI) of a module fresh from the factory; nvm.revision overrides. */
    revision?: string
    /** Saved configuration at start (product info, MCU versions, DeviceSecret...). */
    nvm?: Partial<ModuleNvm>
    /** The module's SOTA buffer: the package arrives in pieces of this size. Default 32768. */
    pieceSize?: number
    /** Largest AT+QIOTOTARD block (`=?` reports it). Default 1024. */
    maxRead?: number
    /** AT+QIOTUPDATE=2 is an ERROR unless every byte of the piece was read. Default false. */
    requireFullRead?: boolean
    /** Send 10702 before each later piece's 10703 too. Default false (once per plan). */
    repeat10702?: boolean
    /** Time from a command's CR to its reply. A number, or per command line. Default 0. */
    latencyMs?: number | ((line: string) => number)
    /** Power-on time: from the reset to `RDY`. Default 1000. */
    bootMs?: number
    /** Time to connect to the platform after AT+QIOTREG=1 (until 2,10200). Default 0. */
    registerMs?: number
    /** Platform round trip for a plan request, a confirmation, a piece. Default 0. */
    cloudMs?: number
    /** Cellular download speed for pieces; 0: instant (only cloudMs). Default 0. */
    downloadBytesPerSec?: number
    /** After a lost connection, reconnect after this long. Default 5000. */
    reconnectMs?: number
    /** While connected, ask the platform for plans this often (SDK 2.9.2+: 10 minutes); 0: never. */
    planCheckMs?: number
    /** A multi-component plan's 10700 left unanswered this long is withdrawn with 10708; 0: never. Default 600000. */
    operationTimeoutMs?: number
    /** The network's time zone for AT+CCLK?, minutes east of UTC (a multiple of 15). Default 0. */
    utcOffsetMin?: number
    /** Received signal strength in dBm (AT+CSQ). Default -75. */
    signalDbm?: number
    /** Longest command line accepted. Default 1024. */
    maxLine?: number
    /** Lines sent after a reboot. Default ["RDY"]. */
    bootUrcs?: string[]
    faults?: FaultPlan | FaultRule[]
    /** Seed for the fault plan (when given as rules) and other random choices. Default 1. */
    seed?: number
    dfota?: DfotaOptions
}

export interface ResolvedOptions {
    pieceSize: number
    maxRead: number
    requireFullRead: boolean
    repeat10702: boolean
    latency: (line: string) => number
    bootMs: number
    registerMs: number
    cloudMs: number
    downloadBytesPerSec: number
    reconnectMs: number
    planCheckMs: number
    operationTimeoutMs: number
    utcOffsetMin: number
    maxLine: number
    bootUrcs: string[]
    dfota: ResolvedDfotaOptions
}

/** Power state: on, resetting (silent, deaf), or running the DFOTA updater (URCs only). */
export type PowerState = "on" | "off" | "updater"

/** Unrelated URCs for the urc-burst fault: things a real module says on its own. */
export const UNRELATED_URCS = [
    "+QIOTEVT: 4,10210",
    "+QIOTEVT: 5,10210",
    "+QIOTEVT: 8,10428",
    '+QIND: "csq",18,99',
    "+CPIN: READY",
    "+QUSIM: 1",
    "+QIND: SMS DONE",
    '+QIURC: "pdpdeact",1',
]

export class QuecModule {
    readonly opts: ResolvedOptions
    readonly devCenter: DevCenter | null
    readonly faults: FaultPlan
    readonly imei: string
    readonly manufacturer: string
    readonly model: string
    readonly nvm: ModuleNvm
    readonly conn: QiotConnection
    readonly ota: OtaController
    readonly dfota: Dfota
    /** Every command line the module received, in order (what the MCU sent, as seen here). */
    readonly received: string[] = []
    /** RAM: echo (ATE), on after every power-on. */
    echo = true
    signalDbm: number
    power: PowerState = "on"
    reboots = 0

    private transport: ModuleTransport
    private reader: CommandReader
    private queue: string[] = []
    private busy = false
    private timers = new Set<ReturnType<typeof setTimeout>>()
    private planCheck: ReturnType<typeof setInterval> | null = null
    private reply: Reply | null = null
    private rng: Rng

    constructor(transport: ModuleTransport, options: QuecModuleOptions = {}) {
        const o = options
        const latency = o.latencyMs
        this.opts = {
            pieceSize: o.pieceSize || 32768,
            maxRead: o.maxRead || 1024,
            requireFullRead: !!o.requireFullRead,
            repeat10702: !!o.repeat10702,
            latency: typeof latency === "function" ? latency : () => latency || 0,
            bootMs: o.bootMs === undefined ? 1000 : o.bootMs,
            registerMs: o.registerMs || 0,
            cloudMs: o.cloudMs || 0,
            downloadBytesPerSec: o.downloadBytesPerSec || 0,
            reconnectMs: o.reconnectMs === undefined ? 5000 : o.reconnectMs,
            planCheckMs: o.planCheckMs === undefined ? 600000 : o.planCheckMs,
            operationTimeoutMs: o.operationTimeoutMs === undefined ? 600000 : o.operationTimeoutMs,
            utcOffsetMin: o.utcOffsetMin || 0,
            maxLine: o.maxLine || 1024,
            bootUrcs: o.bootUrcs || ["RDY"],
            dfota: resolveDfotaOptions(o.dfota),
        }
        this.devCenter = o.devCenter || null
        const seed = o.seed === undefined ? 1 : o.seed
        this.rng = new Rng(seed)
        this.faults = o.faults instanceof FaultPlan ? o.faults : new FaultPlan(o.faults || [], seed)
        this.imei = o.imei || "866123456789012"
        this.manufacturer = o.manufacturer || "Quectel"
        this.model = o.model || "BG95-M3"
        const nvm = defaultNvm(o.revision || "BG95M3LAR02A03")
        this.nvm = { ...nvm, ...(o.nvm || {}) }
        this.signalDbm = o.signalDbm === undefined ? -75 : o.signalDbm
        this.transport = transport
        this.reader = new CommandReader(
            { line: t => this.onLine(t), overflow: () => this.onOverflow() },
            this.opts.maxLine,
        )
        this.conn = new QiotConnection(this)
        this.ota = new OtaController(this)
        this.dfota = new Dfota(this)
        transport.listen({ data: chunk => this.onBytes(chunk), link: () => {} })
        for (const [index, rule] of this.faults.timed()) {
            // not a tracked timer: a scripted moment survives the reboots it may cause
            setTimeout(() => {
                this.faults.noteTimed(index)
                this.applyAsync(rule.action)
            }, rule.afterMs)
        }
        if (this.nvm.regMode === 2 && this.conn.configured()) this.conn.start()
    }

    // ---- what tests and the simulator CLI can do to the module ----

    /** Reset the module now: the line drops, RAM is lost, `RDY` after bootMs. */
    reboot() {
        this.powerCycle(this.opts.bootMs, () => this.boot())
    }

    /** The network drops the platform connection (an active download fails with 10706). */
    loseCloud() {
        this.conn.lose()
    }

    /** Send `count` unrelated URCs now. */
    urcBurst(count: number) {
        for (let i = 0; i < count; i++) this.urc(this.faults.choose(UNRELATED_URCS))
    }

    setSignal(dbm: number) {
        this.signalDbm = dbm
    }

    // ---- for command handlers ----

    /** Send a URC line (dropped while the module is off). Resolves when the line has taken it. */
    urc(line: string): Promise<void> {
        if (this.power === "off") return Promise.resolve()
        return this.tx(encodeLine(line))
    }

    /** Run `fn` once the current command's reply is on the wire (at once outside a command). */
    afterReply(fn: () => void) {
        if (this.reply) this.reply.after.push(fn)
        else fn()
    }

    /** A timer that a power loss cancels. */
    timer(ms: number, fn: () => void) {
        const t = setTimeout(() => {
            this.timers.delete(t)
            fn()
        }, Math.max(0, ms))
        this.timers.add(t)
    }

    /** Report the MCU versions to the platform (on connect and after AT+QIOTMCUVER). */
    reportVersions() {
        if (this.devCenter && this.conn.connected())
            this.devCenter.reportVersions(this.conn.deviceKey(), this.nvm.mcuVersions.slice())
    }

    startPlanChecks() {
        this.stopPlanChecks()
        if (this.opts.planCheckMs > 0) this.planCheck = setInterval(() => this.ota.planAvailable(), this.opts.planCheckMs)
    }

    stopPlanChecks() {
        if (this.planCheck !== null) clearInterval(this.planCheck)
        this.planCheck = null
    }

    /**
     * Power-cycle: cancel all pending work, lose RAM, drop the line (when the transport can),
     * and after `downMs` bring the line back and run `onUp` (normally boot()).
     */
    powerCycle(downMs: number, onUp: () => void) {
        this.reboots++
        this.power = "off"
        for (const t of this.timers) clearTimeout(t)
        this.timers.clear()
        this.reader.reset()
        this.queue = []
        this.busy = false
        this.reply = null
        this.echo = true
        this.conn.powerLoss()
        this.ota.onPowerLoss()
        this.dfota.onPowerLoss()
        if (this.transport.setLink) this.transport.setLink(false)
        // the boot timer is tracked too: a second reset while booting restarts the boot
        this.timer(downMs, () => {
            if (this.transport.setLink) this.transport.setLink(true)
            onUp()
        })
    }

    /** The firmware is up: boot URCs (RDY), then connect if AT+QIOTREG=2 was saved. */
    boot() {
        this.power = "on"
        for (const l of this.opts.bootUrcs) this.urc(l)
        if (this.nvm.regMode === 2 && this.conn.configured()) this.conn.start()
    }

    /** Enter or leave the DFOTA updater (the line is up, URCs flow, commands are ignored). */
    setPower(p: PowerState) {
        this.power = p
    }

    /** Bytes to the MCU, in order. Resolves when the transport has taken them. */
    tx(bytes: Buffer): Promise<void> {
        try {
            return this.transport.write(bytes).catch(() => {})
        } catch {
            return Promise.resolve() // the line is down: the bytes are lost
        }
    }

    // ---- the receive path ----

    private onBytes(chunk: Buffer) {
        if (this.power !== "on") return // resetting, or busy in the updater: deaf
        if (this.echo) this.tx(Buffer.from(chunk))
        this.reader.feed(chunk)
    }

    private onOverflow() {
        this.queue.push("") // an over-long line: answered ERROR in turn
        this.pump()
    }

    private onLine(text: string) {
        this.queue.push(text)
        this.pump()
    }

    private pump() {
        if (this.busy || this.queue.length === 0) return
        this.busy = true
        // the command task runs after the receive path (the echo goes out first)
        this.timer(0, () => this.execute(this.queue.shift()))
    }

    private execute(line: string) {
        this.received.push(line)
        const faults = line === "" ? [] : this.faults.forCommand(line)
        const has = (k: FaultAction["kind"]) => faults.some(f => f.kind === k)
        if (has("reboot")) {
            this.reboot()
            return
        }
        if (has("no-reply")) {
            this.done()
            return
        }
        const reply = new Reply()
        const cmd = line === "" ? null : parseCommand(line)
        if (has("error") || cmd === null) reply.error()
        else {
            this.reply = reply
            try {
                this.dispatch(cmd, reply)
            } finally {
                this.reply = null
            }
        }
        for (const f of faults) if (f.kind === "bad-package") this.ota.corrupt(f.offset)
        let delay = this.opts.latency(line)
        for (const f of faults) if (f.kind === "delay") delay += f.ms
        this.timer(delay, () => this.respond(reply, faults))
    }

    private dispatch(cmd: AtCommand, reply: Reply) {
        const handler = commandTable[cmd.name]
        if (!handler) reply.error()
        else handler(this, cmd, reply)
        if (reply.final === null && reply.parts.length === 0 && reply.after.length === 0) reply.error()
    }

    private respond(reply: Reply, faults: FaultAction[]) {
        for (const f of faults) if (f.kind === "urc-burst") this.urcBurst(f.count)
        const cut = faults.find(f => f.kind === "reboot-mid-payload")
        if (cut && cut.kind === "reboot-mid-payload" && reply.hasPayload()) {
            // the partial reply reaches the wire, then the module dies
            this.tx(encodeReply(reply, { cutPayloadAfter: cut.afterBytes })).then(() => {
                setTimeout(() => this.reboot(), 0)
            })
            return
        }
        for (const f of faults)
            if (f.kind === "short-read")
                for (const p of reply.parts) if (p.kind === "payload") p.data = p.data.subarray(0, Math.min(p.data.length, f.bytes))
        let lieBy = 0
        for (const f of faults) if (f.kind === "lie-length") lieBy += f.by
        this.tx(encodeReply(reply, { lieBy }))
        for (const fn of reply.after) fn()
        if (faults.some(f => f.kind === "cloud-loss")) this.conn.lose()
        this.done()
    }

    private done() {
        this.busy = false
        this.pump()
    }

    /** A time-triggered fault. */
    private applyAsync(a: FaultAction) {
        if (a.kind === "reboot" || a.kind === "reboot-mid-payload") this.reboot()
        else if (a.kind === "cloud-loss") this.loseCloud()
        else if (a.kind === "urc-burst") this.urcBurst(a.count)
        else if (a.kind === "bad-package") this.ota.corrupt(a.offset)
    }

    /** A seeded number for callers that need one (e.g. the CLI). */
    random(): number {
        return this.rng.next()
    }
}
