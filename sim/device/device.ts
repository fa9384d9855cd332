// An in-process device, for the tests and for `npm run sim -- --engine node`: the module
// emulator and its Developer Center on one side of a line (an unpaced pipe, or the paced UART
// model with byte faults), a NOR flash on the other, and an MCU whose RAM (AT client, image
// store object, SOTA engine) is rebuilt on every reboot while the flash and the module keep
// their state. The same portable src/ code the firmware runs; only the wiring is here. With
// `moduleLink` the MCU side drives a module elsewhere instead (`npm run sim -- --modem`).

import { AtClient } from "../../src/at/client"
import { createPipe } from "../../src/link/pipe"
import type { ByteTransport } from "../../src/link/transport"
import { ImageStore } from "../../src/flash/image-store"
import { StoreLayout, StoreOptions } from "../../src/flash/store-config"
import { PlanResult, SotaEngine, StartResult } from "../../src/sota/engine"
import { SotaConfig } from "../../src/sota/config"
import { PackageRebuilder } from "../../src/sota/rebuild"
import { Components } from "../../src/sota/components"
import { OutcomeKeeper } from "../../src/flash/outcome-keeper"
import { SotaProgress } from "../../src/sota/progress"
import { NorFlash, PowerCut } from "../flash/nor-flash"
import type { Flash } from "../../src/flash/flash"
import { DevCenter, Package } from "../module/dev-center"
import { QuecModule, QuecModuleOptions } from "../module/module"
import { UartLine, UartLineOptions } from "../link/uart-line"
import { Rng } from "../lib/rng"
import { LineTap } from "./tap"
import { Launch, imageSecurityCounter, runBootStage } from "../boot/boot-stage"
import type { TrustedKey } from "../../src/image/signature"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { readIdentity } from "../boot/firmware-image"
import { dataLayoutAtEnd, META_SECTORS } from "../../src/simulator/sim-board"

export const SECTOR = 4096
export const PRODUCT = { productKey: "p11tst", productSecret: "RMWdemoSecretDlt", imei: "866123456789012", deviceSecret: "ds-sim" }

/** Two metadata sectors, then two slots of `slotSize` rounded up to whole sectors. */
export function layoutFor(slotSize: number): StoreLayout {
    const slot = Math.ceil(slotSize / SECTOR) * SECTOR
    return { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 2 * SECTOR + slot], slotSize: slot }
}

/**
 * A firmware image like the walk-through's: seeded bytes with the traps a line parser falls
 * into (CR, LF, NUL, "\r\nOK\r\n", a URC) so that every run exercises the payload framing.
 */
export function makeImage(size: number, seed: number): Buffer {
    const b = Buffer.alloc(size)
    const rng = new Rng(seed)
    for (let i = 0; i < size; i++) b[i] = rng.int(256)
    const trap = Buffer.from("\r\nOK\r\n\r\nERROR\r\n+QIOTEVT: 7,10706\r\n")
    if (size > 200 + trap.length) trap.copy(b, 200)
    if (size > 1023) {
        b[1022] = 10
        b[1023] = 13
    }
    return b
}

/** Thrown by the simulated platform's reboot(): unwinds the engine like a reset. */
export class Reboot extends Error {
    constructor() {
        super("reboot")
        this.name = "Reboot"
    }
}

export interface DeviceOptions {
    packageSize?: number
    /** the package's bytes (default: generated from packageSize): the new image, or a delta or compressed package of it (targetImage) */
    image?: Buffer
    /** the image the package delivers when it is not the image itself (a delta, a compressed image) */
    targetImage?: Buffer
    /** bytes per slot (rounded up to sectors); default: the package size rounded up */
    slotSize?: number
    fromVersion?: string
    toVersion?: string
    /** a delta package's source version (default: a full package) */
    sourceVersion?: string
    component?: string
    module?: QuecModuleOptions
    /** the paced UART model instead of an unpaced pipe */
    uart?: UartLineOptions
    /** the engine's configuration over the defaults (a delta applier, PackageRebuilder, included: `rebuilder: undefined` takes it out) */
    engine?: Partial<SotaConfig>
    /** the image store's own rules (allowDowngrade, checkpointBytes, ...) */
    store?: StoreOptions
    programUnit?: number
    minBattery?: number
    minSignal?: number
    /** the plan is offered even to a device running its version (--from X --to X) */
    offerRunning?: boolean
    /** print the AT dialogue */
    trace?: (line: string) => void
    /** AtClient feed slice: Node needs no VM-sized slices (see src/at/client.ts) */
    feedSlice?: number
    /**
     * Drive this transport (a real module, or one across a socket) instead of building the
     * emulator: there is no Developer Center, package or module here (dc, pkg, module and
     * moduleEnd stay undefined), and the line is whatever the transport is.
     */
    moduleLink?: ByteTransport
    /** Persist the NOR flash to this file (created if missing, loaded if present). */
    flashFile?: string
    /** The factory (old) image; default: generated, as large as the package. */
    factoryImage?: Buffer
    /** The keys the boot stage requires images to be signed with (default: the compiled-in keys; null: none). */
    bootKeys?: TrustedKey[] | null
    /**
     * A data component beside the program (issue 20): its own store (two metadata sectors and two
     * slots of `slotSize`) after the program's slots, factory-installed at `version` by install();
     * the engine gets it as SotaConfig.components.
     */
    data?: { name: string; version: string; slotSize: number; image?: Buffer }
}

