// The simulator's firmware entry (what `npm run sim` runs in the DeviceScript VM; real boards have
// their own entries in src/boards): the SOTA client of a DeviceScript MCU behind a QuecThing module.
//
// Per boot (a reset, ds.restart() after an upgrade, or a power cut):
//   1. open the two Serial channels (src/simulator/channels.ts): "modem" (the module's UART) and
//      "flash" (the image store's NOR device; in the simulator the host's NOR model);
//   2. in the simulator only, ask the host for this run's board settings (src/simulator/sim-board.ts);
//   3. mount the image store over the flash (layout derived from the flash geometry), bring up the
//      AT client, and run the SOTA engine: start() (boot decision, self-test, confirm or roll back,
//      version report), then checkForUpdate() once; then stay online for plans the platform pushes.
//
// What a product supplies is the `Board` below: a reboot, a battery gauge, and the application's
// self-test. Everything the engine does is printed as one machine-readable line per event, so a
// host (sim/cli/vm-engine.ts) or a person on the console can follow it:
//   SOTA-BOOT {"ms":..}                        the program started
//   SOTA-READY {"bindMs":..,"layout":{..},"board":{..}}
//   SOTA {"state":..,"version":..,"target":..,"bytes":..,"total":..,"reason":..,"detail":..,"stats":{..}}
//   SOTA-START {"version":..,"slot":..,"trial":..,"platform":..,"resumable":..,"stats":{..}}
//   SOTA-PLAN {"result":..,"reason":..,"detail":..,"target":..,"stats":{..}}
//   SOTA-ERROR {"where":..,"message":..}
// `stats` is the engine's SotaStats plus the flash channel's retries, cumulative for this boot.
import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { ImageStore } from "../flash/image-store"
import { RemoteFlash } from "./remote-flash"
import { openChannels } from "./channels"
import { askSimHost, BoardSettings, layoutFromGeometry } from "./sim-board"
import { SotaEngine } from "../sota/engine"
import { SotaProgress } from "../sota/progress"
import { SotaPlatform } from "../sota/port"
import { errText } from "../lib/err-text"

/** The application's check of a freshly installed image; the engine calls it on a trial boot. */
export type SelfTest = () => Promise<boolean>

/** The product's board: what the SOTA engine's platform port needs. */
class Board implements SotaPlatform {
    settings: BoardSettings
    appSelfTest: SelfTest
    constructor(settings: BoardSettings, appSelfTest: SelfTest) {
        this.settings = settings
        this.appSelfTest = appSelfTest
    }
    async reboot(): Promise<void> {
        ds.restart()
    }
    async battery(): Promise<number> {
        return this.settings.battery
    }
    async selfTest(): Promise<boolean> {
        return await this.appSelfTest()
    }
}

const DEFAULTS: BoardSettings = { battery: 100, selfTestPasses: true, component: "STM32", blockSize: 1024, fromHost: false }
/** Ask the platform for plans this often (pushed plans are taken at any time). */
const PLAN_PERIOD_MS = 600000

let engine: SotaEngine = null
let flash: RemoteFlash = null

function stats(): string {
    const s = engine.stats
    const retries = flash ? flash.stats.retries : 0
    return `{"bytesRead":${s.bytesRead},"blocks":${s.blocks},"blockRetries":${s.blockRetries},"checkpoints":${s.checkpoints},"moduleRestarts":${s.moduleRestarts},"resumedAt":${s.resumedAt},"flashRetries":${retries}}`
}

function say(tag: string, json: string) {
    console.log(`${tag} ${json}`)
}

function withStats(obj: any): string {
    const j = JSON.stringify(obj)
    return `${j.slice(0, j.length - 1)},"stats":${stats()}}`
}

async function main() {
    say("SOTA-BOOT", `{"ms":${ds.millis()}}`)
    const ch = await openChannels()
    const board = ds.isSimulator() ? await askSimHost(ch.modem, DEFAULTS) : DEFAULTS
    flash = await RemoteFlash.open(ch.flash, { timeoutMs: 3000 })
    const layout = layoutFromGeometry(flash.geometry)
    say("SOTA-READY", JSON.stringify({ bindMs: ch.bindMs, swapped: ch.swapped, layout: layout, board: board }))
    const store = new ImageStore(flash, layout)
    const at = new AtClient(ch.modem)
    // the application's self-test; in the simulator the host decides what it answers
    const selfTest: SelfTest = async () => board.selfTestPasses
    engine = new SotaEngine(at, store, new Board(board, selfTest), { component: board.component, blockSize: board.blockSize })
    engine.onProgress((p: SotaProgress) => say("SOTA", withStats(p)))
    const start = await engine.start()
    say("SOTA-START", withStats(start))
    await engine.serve(PLAN_PERIOD_MS, plan => say("SOTA-PLAN", withStats(plan)))
}

try {
    await main()
} catch (e) {
    say("SOTA-ERROR", JSON.stringify({ where: engine ? "engine" : "init", message: errText(e) }))
    // a product would retry after a while; a reset is the simplest way to start clean
    await ds.sleep(5000)
    ds.restart()
}
