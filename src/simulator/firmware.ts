// The simulator's firmware program, as a function of its identity: every image the simulator
// builds (sim/boot/firmware-image.ts) is this program compiled with one identity line in it,
//     "SOTA-FIRMWARE <version> <behaviour>"
// so the version it reports is the program's own (compiled in), and the node engine, which cannot
// run bytecode, reads the same line from the image's bytes. Behaviours: "good"; and the bad images
// of the real-images issue, each really bad: "throws" (an exception at start: the VM panics),
// "hangs" (never confirms; the host's watchdog resets it), "self-test-fail" (runs and fails its
// self-test).
//
// Per boot (a reset, a reboot after an upgrade, or a power cut):
//   1. open the two Serial channels (channels.ts): "modem" (the module's UART) and "flash" (the
//      image store's NOR device; in the simulator the host's NOR model);
//   2. in the simulator only, ask the host for this run's board settings (sim-board.ts);
//   3. mount the image store over the flash (layout derived from the flash geometry; the plan
//      profiles, components and consent, first cut a data store's region off its end), bring up the
//      AT client, and run the SOTA engine: start() (boot decision, or the host boot stage's, then
//      self-test, confirm or roll back, version report), then checkForUpdate() once; then stay
//      online for plans the platform pushes.
// With the host's boot stage the store only learns which slot was launched (externalBoot), and a
// reboot is the host's: the program prints SOTA-RESET and waits to be reset.
//
// Everything the engine does is printed as one machine-readable line per event, so a host
// (sim/cli/vm-engine.ts) or a person on the console can follow it:
//   SOTA-BOOT {"ms":..,"version":..,"behaviour":..}   the program started
//   SOTA-READY {"bindMs":..,"layout":{..},"board":{..}}
//   SOTA {"state":..,"version":..,"target":..,"bytes":..,"total":..,"reason":..,"detail":..,"stats":{..}}
//   SOTA-START {"version":..,"slot":..,"trial":..,"platform":..,"resumable":..,"stats":{..}}
//   SOTA-IMAGE {"version":..,"slot":..,"sha256":..}   the program's version and its image's SHA-256 TLV
//   SOTA-PLAN {"result":..,"reason":..,"detail":..,"target":..,"stats":{..}}
//   SOTA-ERROR {"where":..,"message":..}
//   SOTA-RESET {"why":..}                            reset me (the host's boot stage runs next)
// `stats` is the engine's SotaStats plus the flash channel's retries, cumulative for this boot.
import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { ImageStore } from "../flash/image-store"
import { SocketFlash } from "./socket-flash"
import { openChannels } from "./channels"
import { openFlashSocket } from "./socket-transport"
import { askSimHost, BoardSettings, layoutFromGeometry } from "./sim-board"
import { SotaEngine } from "../sota/engine"
import { FirmwareFeatures, PlanPorts } from "./features"
import { SotaProgress } from "../sota/progress"
import { SotaPlatform } from "../sota/port"
import { errText } from "../lib/err-text"
import { hostReset, say, slotImageSha } from "./host-lines"
import { statusJson } from "./status-line"

const DEFAULTS: BoardSettings = { battery: 100, selfTestPasses: true, component: "STM32", blockSize: 1024, fromHost: false, bootStage: false }
/** Ask the platform for plans this often (pushed plans are taken at any time). */
const PLAN_PERIOD_MS = 600000

let engine: SotaEngine = null
let flash: SocketFlash = null
let hostBoots = false



function stats(): string {
    const s = engine.stats
    // flashRetries: the socket has none (the Jacdac channel's RemoteFlash counted them)
    return `{"bytesRead":${s.bytesRead},"blocks":${s.blocks},"blockRetries":${s.blockRetries},"checkpoints":${s.checkpoints},"moduleRestarts":${s.moduleRestarts},"resumedAt":${s.resumedAt},"flashRetries":0}`
}

async function main(version: string, behaviour: string, features: FirmwareFeatures) {
    say("SOTA-BOOT", JSON.stringify({ ms: ds.millis(), version: version, behaviour: behaviour, profile: features.profile }))
    if (behaviour === "throws") throw new Error(`firmware ${version} fails at start`)
    const ch = await openChannels()
    const board = ds.isSimulator() ? await askSimHost(ch.modem, DEFAULTS) : DEFAULTS
    hostBoots = board.bootStage
    if (behaviour === "hangs") while (true) await ds.sleep(60000)
    // the host's flash over a TCP socket (not throttled like Jacdac packets; its answers wake the VM
    // only at a timer tick, hence the 1 ms polls); the "flash" Serial role is bound but unused here
    flash = new SocketFlash(await openFlashSocket(), 3000, 1)
    await flash.open()
    const at = new AtClient(ch.modem)
    // the plan profiles' ports (components, consent), which cut the data store's region off the
    // flash; without them the fields left unset are undefined (the program alone, the whole flash)
    const ports: PlanPorts = features.plan ? features.plan(flash, at) : { layout: layoutFromGeometry(flash.geometry) }
    const layout = ports.layout
    say("SOTA-READY", JSON.stringify({ bindMs: ch.bindMs, swapped: ch.swapped, layout: layout, board: board }))
    const store = new ImageStore(flash, layout, { externalBoot: board.bootStage, outcomes: ports.keeper })
    // the application's self-test: this image's own behaviour, and what the host asks of it
    const passes = board.selfTestPasses && behaviour !== "self-test-fail"
    // the product's board, what the SOTA engine's platform port needs: closures, not a class (a
    // class adds a constructor and ~11 B of prototype table per method to the image)
    const platform: SotaPlatform = {
        reboot: async () => {
            await hostReset("reboot", hostBoots)
        },
        battery: async () => board.battery,
        selfTest: async () => passes,
    }
    engine = new SotaEngine(at, store, platform, {
        component: board.component,
        blockSize: board.blockSize,
        version: board.bootStage ? version : undefined,
        // the profile's ports (profiles/): every profile checks signatures; only delta's rebuilds
        rebuilder: features.rebuilder,
        signatures: features.signatures,
        components: ports.components,
        outcomes: ports.outcomes,
        consent: ports.consent,
    })
    engine.onProgress((p: SotaProgress) => say("SOTA", statusJson(p, stats())))
    const start = await engine.start()
    if (board.bootStage) say("SOTA-IMAGE", JSON.stringify({ version: version, slot: start.slot, sha256: await slotImageSha(flash, layout, start.slot) }))
    say("SOTA-START", statusJson(start, stats()))
    await engine.serve(PLAN_PERIOD_MS, plan => say("SOTA-PLAN", statusJson(plan, stats())))
}

/** Run the firmware whose identity line is `identity` ("SOTA-FIRMWARE <version> <behaviour>") with a profile's features. */
export async function runFirmware(identity: string, features: FirmwareFeatures) {
    const v = identity.indexOf(" ") + 1 // no String.split: 0.3 KB of library bytecode
    const b = identity.indexOf(" ", v)
    const behaviour = identity.slice(b + 1)
    try {
        await main(identity.slice(v, b), behaviour, features)
    } catch (e) {
        if (behaviour === "throws") throw e // the bad image's point: an exception nobody catches
        say("SOTA-ERROR", JSON.stringify({ where: engine ? "engine" : "init", message: errText(e) }))
        // a product would retry after a while; a reset is the simplest way to start clean
        await ds.sleep(5000)
        await hostReset("error", hostBoots)
    }
}