/**
 * The data component's store right after the program's slots: the flash ends there, and its layout
 * is the firmware's own rule (src/simulator/sim-board.ts dataLayoutAtEnd), so host and VM agree.
 */
export function dataLayoutFor(program: StoreLayout, slotSize: number): StoreLayout {
    const slotSectors = Math.ceil(slotSize / SECTOR)
    const size = program.slotAddress[1] + program.slotSize + (META_SECTORS + 2 * slotSectors) * SECTOR
    return dataLayoutAtEnd({ sectorSize: SECTOR, size: size, programUnit: 1 }, slotSectors)
}

/** A program the boot stage launched, as the node engine runs it: its identity read from its bytes. */
export interface NodeProgram {
    launch: Launch
    /** The version compiled into the program. */
    version: string
    /** "good", or a bad program's behaviour (throws, hangs, self-test-fail). */
    behaviour: string
}

/** The emulated platform: a product with the component, the package, a plan for it, the device. */
export function buildDevCenter(o: DeviceOptions, data: Buffer): { dc: DevCenter; pkg: Package } {
    const component = o.component ?? "STM32"
    const dc = new DevCenter()
    dc.addProduct({ productKey: PRODUCT.productKey, productSecret: PRODUCT.productSecret }).addComponent(PRODUCT.productKey, component)
    const pkg = dc.addPackage({
        productKey: PRODUCT.productKey,
        component,
        version: o.toVersion ?? "2_0_0",
        sourceVersion: o.sourceVersion,
        data,
    })
    dc.createPlan({ packageId: pkg.id, minBattery: o.minBattery ?? 30, minSignal: o.minSignal ?? -113, offerRunning: o.offerRunning })
    dc.addDevice(PRODUCT.productKey, PRODUCT.imei, PRODUCT.deviceSecret)
    return { dc, pkg }
}

/** The emulator's options: the simulated device's product info is already configured. */
export function emulatorOptions(o: DeviceOptions, dc: DevCenter): QuecModuleOptions {
    return {
        devCenter: dc,
        imei: PRODUCT.imei,
        ...(o.module || {}),
        nvm: { productKey: PRODUCT.productKey, productSecret: PRODUCT.productSecret, deviceSecret: PRODUCT.deviceSecret },
    }
}

export class SimDevice {
    dc: DevCenter
    pkg: Package
    module: QuecModule
    flash: NorFlash
    layout: StoreLayout
    /** the factory image (old version) */
    image1: Buffer
    tap: LineTap
    /** the module's end: a test may write raw lines the MCU will take as the module's */
    moduleEnd: ByteTransport
    line: UartLine | null = null
    battery = 100
    selfTestOk = true
    progress: SotaProgress[] = []
    listeners: ((p: SotaProgress) => void)[] = []
    boots = 0
    cfg: SotaConfig
    /** the MCU of the current boot */
    engine: SotaEngine
    store: ImageStore
    at: AtClient
    /** The data component's layout, factory image, and the store of the current boot (options.data). */
    dataLayout: StoreLayout | null = null
    dataImage1: Buffer | null = null
    dataStore: ImageStore | null = null
    /** The application's check of new data (DataComponent.check). */
    dataCheckOk = true

