// One whole upgrade inside the VM, shared by the VM suite (test/vm/sota.vm.ts) and the VM bench
// (bench/vm/sota.bench.ts): factory image 1_0_0 on a RAM flash, then boot → update → reboot →
// boot → self-test → confirm against the scripted module. Each boot runs in its own function,
// so that, as after a reset, nothing of the previous boot stays reachable.
import * as ds from "@devicescript/core"
import { AtClient } from "../../../src/at/client"
import { createPipe, PipeEnd } from "../../../src/link/pipe"
import { RamFlash } from "../../../src/flash/ram-flash"
import { ImageStore } from "../../../src/flash/image-store"
import { StoreLayout } from "../../../src/flash/store-config"
import { SotaEngine, StartResult } from "../../../src/sota/engine"
import { SotaProgress } from "../../../src/sota/progress"
import { PATTERN_8K, QiotScript } from "./qiot-script"

export const SECTOR = 4096
export const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 4 * SECTOR], slotSize: 2 * SECTOR }

export class Reboot extends Error {}

export interface FlowResult {
    rebooted: boolean
    downloadMs: number
    blocks: number
    second: StartResult
    states: string
    module: QiotScript
    flash: RamFlash
}

function newEngine(mcu: PipeEnd, flash: RamFlash, states: string[], progress?: (p: SotaProgress) => void) {
    const at = new AtClient(mcu, { quietMs: 20 })
    const store = new ImageStore(flash, LAYOUT)
    const engine = new SotaEngine(
        at,
        store,
        {
            reboot: async () => {
                throw new Reboot("reboot")
            },
            battery: async () => 100,
        },
        { component: "STM32", offerTimeoutMs: 2000, resultTimeoutMs: 2000 }
    )
    engine.onProgress(p => {
        if (states.length === 0 || states[states.length - 1] !== p.state) states.push(p.state)
        if (progress) progress(p)
    })
    return engine
}

/** The RAM flash with the factory image installed (also the idle baseline of the heap bench). */
export async function factoryFlash(): Promise<RamFlash> {
    const flash = new RamFlash({ sectorSize: SECTOR, programUnit: 8, size: 6 * SECTOR })
    const factory = new ImageStore(flash, LAYOUT)
    await factory.mount()
    await factory.startReceive({ version: "1_0_0", size: 1024 })
    await factory.write(0, Buffer.alloc(1024))
    await factory.markReady()
    await factory.activate(true)
    return flash
}

async function bootAndUpdate(mcu: PipeEnd, flash: RamFlash, states: string[], r: FlowResult, progress?: (p: SotaProgress) => void) {
    const e = newEngine(mcu, flash, states, progress)
    await e.start()
    const t0 = ds.millis()
    try {
        await e.checkForUpdate()
    } catch (err) {
        r.rebooted = err instanceof Reboot
    }
    r.downloadMs = ds.millis() - t0
    r.blocks = e.stats.blocks
}

async function bootAndConfirm(mcu: PipeEnd, flash: RamFlash, states: string[]): Promise<StartResult> {
    return await newEngine(mcu, flash, states).start()
}

export interface ScriptedLink {
    mcu: PipeEnd
    module: QiotScript
}

/**
 * The MCU's end of a pipe whose other end the scripted module answers. The heap bench makes it
 * before its ballast: on a device the module is another chip, so its fixed state (the pipe, its
 * packet buffer, its script) is not the MCU's; what it allocates per command still counts.
 */
export function scriptedLink(): ScriptedLink {
    const ends = createPipe()
    return { mcu: ends[0], module: new QiotScript(ends[1], PATTERN_8K) }
}

export async function upgradeFlow(flash: RamFlash, link?: ScriptedLink): Promise<FlowResult> {
    if (!link) link = scriptedLink()
    const states: string[] = []
    const r: FlowResult = { rebooted: false, downloadMs: 0, blocks: 0, second: null, states: "", module: link.module, flash }
    await bootAndUpdate(link.mcu, flash, states, r)
    r.second = await bootAndConfirm(link.mcu, flash, states)
    r.states = states.join(",")
    return r
}

/** Start-up and the download up to the reboot (one boot): true when it reached the reboot. */
export async function downloadFlow(flash: RamFlash, link: ScriptedLink, progress?: (p: SotaProgress) => void): Promise<boolean> {
    const r: FlowResult = { rebooted: false, downloadMs: 0, blocks: 0, second: null, states: "", module: null, flash }
    await bootAndUpdate(link.mcu, flash, [], r, progress)
    return r.rebooted
}

/** Start-up only (mount, boot, register, report): the heap bench's start-up figure. */
export async function startupFlow(flash: RamFlash, link: ScriptedLink): Promise<boolean> {
    const r = await newEngine(link.mcu, flash, []).start()
    return r.version === "1_0_0"
}
