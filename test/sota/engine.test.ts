import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { runDevice, World } from "./world"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe("SOTA engine: the reference walk-through", () => {
    it("upgrades 1_0_0 → 2_0_0 with the 27 954-byte package, confirms, and the platform says 10705", async () => {
        const w = new World()
        await w.install()
        const log = await runDevice(w)
        expect(log.length).toBe(2)
        expect(log[0].plan).toBeUndefined() // the reboot unwound it
        expect(log[0].rebooted).toBe(true)
        expect(log[1].start).toMatchObject({ version: "2_0_0", trial: "confirmed", platform: "done" })
        expect(log[1].plan.result).toBe("no-plan")
        const img = await w.runningImage()
        expect(img.version).toBe("2_0_0")
        expect(img.state).toBe("confirmed")
        expect(img.bytes.equals(w.pkg.data)).toBe(true)
        // the wire: what the module received, in order
        const sent = w.module.received
        expect(sent.filter(c => c.startsWith("AT+QIOTOTARD=") && c !== "AT+QIOTOTARD=?").length).toBe(28)
        expect(sent).toContain("AT+QIOTOTARD=27648,306")
        expect(sent.indexOf("AT+QIOTUPDATE=3")).toBeGreaterThan(sent.indexOf("AT+QIOTOTARD=27648,306"))
        expect(sent.lastIndexOf('AT+QIOTMCUVER="STM32","2_0_0"')).toBeGreaterThan(sent.indexOf("AT+QIOTUPDATE=3"))
        const states = w.progress.map(p => p.state)
        for (const s of ["offered", "downloading", "verifying", "activating", "rebooting", "self-test", "confirmed", "reported"])
            expect(states, s).toContain(s)
    })
})
