// The device side of running an application built on the library in this repository's simulator
// (DeviceScript: it runs in the VM). The simulator's host (sim/cli/vm-engine.ts) launches a firmware
// program per boot through its boot stage and follows the program's machine-readable lines; this
// harness is that program around an application's `startApp(board, version)`:
//   1. open the two Jacdac Serial channels the host serves, "modem" (the emulated module's UART)
//      and "flash" (the NOR model), and ask the host for this run's board settings (battery,
//      self-test, boot stage);
//   2. give the application its Board: the modem channel as `transport`, the remote flash as
//      `flash`, `bootStage` (the host's boot stage chose the image), and the platform hooks: a reboot
//      the host performs (SOTA-RESET), the host's battery level and self-test answer;
//   3. print the application's SOTA events as the lines the host reads (the same protocol as the
//      simulator's own firmware, src/simulator/firmware.ts): SOTA-BOOT, SOTA-READY, SOTA, SOTA-START,
//      SOTA-IMAGE, SOTA-PLAN, SOTA-ERROR, SOTA-RESET.
// The program's identity line ("SOTA-FIRMWARE <version> <behaviour>") comes from the entry the host
// generates per image (sim/boot/firmware-image.ts); the behaviours of the bad images (throws, hangs,
// self-test-fail) are honoured here, so `--image bad:KIND` works with an application too.
// None of this is in the library: the transport and flash here exist only against the simulator.
import * as ds from "@devicescript/core"
import { openChannels } from "../../src/simulator/channels"
import { RemoteFlash } from "../../src/simulator/remote-flash"
import { askSimHost, BoardSettings, layoutFromGeometry } from "../../src/simulator/sim-board"
import { hostReset, say, slotImageSha } from "../../src/simulator/host-lines"
import { errText } from "../../src/lib/err-text"
import { ByteTransport } from "../../src/link/transport"
import { Flash } from "../../src/flash/flash"
import { StoreLayout } from "../../src/flash/store-config"

/** What the harness gives the application (the example's Board has the same shape). */
export interface SimBoard {
    transport: ByteTransport
    flash: Flash
    reboot: () => Promise<void>
    battery: () => Promise<number>
    selfTest: () => Promise<boolean>
    bootStage: boolean
}

/** The part of the library's Sota handle the harness reads (its events and counters). */
export interface SotaHandle {
    onProgress(listener: (p: any) => void): void
    onOutcome(listener: (o: any) => void): void
    stats(): any
}

export type AppStart = (board: SimBoard, version: string) => SotaHandle

const DEFAULTS: BoardSettings = { battery: 100, selfTestPasses: true, component: "STM32", blockSize: 1024, fromHost: false, bootStage: false }

let hostBoots = false
let flash: RemoteFlash = null
let sota: SotaHandle = null



function stats(): string {
    const s = sota ? sota.stats() : null
    const retries = flash ? flash.stats.retries : 0
    if (!s) return `{"flashRetries":${retries}}`
    return `{"bytesRead":${s.bytesRead},"blocks":${s.blocks},"blockRetries":${s.blockRetries},"checkpoints":${s.checkpoints},"moduleRestarts":${s.moduleRestarts},"resumedAt":${s.resumedAt},"flashRetries":${retries}}`
}

function withStats(obj: any): string {
    const j = JSON.stringify(obj)
    return `${j.slice(0, j.length - 1)},"stats":${stats()}}`
}

/** The SHA-256 TLV of the image in `slot`: the hash the boot stage checked before it launched us. */

class Printer {
    layout: StoreLayout
    bootStage: boolean
    constructor(layout: StoreLayout, bootStage: boolean) {
        this.layout = layout
        this.bootStage = bootStage
    }
    progress(p: any) {
        say("SOTA", withStats({ state: p.state, version: p.version, target: p.target, bytes: p.bytes, total: p.total, reason: p.reason, detail: p.detail }))
    }
    async outcome(o: any) {
        if (o.kind === "started") {
            if (this.bootStage) say("SOTA-IMAGE", JSON.stringify({ version: o.version, slot: o.slot, sha256: await slotImageSha(flash, this.layout, o.slot) }))
            say("SOTA-START", withStats({ version: o.version, slot: o.slot, trial: o.result, platform: o.platform, storeFault: o.detail }))
        } else if (o.kind === "plan") say("SOTA-PLAN", withStats({ result: o.result, reason: o.reason, detail: o.detail, target: o.version }))
        else say("SOTA-ERROR", JSON.stringify({ where: "engine", message: `${o.reason || "error"}: ${o.detail}` }))
    }
}

async function main(version: string, behaviour: string, startApp: AppStart) {
    say("SOTA-BOOT", JSON.stringify({ ms: ds.millis(), version: version, behaviour: behaviour }))
    if (behaviour === "throws") throw new Error(`firmware ${version} fails at start`)
    const ch = await openChannels()
    const board = ds.isSimulator() ? await askSimHost(ch.modem, DEFAULTS) : DEFAULTS
    hostBoots = board.bootStage
    if (behaviour === "hangs") while (true) await ds.sleep(60000)
    flash = await RemoteFlash.open(ch.flash, { timeoutMs: 3000 })
    const layout = layoutFromGeometry(flash.geometry)
    say("SOTA-READY", JSON.stringify({ bindMs: ch.bindMs, swapped: ch.swapped, layout: layout, board: board }))
    const passes = board.selfTestPasses && behaviour !== "self-test-fail"
    const printer = new Printer(layout, board.bootStage)
    sota = startApp(
        {
            transport: ch.modem,
            flash: flash,
            bootStage: board.bootStage,
            reboot: async () => {
                await hostReset("reboot", hostBoots)
            },
            battery: async () => board.battery,
            selfTest: async () => passes,
        },
        version
    )
    // the agent's fiber starts after this one yields: nothing is missed
    sota.onProgress(p => printer.progress(p))
    sota.onOutcome(o => {
        setTimeout(async () => {
            await printer.outcome(o)
        }, 0)
    })
}

/** Run the application `startApp` as the firmware whose identity line is `identity`. */
export async function runApp(identity: string, startApp: AppStart) {
    const parts = identity.split(" ")
    try {
        await main(parts[1], parts[2], startApp)
    } catch (e) {
        if (parts[2] === "throws") throw e // the bad image's point: an exception nobody catches
        say("SOTA-ERROR", JSON.stringify({ where: sota ? "engine" : "init", message: errText(e) }))
        await ds.sleep(5000)
        await hostReset("error", hostBoots)
    }
}
