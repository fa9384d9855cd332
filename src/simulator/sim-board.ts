// The simulated board, as the firmware sees it (DeviceScript-only, like main.ts and channels.ts).
//
// Flash layout convention (the one place it is decided for the simulator; sim/device/device.ts
// layoutFor() sizes the host's NOR model to match, and sim/cli/vm-engine.ts checks the layout the
// firmware prints): the image store takes the whole flash device, derived from its geometry alone
//     sector 0..1              metadata log (2 sectors)
//     then slot 0, slot 1      two equal slots, each floor((sectors - 2) / 2) sectors
// so nothing has to be told to the firmware before it can mount its store.
//
// Board settings: a board knows its battery gauge, its application's self-test and its product
// constants (the MCU component name, the largest AT read). In the simulator these are chosen per
// run by the host (`npm run sim` options), so before the AT dialogue starts the firmware asks the
// host once, on the modem channel, with one line the simulator host answers itself and never
// passes to the module emulator:
//     firmware → host   AT+SIMCFG?\r
//     host → firmware   \r\n+SIMCFG: <battery %>,<self-test 1|0>,<block bytes>,<component>[,<boot stage 1|0>]\r\nOK\r\n
// The boot stage field: the host ran its boot stage (sim/boot) before this program, so the store
// only learns its decision (externalBoot) and a reboot is the host's to do (the firmware asks for
// it with a SOTA-RESET line and waits).
// It is only sent when ds.isSimulator(); a real module never sees it. Without an answer the
// defaults hold (battery 100 %, self-test passes).

import * as ds from "@devicescript/core"
import { ByteTransport } from "../link/transport"
import { lineFields } from "../at/fields"
import { FlashGeometry } from "../flash/flash"
import { StoreLayout } from "../flash/store-config"

export const META_SECTORS = 2
export const SIMCFG_QUERY = "AT+SIMCFG?"
const SIMCFG_PREFIX = "+SIMCFG:"
/** Queries before the defaults hold, and the wait for each answer (constants: no caller set them). */
const SIMCFG_TRIES = 5
const SIMCFG_WAIT_MS = 300

/** The store layout of a flash device: 2 metadata sectors, then two equal slots. */
export function layoutFromGeometry(g: FlashGeometry): StoreLayout {
    const sec = g.sectorSize
    const sectors = Math.floor(g.size / sec)
    const slotSectors = Math.floor((sectors - META_SECTORS) / 2)
    if (slotSectors < 1) throw new Error(`flash of ${g.size} bytes is too small for two slots`)
    const slot = slotSectors * sec
    return {
        metaAddress: 0,
        metaSectors: META_SECTORS,
        slotAddress: [META_SECTORS * sec, META_SECTORS * sec + slot],
        slotSize: slot,
    }
}

/**
 * A data component's store at the flash's end (issue 20's components profile): 2 metadata sectors,
 * then two slots of `slotSectors` sectors each. The program's store is layoutFromGeometry() of the
 * sectors before it (size: the result's metaAddress). The host (sim/device) sizes its NOR model by
 * the same rule, so the firmware needs no setting to find it.
 */
export function dataLayoutAtEnd(g: FlashGeometry, slotSectors: number): StoreLayout {
    const sec = g.sectorSize
    const base = (Math.floor(g.size / sec) - META_SECTORS - 2 * slotSectors) * sec
    const slot = slotSectors * sec
    const first = base + META_SECTORS * sec
    return { metaAddress: base, metaSectors: META_SECTORS, slotAddress: [first, first + slot], slotSize: slot }
}

export interface BoardSettings {
    /** Battery level in percent. */
    battery: number
    /** What the application's self-test answers. */
    selfTestPasses: boolean
    /** The MCU component the platform's plans name. */
    component: string
    /** Largest AT+QIOTOTARD block. */
    blockSize: number
    /** The host answered (false: defaults). */
    fromHost: boolean
    /** The host's boot stage chose and checked this program's image (false: the firmware boots itself). */
    bootStage: boolean
}

/** Parse "+SIMCFG: 100,1,1024,STM32"; null when the line is anything else or malformed. */
export function parseSimCfg(line: string): BoardSettings {
    if (!line.startsWith(SIMCFG_PREFIX)) return null
    // the AT field parser, not String.split: split is 0.3 KB of library bytecode nothing else needs
    const f = lineFields(line)
    const n = f.values.length
    if (n !== 4 && n !== 5) return null
    const battery = f.int(0)
    const st = f.int(1)
    const block = f.int(2)
    const component = f.str(3)
    const stage = n === 5 ? f.int(4) : 0
    if (!(battery >= 0 && battery <= 100) || !(st === 0 || st === 1) || !(block >= 16) || component.length === 0 || !(stage === 0 || stage === 1))
        return null
    return { battery: battery, selfTestPasses: st === 1, component: component, blockSize: block, fromHost: true, bootStage: stage === 1 }
}

/**
 * Ask the simulator host for this run's board settings (see the header). Takes the transport's
 * listener for the duration: call it before anything else listens (the AtClient takes it after).
 */
export async function askSimHost(modem: ByteTransport, defaults: BoardSettings): Promise<BoardSettings> {
    let line = ""
    let found: BoardSettings = null
    modem.listen({
        data: (chunk: Buffer) => {
            for (let i = 0; i < chunk.length && !found; i++) {
                const c = chunk[i]
                if (c === 13 || c === 10) {
                    if (line.length > 0) found = parseSimCfg(line)
                    line = ""
                } else if (line.length < 120) line += String.fromCharCode(c)
            }
        },
        link: (up: boolean) => {},
    })
    const query = Buffer.from(`${SIMCFG_QUERY}\r`)
    for (let k = 0; k < SIMCFG_TRIES && !found; k++) {
        await modem.write(query)
        const deadline = ds.millis() + SIMCFG_WAIT_MS
        while (!found && ds.millis() < deadline) await ds.sleep(10)
    }
    return found || defaults
}