    constructor(readonly o: DeviceOptions = {}) {
        const data = o.image ?? makeImage(o.packageSize ?? 27954, 7)
        const component = o.component ?? "STM32"
        if (o.moduleLink) this.tap = new LineTap(o.moduleLink, o.trace)
        else {
            const platform = buildDevCenter(o, data)
            this.dc = platform.dc
            this.pkg = platform.pkg
            let mcuEnd: ByteTransport
            if (o.uart) {
                this.line = new UartLine(o.uart)
                mcuEnd = this.line.mcu
                this.moduleEnd = this.line.module
            } else {
                const [a, b] = createPipe()
                mcuEnd = a
                this.moduleEnd = b
            }
            this.tap = new LineTap(mcuEnd, o.trace)
            this.module = new QuecModule(this.moduleEnd as any, emulatorOptions(o, this.dc))
        }
        this.layout = layoutFor(o.slotSize ?? data.length)
        let size = this.layout.slotAddress[1] + this.layout.slotSize
        if (o.data) {
            this.dataLayout = dataLayoutFor(this.layout, o.data.slotSize)
            size = this.dataLayout.slotAddress[1] + this.dataLayout.slotSize
            this.dataImage1 = o.data.image ?? makeImage(Math.min(o.data.slotSize, 700), 98)
        }
        this.flash = new NorFlash({ sectorSize: SECTOR, programUnit: o.programUnit ?? 8, size, file: o.flashFile })
        // Node has no opcode budget: hashing need not sleep between slices
        this.cfg = { component, yielder: async () => {}, rebuilder: new PackageRebuilder(), ...(o.engine || {}) }
        this.image1 = o.factoryImage ?? makeImage(Math.min(data.length, this.layout.slotSize), 99)
    }

    /** Factory-install the old version as the confirmed image (before the first boot). */
    async install() {
        const s = this.newStore()
        await s.mount()
        await s.startReceive({ version: this.o.fromVersion ?? "1_0_0", size: this.image1.length })
        for (let off = 0; off < this.image1.length; off += 1024)
            await s.write(off, this.image1.subarray(off, Math.min(off + 1024, this.image1.length)))
        await s.markReady()
        await s.activate(true, await imageSecurityCounter(this.image1)) // the factory image sets the store's security counter
        if (this.o.data) {
            const d = new ImageStore(this.flash, this.dataLayout!, { yielder: async () => {}, yieldEvery: 1 << 30 })
            await d.mount()
            await d.startReceive({ version: this.o.data.version, size: this.dataImage1!.length })
            for (let off = 0; off < this.dataImage1!.length; off += 1024)
                await d.write(off, this.dataImage1!.subarray(off, Math.min(off + 1024, this.dataImage1!.length)))
            await d.markReady()
            await d.activate(true)
        }
    }

    newStore(extra: StoreOptions = {}) {
        return new ImageStore(this.flash, this.layout, { yielder: async () => {}, yieldEvery: 1 << 30, outcomes: new OutcomeKeeper(), ...(this.o.store || {}), ...extra })
    }

    /**
     * The host's boot stage (sim/boot/boot-stage.ts) on this device's flash, before a program runs:
     * what it launched, read as the node engine runs it (the identity line in the program's bytes).
     */
    async bootStage(): Promise<NodeProgram> {
        const launch = await runBootStage(this.flash, this.layout, { keys: this.o.bootKeys === undefined ? TRUSTED_KEYS : (this.o.bootKeys ?? undefined) })
        const id = readIdentity(launch.program)
        return { launch, version: id ? id.version : "", behaviour: id ? id.behaviour : "not-a-firmware" }
    }

    /**
     * A fresh MCU: what survives a reset is only the flash and the module. With `program` (what the
     * boot stage launched), the engine is that program: its version, its self-test, and a store that
     * learns the stage's choice instead of deciding again.
     */
    powerOn(program?: NodeProgram): SotaEngine {
        this.boots++
        const epoch = ++this.epoch
        this.epochPowerOns = this.flash.powerOns
        this.at = new AtClient(this.mcuLink(epoch), { feedSlice: this.o.feedSlice ?? 1 << 16 })
        const extra: StoreOptions = program ? { externalBoot: true } : {}
        this.store = new ImageStore(this.mcuFlash(epoch), this.layout, { yielder: async () => {}, yieldEvery: 1 << 30, outcomes: new OutcomeKeeper(), ...(this.o.store || {}), ...extra })
        const self = this
        const passes = () => self.selfTestOk && (!program || program.behaviour !== "self-test-fail")
        let cfg: SotaConfig = program ? { ...this.cfg, version: program.version } : this.cfg
        if (this.o.data) {
            this.dataStore = new ImageStore(this.mcuFlash(epoch), this.dataLayout!, { yielder: async () => {}, yieldEvery: 1 << 30, outcomes: new OutcomeKeeper() })
            cfg = { ...cfg, components: new Components([{ name: this.o.data.name, store: this.dataStore, check: async () => self.dataCheckOk }]) }
        }
        this.engine = new SotaEngine(
            this.at,
            this.store,
            {
                reboot: async () => {
                    throw new Reboot()
                },
                battery: async () => self.battery,
                selfTest: async () => passes(),
            },
            cfg
        )
        this.engine.onProgress(p => {
            self.progress.push(p)
            for (const l of self.listeners) l(p)
        })
        return this.engine
    }

