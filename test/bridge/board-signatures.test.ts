// A board's SOTA agent (src/boards/sota-config.ts, what runBoard gives its engine) over the board's
// chain in Node: AtClient → SC16IS7xx driver → chip model → 115 200-baud UART → module emulator.
// Signatures are required: an image signed by a compiled-in key with a counter at least the
// store's is installed and its confirm raises the counter; an unsigned image, one signed by an
// unknown key and one with a lower counter are refused before the slot is marked ready, with their
// reasons, and the running image stays byte-identical with the counter unchanged.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { KeyObject } from "node:crypto"
import { boardSotaConfig } from "../../src/boards/sota-config"
import { packImage } from "../../src/image/pack"
import { parseVersion } from "../../src/image/version"
import { packSigned } from "../../tools/image/keys"
import { devKey, untrustedKey } from "../../sim/boot/firmware-image"
import { buildDevCenter, emulatorOptions, makeImage } from "../../sim/device/device"
import { QuecModule } from "../../sim/module/module"
import { runDevice, World } from "../sota/world"
import { Bench } from "./rig"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const yielder = async () => {}

function signedImage(version: string, counter: number, key: KeyObject, seed: number): Promise<Buffer> {
    return packSigned(makeImage(6000, seed), { version: parseVersion(version), securityCounter: counter, yielder }, key).then(p => p.image)
}

/** The board's agent over the bridge, the factory image 1_0_0 (counter `factoryCounter`) installed, `update` offered as 2_0_0. */
async function board(update: Buffer, factoryCounter = 1) {
    const factory = await signedImage("1_0_0", factoryCounter, devKey(), 99)
    const { dc, pkg } = buildDevCenter({}, update)
    const b = new Bench({ lineBaud: 115200 })
    const module = new QuecModule(b.line.module, emulatorOptions({}, dc))
    const t = await b.start({ checkMs: 0 })
    const w = new World({ image: update, factoryImage: factory, moduleLink: t, engine: boardSotaConfig("STM32") })
    w.dc = dc
    w.pkg = pkg
    w.module = module
    await w.install()
    return { w, b, factory }
}

describe("a board's agent requires signed images", () => {
    test("signed by the compiled-in key, counter 2: downloaded, checked, activated, confirmed; the store's counter rises to 2", async () => {
        const update = await signedImage("2_0_0", 2, devKey(), 7)
        const { w, b } = await board(update)
        const log = await runDevice(w)
        expect(log[0].rebooted).toBe(true)
        expect(log[log.length - 1].start).toMatchObject({ version: "2_0_0", trial: "confirmed" })
        expect(await w.healthy()).toBe("new")
        expect(w.store.securityCounter()).toBe(2)
        await b.stop()
    })

    const refused: [string, string, () => Promise<Buffer>, number][] = [
        ["unsigned", "unsigned", () => packImage(makeImage(6000, 7), { version: parseVersion("2_0_0"), yielder }).then(p => p.image), 1],
        ["signed by a key the board does not trust", "unknown-key", () => signedImage("2_0_0", 2, untrustedKey(), 7), 1],
        ["signed, with a counter below the store's", "counter-too-low", () => signedImage("2_0_0", 2, devKey(), 7), 3],
    ]
    for (const [what, reason, make, factoryCounter] of refused) {
        test(`${what}: refused before ready (${reason}); 1_0_0 runs byte-identical, the counter stays ${factoryCounter}`, async () => {
            const { w, b } = await board(await make(), factoryCounter)
            const log = await runDevice(w)
            expect(log.some(l => l.rebooted)).toBe(false)
            const plan = log[log.length - 1].plan
            expect(plan).toMatchObject({ result: "failed", reason })
            expect(plan.detail.split(reason).length - 1).toBe(1)
            expect(w.progress.some(p => p.state === "ready")).toBe(false)
            expect(w.store.securityCounter()).toBe(factoryCounter)
            expect(await w.healthy()).toBe("old") // the confirmed slot holds 1_0_0 byte for byte
            await b.stop()
        })
    }
})
