// The library's entry (src/index.ts: startSota) against the module emulator and the NOR model, on
// vitest's virtual clock: what an application sees (progress and outcome events, its hooks
// called), an upgrade across "resets" (a new startSota per boot, as a program restarted by
// ds.restart() would make), the consent hook refusing a plan, a failed self-test rolled back.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import * as lib from "../../src/index"
import { defaultLayout, startSota, SotaOptions } from "../../src/index"
import { World } from "../sota/world"
import { boot, Boot, until } from "./app-boot"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const plans = (b: Boot) => b.outcomes.filter(o => o.kind === "plan")

describe("startSota", () => {
    it("the public entry exports startSota, defaultLayout and FlashError, nothing else at run time", () => {
        expect(Object.keys(lib).sort()).toEqual(["FlashError", "defaultLayout", "startSota"])
    })

    it("upgrades 1_0_0 → 2_0_0 across a reset: started, offered, downloading, rebooting; then confirmed", async () => {
        const w = new World({ packageSize: 20000 })
        await w.install()
        const b1 = boot(w, "1_0_0")
        await until(() => b1.rebootAsked)
        expect(b1.outcomes[0]).toMatchObject({ kind: "started", version: "1_0_0", result: "none" })
        expect(plans(b1)).toEqual([]) // the reboot comes before serve() reports the plan's end
        const states = b1.progress.map(p => p.state)
        for (const s of ["booting", "registering", "reported", "requesting", "offered", "downloading", "verifying", "activating", "rebooting"])
            expect(states).toContain(s)
        const dl = b1.progress.filter(p => p.state === "downloading")
        expect(dl[dl.length - 1]).toMatchObject({ target: "2_0_0", bytes: 20000, total: 20000 })
        expect(b1.sota.stats().bytesRead).toBe(20000)
        expect(b1.sota.last().state).toBe("rebooting")

        const b2 = boot(w, "2_0_0")
        await until(() => plans(b2).length > 0)
        expect(b2.outcomes[0]).toMatchObject({ kind: "started", version: "2_0_0", result: "confirmed", platform: "done" })
        expect(plans(b2)[0]).toMatchObject({ kind: "plan", result: "no-plan" })
        expect(await w.healthy()).toBe("new")
    })

    it("consent: called with the plan before it is accepted; false refuses it as 'declined' and writes nothing", async () => {
        const w = new World({ packageSize: 8000 })
        await w.install()
        const asked: lib.SotaPlan[] = []
        const b = boot(w, "1_0_0", {
            consent: async plan => {
                asked.push(plan)
                return false
            },
        })
        await until(() => plans(b).length > 0)
        expect(asked).toEqual([{ target: "2_0_0", size: 8000, running: "1_0_0" }])
        expect(plans(b)[0]).toMatchObject({ result: "refused", reason: "declined", version: "2_0_0" })
        expect(b.progress.find(p => p.state === "refused")).toMatchObject({ reason: "declined", target: "2_0_0" })
        expect(w.module.received).toContain("AT+QIOTUPDATE=0")
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD="))).toBe(false)
        expect(await w.healthy()).toBe("old")
    })

    it("consent true, and a low battery still refuses as low-battery (the hook does not mask the policy)", async () => {
        const w = new World({ packageSize: 8000, minBattery: 50 })
        await w.install()
        const b = boot(w, "1_0_0", { consent: async () => true, battery: async () => 10 })
        await until(() => plans(b).length > 0)
        expect(plans(b)[0]).toMatchObject({ result: "refused", reason: "low-battery" })
    })

    it("a new image whose self-test fails is rolled back at its first boot; the old one reports the reason", async () => {
        const w = new World({ packageSize: 8000 })
        await w.install()
        const b1 = boot(w, "1_0_0")
        await until(() => b1.rebootAsked)
        const b2 = boot(w, "2_0_0", { selfTest: async () => false })
        await until(() => b2.rebootAsked)
        expect(b2.progress.find(p => p.state === "rolled-back")).toMatchObject({ reason: "self-test-failed" })
        const b3 = boot(w, "1_0_0")
        await until(() => b3.outcomes.length > 0)
        expect(b3.outcomes[0]).toMatchObject({ kind: "started", version: "1_0_0" })
        expect(await w.healthy()).toBe("old")
    })

    it("a start-up that cannot register is an 'error' outcome, then a reset through the hook after retryMs", async () => {
        const w = new World({ packageSize: 4000 })
        await w.install()
        w.module.setPower("off") // the module never answers
        const b = boot(w, "1_0_0", { retryMs: 5000, tuning: { registerTimeoutMs: 2000, restartTimeoutMs: 2000, yielder: async () => {} } })
        await until(() => b.rebootAsked, 900_000)
        const err = b.outcomes.find(o => o.kind === "error")
        expect(err).toBeDefined()
        expect(err.reason).toBe("registration-failed")
    })

    it("refuses options it cannot work with, at once", () => {
        const w = new World({ packageSize: 4000 })
        expect(() => startSota({ transport: null, flash: w.flash, component: "STM32" })).toThrow(/transport/)
        expect(() => startSota({ transport: w.tap, component: "" } as SotaOptions)).toThrow(/component/)
        expect(() => startSota({ transport: w.tap, component: "STM32" })).toThrow(/flash/)
    })

    it("defaultLayout: 2 metadata sectors, then two equal slots over the rest of the device", () => {
        const flash = { geometry: { sectorSize: 4096, programUnit: 8, size: 64 * 4096 + 4096 } } as lib.Flash
        expect(defaultLayout(flash)).toEqual({ metaAddress: 0, metaSectors: 2, slotAddress: [8192, 8192 + 31 * 4096], slotSize: 31 * 4096 })
        expect(() => defaultLayout({ geometry: { sectorSize: 4096, programUnit: 8, size: 3 * 4096 } } as lib.Flash)).toThrow(/too small/)
    })
})
