// A power cut is not an exception the firmware can catch: in sim/device every boot's MCU gets a
// line and a flash that die with its power. Code that catches the cut and goes on (or a fiber
// of a boot that is over) talks into nothing and writes nothing, even after the power is back.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { PowerCut } from "../../sim/flash/nor-flash"
import { run, World } from "./world"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe("a dead MCU", () => {
    it("sends nothing and touches no flash after its cut, even once the power is back, until it boots again", async () => {
        const w = new World({ packageSize: 4096 })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        const oldAt = w.at
        const oldStore = w.store
        // the cut: the next flash operation loses the power
        w.flash.armCut({ op: 1, kind: "before" })
        await expect(w.flash.eraseSector(w.layout.slotAddress[1])).rejects.toBeInstanceOf(PowerCut)
        const heard = w.tap.bytesToModule
        // code that "handles" the cut and carries on
        await run(oldAt.command("AT+QIOTUPDATE=0").catch((): null => null))
        expect(w.tap.bytesToModule).toBe(heard)
        expect(w.deadBytes).toBeGreaterThan(0)
        // the power comes back: the old boot's code is still gone
        w.flash.powerOn()
        await run(oldAt.command("AT").catch((): null => null))
        expect(w.tap.bytesToModule).toBe(heard)
        await expect(oldStore.read(0, 0, 16)).rejects.toBeInstanceOf(PowerCut)
        expect(w.deadFlashOps).toBeGreaterThan(0)
        // a new boot talks and reads again
        const e2 = w.powerOn()
        await run(e2.start())
        expect(w.tap.bytesToModule).toBeGreaterThan(heard)
    })
})
