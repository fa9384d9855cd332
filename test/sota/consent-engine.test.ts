// Issue 20 in the node engine: the application's consent (now / later until T / never) and the
// download windows, asked after the policy accepts a plan (SotaConfig.consent = ConsentGate).
// Later and never refuse on the wire (AT+QIOTUPDATE=0) with the reasons deferred and declined
// (IoTDA result 1, "device in use"), kept as the outcome and told; "later until T" asks again at T.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { consentLater, consentNever, consentNow, ConsentRequest } from "../../src/sota/consent"
import { ConsentGate } from "../../src/sota/consent-gate"
import { OutcomeReporter } from "../../src/sota/outcomes"
import { parseCclk } from "../../src/sota/clock"
import { cclkText } from "../../sim/module/commands/clock"
import { healthy, once, programOutcome, Reboot, run, sent, World } from "./world"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe("consent", () => {
    it("later: refused with AT+QIOTUPDATE=0 as deferred (result 1), kept and told; the hook saw the plan", async () => {
        const asked: ConsentRequest[] = []
        const w = new World({ engine: { consent: new ConsentGate(req => (asked.push(req), consentLater(0, "in a call"))), outcomes: new OutcomeReporter() } })
        await w.install()
        const r = await once(w)
        expect(r).toMatchObject({ result: "refused", reason: "deferred", detail: "in a call" })
        expect(asked).toEqual([{ component: "STM32", from: "1_0_0", to: "2_0_0", source: "", size: 27954, minBattery: 30, minSignal: -113 }])
        expect(w.module.received).toContain("AT+QIOTUPDATE=0")
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD"))).toBe(false)
        expect(await programOutcome(w)).toMatchObject({ outcome: { from: "1_0_0", to: "2_0_0", result: 1, reason: "deferred" }, reported: true })
        expect(sent(w)).toEqual(["SOTA1 STM32 1_0_0 2_0_0 1 deferred <when>"])
        expect(await healthy(w)).toBe("old")
        expect(w.dc.deviceDetail(1, "866123456789012")).toMatchObject({ refusals: 1, notBeforeWhy: "refused" })
    })

    it("never: declined (result 1), with the application's reason in the detail", async () => {
        const w = new World({ engine: { consent: new ConsentGate(() => consentNever("the user said no")), outcomes: new OutcomeReporter() } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "refused", reason: "declined", detail: "the user said no" })
        expect(await programOutcome(w)).toMatchObject({ outcome: { result: 1, reason: "declined" } })
    })

    it("the policy's reasons win: a plan the policy refuses is not put to the hook", async () => {
        let asked = 0
        const w = new World({ engine: { consent: new ConsentGate(() => (asked++, consentNow())) } })
        await w.install()
        w.battery = 10
        expect(await once(w)).toMatchObject({ result: "refused", reason: "low-battery" })
        expect(asked).toBe(0)
    })

    it("now: the plan goes ahead as without a hook", async () => {
        const w = new World({ engine: { consent: new ConsentGate(() => consentNow()) } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
    })

    it("later until T: serve() asks for the plan by itself at T (the platform answers a request in its rejection period), and the hook says now", async () => {
        let calls = 0
        let T = 0
        let secondAt = 0
        const hook = () => {
            calls++
            if (calls === 1) {
                T = Math.floor(Date.now() / 1000) + 600
                return consentLater(T)
            }
            secondAt = Date.now()
            return consentNow()
        }
        const w = new World({ engine: { consent: new ConsentGate(hook) } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        const seen: string[] = []
        await expect(run(e.serve(3_600_000, r => seen.push(`${r.result}:${r.reason}`)), 7_200_000)).rejects.toBeInstanceOf(Reboot)
        expect(seen).toEqual(["refused:deferred"])
        expect(calls).toBe(2)
        // asked at T (the module's clock), not after the serve period nor the platform's 120-minute rejection period
        expect(secondAt / 1000).toBeGreaterThanOrEqual(T - 1)
        expect(secondAt / 1000).toBeLessThan(T + 60)
    })
})

describe("download windows", () => {
    it("outside the window: deferred until its next opening, asked again then; inside: downloaded", async () => {
        // the window opens 30 minutes from now (module clock = the platform's clock, UTC)
        const now = new Date()
        const m = now.getUTCHours() * 60 + now.getUTCMinutes()
        const start = (m + 30) % 1440
        const gate = new ConsentGate(undefined, { download: [{ start, end: (start + 60) % 1440 }], activate: [], utcOffset: 0 })
        const w = new World({ engine: { consent: gate, outcomes: new OutcomeReporter() } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        const seen: string[] = []
        const t0 = Date.now()
        await expect(run(e.serve(3_600_000 * 3, r => seen.push(`${r.result}:${r.reason}:${r.detail}`)), 7_200_000)).rejects.toBeInstanceOf(Reboot)
        expect(seen.length).toBe(1)
        expect(seen[0]).toMatch(/^refused:deferred:outside the download windows until \d+$/)
        const opened = Number(seen[0].split(" ").at(-1)) * 1000
        expect(opened - t0).toBeGreaterThan(28 * 60_000)
        expect(opened - t0).toBeLessThanOrEqual(30 * 60_000)
        // the download began at the opening
        expect(Date.now()).toBeGreaterThanOrEqual(opened)
        expect(Date.now() - opened).toBeLessThan(5 * 60_000)
    })
})

describe("activation: download now, reboot later", () => {
    it("the application activates: the verified image waits, nothing ends the module's plan, gate.activate() reboots into it", async () => {
        const gate = new ConsentGate(undefined, undefined, true)
        const w = new World({ engine: { consent: gate, outcomes: new OutcomeReporter() } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        let done: any = null
        e.checkForUpdate().then(
            r => (done = r),
            err => (done = err)
        )
        // an hour passes with the image verified and held
        for (let t = 0; t < 3_600_000 && !w.progress.some(p => p.state === "ready"); t += 250) await vi.advanceTimersByTimeAsync(250)
        await vi.advanceTimersByTimeAsync(3_600_000)
        expect(done).toBe(null)
        expect(w.progress.at(-1)).toMatchObject({ state: "ready", target: "2_0_0" })
        // the store holds the verified image, not active; the old one runs; the module was not told to end the plan
        expect((await w.runningImage()).version).toBe("1_0_0")
        expect(w.module.received).not.toContain("AT+QIOTUPDATE=0")
        gate.activate()
        for (let t = 0; t < 60_000 && !done; t += 250) await vi.advanceTimersByTimeAsync(250)
        expect(done).toBeInstanceOf(Reboot)
        const e2 = w.powerOn()
        expect(await run(e2.start())).toMatchObject({ version: "2_0_0", trial: "confirmed", platform: "done" })
        expect(await healthy(w)).toBe("new")
        expect(await programOutcome(w)).toMatchObject({ outcome: { from: "1_0_0", to: "2_0_0", result: 0, reason: "" }, reported: true })
    })

    it("an activation window: serve() activates when it opens", async () => {
        const now = new Date()
        const m = now.getUTCHours() * 60 + now.getUTCMinutes()
        const start = (m + 45) % 1440
        const gate = new ConsentGate(undefined, { download: [], activate: [{ start, end: (start + 30) % 1440 }], utcOffset: 0 })
        const w = new World({ engine: { consent: gate } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        const t0 = Date.now()
        await expect(run(e.serve(600_000), 7_200_000)).rejects.toBeInstanceOf(Reboot)
        expect(w.progress.some(p => p.state === "ready")).toBe(true)
        expect(w.module.received).not.toContain("AT+QIOTUPDATE=0")
        expect(Date.now() - t0).toBeGreaterThan(43 * 60_000)
        expect(Date.now() - t0).toBeLessThan(46 * 60_000)
        const e2 = w.powerOn()
        expect(await run(e2.start())).toMatchObject({ version: "2_0_0", trial: "confirmed" })
    })
})

describe("the module's clock", () => {
    it("AT+CCLK? text → seconds since 1970 and the zone, both ways round the emulator's", () => {
        for (const [ms, off] of [
            [Date.UTC(2026, 11, 31, 20, 5, 9), 480],
            [Date.UTC(2026, 0, 2, 3, 4, 5), -300],
            [Date.UTC(2000, 1, 29, 0, 0, 0), 0],
            [Date.UTC(2099, 5, 30, 23, 59, 59), 45],
        ]) {
            const text = cclkText(ms, off).slice('+CCLK: "'.length, -1)
            expect(parseCclk(text)).toEqual({ now: ms / 1000, utcOffset: off })
        }
        for (const bad of ["", "26/13/01,00:00:00+00", "26/01/01,24:00:00+00", "26/01/01,00:00:00*00", "26/01/01 00:00:00+00x", "2x/01/01,00:00:00+00"])
            expect(parseCclk(bad)).toBe(null)
    })
})
