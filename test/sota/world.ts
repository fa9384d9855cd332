// An in-process device for engine tests: the module emulator and its Developer Center on one
// side of a line (an unpaced pipe, or the paced UART model with byte faults), a NOR flash on the
// other, and an MCU whose RAM (AT client, image store object, engine) is rebuilt on every
// reboot while the flash and the module keep their state. Time is vitest's virtual clock.
import { vi } from "vitest"
import { AtClient } from "../../src/at/client"
import { createPipe } from "../../src/at/pipe"
import type { ByteTransport } from "../../src/at/transport"
import { ImageStore, StoreLayout } from "../../src/flash/image-store"
import { SotaConfig, SotaEngine, SotaProgress, StartResult, PlanResult } from "../../src/sota/engine"
import { NorFlash } from "../../sim/flash/nor-flash"
import { DevCenter, Package } from "../../sim/module/dev-center"
import { QuecModule, QuecModuleOptions } from "../../sim/module/module"
import { UartLine, UartLineOptions } from "../../sim/link/uart-line"
import { makePackage, PK, PS, IMEI, DS } from "../module/harness"

export const SECTOR = 4096

export function layoutFor(slotSize: number): StoreLayout {
    const slot = Math.ceil(slotSize / SECTOR) * SECTOR
    return { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 2 * SECTOR + slot], slotSize: slot }
}

/** Thrown by the test platform's reboot(): unwinds the engine like a reset. */
export class Reboot extends Error {
    constructor() {
        super("reboot")
        this.name = "Reboot"
    }
}

export interface WorldOptions {
    packageSize?: number
    /** bytes per slot (rounded up to sectors); default: the package size rounded up */
    slotSize?: number
    fromVersion?: string
    toVersion?: string
    sourceVersion?: string
    module?: QuecModuleOptions
    /** use the paced UART model instead of the unpaced pipe */
    uart?: UartLineOptions
    engine?: Partial<SotaConfig>
    programUnit?: number
    /** the package the platform announces differs from the bytes it delivers */
    packageData?: Buffer
    minBattery?: number
    minSignal?: number
    component?: string
}

export class World {
    dc: DevCenter
    pkg: Package
    module: QuecModule
    flash: NorFlash
    layout: StoreLayout
    image1: Buffer
    mcuEnd: ByteTransport
    /** the module's end: a test may write raw lines the MCU will take as the module's */
    moduleEnd: ByteTransport
    line: UartLine | null = null
    battery = 100
    selfTestOk = true
    progress: SotaProgress[] = []
    boots = 0
    cfg: SotaConfig
    /** the MCU of the current boot */
    engine: SotaEngine
    store: ImageStore
    at: AtClient

    constructor(readonly o: WorldOptions = {}) {
        const size = o.packageSize ?? 27954
        this.dc = new DevCenter()
        this.dc.addProduct({ productKey: PK, productSecret: PS }).addComponent(PK, o.component ?? "STM32")
        const data = o.packageData ?? makePackage(size)
        this.pkg = this.dc.addPackage({
            productKey: PK,
            component: o.component ?? "STM32",
            version: o.toVersion ?? "2_0_0",
            sourceVersion: o.sourceVersion,
            data,
        })
        this.dc.createPlan({ packageId: this.pkg.id, minBattery: o.minBattery ?? 30, minSignal: o.minSignal ?? -113 })
        this.dc.addDevice(PK, IMEI, DS)
        let moduleEnd: ByteTransport
        if (o.uart) {
            this.line = new UartLine(o.uart)
            this.mcuEnd = this.line.mcu
            moduleEnd = this.line.module
        } else {
            const [a, b] = createPipe()
            this.mcuEnd = a
            moduleEnd = b
        }
        this.moduleEnd = moduleEnd
        this.module = new QuecModule(moduleEnd as any, {
            devCenter: this.dc,
            imei: IMEI,
            ...(o.module || {}),
            nvm: { productKey: PK, productSecret: PS, deviceSecret: DS },
        })
        this.layout = layoutFor(o.slotSize ?? size)
        this.flash = new NorFlash({ sectorSize: SECTOR, programUnit: o.programUnit ?? 8, size: this.layout.slotAddress[1] + this.layout.slotSize })
        this.cfg = { component: "STM32", ...(o.engine || {}) }
        this.image1 = makePackage(Math.min(size, this.layout.slotSize), 99)
    }