    /**
     * A boot's MCU acts only while it is the current boot and its power is on. In Node its code
     * goes on running after a power cut (or after the next boot began) until it next awaits
     * something; from the instant of the cut everything it sends is dropped (the line stays
     * silent) and every flash access fails as the cut itself, so a dead MCU can neither talk nor
     * write, whatever its code does. deadBytes and deadFlashOps count what such code tried.
     */
    private epoch = 0
    private epochPowerOns = 0
    deadBytes = 0
    deadFlashOps = 0

    private alive(epoch: number): boolean {
        return epoch === this.epoch && !this.flash.isOff() && this.flash.powerOns === this.epochPowerOns
    }

    private mcuLink(epoch: number): ByteTransport {
        const tap = this.tap
        return {
            write: async (data: Buffer) => {
                if (!this.alive(epoch)) {
                    this.deadBytes += data.length
                    return
                }
                return tap.write(data)
            },
            listen: events => tap.listen(events),
        }
    }

    private mcuFlash(epoch: number): Flash {
        const flash = this.flash
        const gate = () => {
            if (this.alive(epoch)) return
            this.deadFlashOps++
            throw new PowerCut("off", flash.ops)
        }
        return {
            geometry: flash.geometry,
            read: async (address: number, length: number) => {
                gate()
                return flash.read(address, length)
            },
            program: async (address: number, data: Buffer) => {
                gate()
                return flash.program(address, data)
            },
            eraseSector: async (address: number) => {
                gate()
                return flash.eraseSector(address)
            },
        }
    }

    /** Erases of the metadata sectors so far (the store's wear). */
    metaErases(): number {
        const counts: ArrayLike<number> = (this.flash as any).eraseCounts
        const first = this.layout.metaAddress / this.flash.geometry.sectorSize
        let n = 0
        for (let i = 0; i < this.layout.metaSectors; i++) n += counts[first + i]
        return n
    }

    /** The image the package delivers: the package itself, or a delta's or compressed package's target. */
    newImage(): Buffer {
        return this.o.targetImage ?? this.pkg.data
    }

    /** What the device runs now, read from the store as a bootloader would (writes nothing). */
    async runningImage(): Promise<{ version: string; bytes: Buffer; state: string }> {
        const s = this.newStore()
        await s.mount()
        const st = (s as any).st
        const info = st.slots[st.active]
        return { version: info.version, bytes: await s.read(st.active, 0, info.size), state: info.state }
    }

    /** "old" or "new" when a confirmed image byte-identical to one of them runs; else throws. */
    async healthy(): Promise<"old" | "new"> {
        const img = await this.runningImage()
        if (img.state !== "confirmed") throw new Error(`running slot is ${img.state}`)
        if (img.version === (this.o.fromVersion ?? "1_0_0") && img.bytes.equals(this.image1)) return "old"
        if (img.version === (this.o.toVersion ?? "2_0_0") && img.bytes.equals(this.newImage())) return "new"
        throw new Error(`running ${img.version}, ${img.bytes.length} bytes, matching neither image`)
    }
}

export interface BootLog {
    start?: StartResult
    plan?: PlanResult
    rebooted: boolean
    /** the flash lost power during this boot (a simulated power cut) */
    cut?: boolean
}

/** How a caller lets time pass while a promise runs: identity in real time, a clock driver in tests. */
export type Drive = <T>(p: Promise<T>) => Promise<T>

/**
 * Power the device on, start it, ask for an update; again after every reboot or power cut, up to
 * `maxBoots`, until a boot finds nothing to do. One entry per boot.
 */
export async function runDevice(d: SimDevice, drive: Drive, maxBoots = 4): Promise<BootLog[]> {
    const log: BootLog[] = []
    for (let i = 0; i < maxBoots; i++) {
        const e = d.powerOn()
        const entry: BootLog = { rebooted: false }
        log.push(entry)
        try {
            entry.start = await drive(e.start())
            entry.plan = await drive(e.checkForUpdate())
            if (entry.plan.result !== "rebooting" && !d.flash.isOff()) return log
        } catch (err) {
            if (err instanceof Reboot) entry.rebooted = true
            else if (!d.flash.isOff()) throw err
        }
        if (d.flash.isOff()) {
            entry.cut = true
            d.flash.powerOn()
        }
    }
    return log
}