    /** Factory-install version `fromVersion` as the confirmed image (before the first boot). */
    async install() {
        const s = this.newStore()
        await s.mount()
        await s.startReceive({ version: this.o.fromVersion ?? "1_0_0", size: this.image1.length })
        for (let off = 0; off < this.image1.length; off += 1024) await s.write(off, this.image1.subarray(off, Math.min(off + 1024, this.image1.length)))
        await s.markReady()
        await s.activate({ permanent: true })
    }

    newStore() {
        return new ImageStore(this.flash, this.layout, { yielder: async () => {}, yieldEvery: 1 << 30 })
    }

    /** A fresh MCU: what survives a reset is only the flash and the module. */
    powerOn(): SotaEngine {
        this.boots++
        this.at = new AtClient(this.mcuEnd, { feedSlice: 1 << 16 })
        this.store = this.newStore()
        const self = this
        this.engine = new SotaEngine(
            this.at,
            this.store,
            {
                reboot: async () => {
                    throw new Reboot()
                },
                battery: async () => self.battery,
                selfTest: async () => self.selfTestOk,
            },
            this.cfg
        )
        this.engine.onProgress(p => self.progress.push(p))
        return this.engine
    }

    /** What the device runs now, by reading the store as a bootloader would (no write). */
    async runningImage(): Promise<{ version: string; bytes: Buffer; state: string }> {
        const s = this.newStore()
        await s.mount()
        const st = (s as any).st
        const slot = st.active
        const info = st.slots[slot]
        return { version: info.version, bytes: await s.read(slot, 0, info.size), state: info.state }
    }
}

/** The device runs a confirmed image that is byte-identical to the old or the new one. */
export async function healthy(w: World): Promise<"old" | "new"> {
    const img = await w.runningImage()
    if (img.state !== "confirmed") throw new Error(`running slot is ${img.state}`)
    if (img.version === (w.o.fromVersion ?? "1_0_0") && img.bytes.equals(w.image1)) return "old"
    if (img.version === (w.o.toVersion ?? "2_0_0") && img.bytes.equals(w.pkg.data)) return "new"
    throw new Error(`running ${img.version}, ${img.bytes.length} bytes, matching neither image`)
}

/** Run `p` while the virtual clock advances; returns its value or throws its error. */
export async function run<T>(p: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let done = false
    p.then(
        () => (done = true),
        () => (done = true)
    )
    // timers fire in order within one advance; the step only bounds how far past the end time runs
    for (let t = 0; t < limitMs && !done; t += 250) await vi.advanceTimersByTimeAsync(250)
    if (!done) throw new Error(`still running after ${limitMs} ms of virtual time`)
    return p
}

export interface BootLog {
    start?: StartResult
    plan?: PlanResult
    rebooted: boolean
}

/**
 * Power the device on, start it, and ask for an update; repeat after every reboot, up to
 * `maxBoots`. Returns one entry per boot.
 */
export async function runDevice(w: World, maxBoots = 4): Promise<BootLog[]> {
    const log: BootLog[] = []
    for (let i = 0; i < maxBoots; i++) {
        const e = w.powerOn()
        const entry: BootLog = { rebooted: false }
        log.push(entry)
        try {
            entry.start = await run(e.start())
            entry.plan = await run(e.checkForUpdate())
            if (entry.plan.result !== "rebooting") return log
        } catch (err) {
            if (!(err instanceof Reboot)) throw err
            entry.rebooted = true
        }
    }
    return log
}
