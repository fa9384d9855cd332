// The Developer Center model, seen through the wire: which device is offered which plan
// (full or delta, whitelist, blacklist), unsolicited plans, the 5-failure rule, and the log.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { createPipe } from "../../src/link/pipe"
import { DevCenter, FAIL_LIMIT } from "../../sim/module/dev-center"
import { QuecModule } from "../../sim/module/module"
import { exchange, lines, makePackage, PK, PS, readRange, Terminal, tick } from "./harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function platform() {
    const dc = new DevCenter()
    dc.addProduct({ productKey: PK, productSecret: PS, name: "demo" }).addComponent(PK, "STM32")
    return dc
}

async function device(dc: DevCenter, imei: string, version: string, opts = {}) {
    const [mcu, modem] = createPipe()
    dc.addDevice(PK, imei, "ds-" + imei)
    const module = new QuecModule(modem, {
        devCenter: dc,
        imei,
        ...opts,
        nvm: { productKey: PK, productSecret: PS, deviceSecret: "ds-" + imei },
    })
    const t = new Terminal(mcu)
    await exchange(t, "ATE0")
    await exchange(t, "AT+QIOTREG=1")
    await exchange(t, `AT+QIOTMCUVER="STM32","${version}"`)
    return { module, t }
}

const offerOf = (r: string) => lines(r).find(l => l.startsWith("+QIOTEVT: 7,10700")) || ""

describe("which plan a device is offered", () => {
    test("a delta package only to devices on its source version; a full one to the others", async () => {
        const dc = platform()
        const full = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(3000) })
        const delta = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", sourceVersion: "1_0_0", data: makePackage(700, 3) })
        dc.createPlan({ packageId: full.id })
        dc.createPlan({ packageId: delta.id, minBattery: 50, minSignal: -100 })
        const a = await device(dc, "860000000000001", "1_0_0")
        const b = await device(dc, "860000000000002", "1_5_0")
        const c = await device(dc, "860000000000003", "2_0_0")
        expect(offerOf(await exchange(a.t, "AT+QIOTOTAREQ"))).toBe('+QIOTEVT: 7,10700,"STM32","1_0_0","2_0_0",50,-100,700')
        expect(offerOf(await exchange(b.t, "AT+QIOTOTAREQ"))).toBe('+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,3000')
        expect(await exchange(c.t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n") // already on the target
    })

    test("whitelist limits, blacklist wins over it", async () => {
        const dc = platform()
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "V2_0", data: makePackage(100) })
        dc.createPlan({ packageId: pkg.id, whitelist: ["860000000000001", "860000000000002"], blacklist: ["860000000000002"] })
        const a = await device(dc, "860000000000001", "V1_0")
        const b = await device(dc, "860000000000002", "V1_0")
        const c = await device(dc, "860000000000003", "V1_0")
        expect(offerOf(await exchange(a.t, "AT+QIOTOTAREQ"))).toBe('+QIOTEVT: 7,10700,"STM32","","V2_0",30,-113,100')
        expect(await exchange(b.t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n")
        expect(await exchange(c.t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n")
    })

    test("a stopped plan is not offered; a device that never reported the component is not offered", async () => {
        const dc = platform()
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(100) })
        const plan = dc.createPlan({ packageId: pkg.id })
        const [mcu, modem] = createPipe()
        dc.addDevice(PK, "860000000000009", "ds")
        new QuecModule(modem, { devCenter: dc, imei: "860000000000009", nvm: { productKey: PK, productSecret: PS, deviceSecret: "ds" } })
        const t = new Terminal(mcu)
        await exchange(t, "ATE0")
        await exchange(t, "AT+QIOTREG=1")
        expect(await exchange(t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n")
        await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"')
        dc.stopPlan(plan.id)
        expect(await exchange(t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n")
    })

    test("bad model input is refused", () => {
        const dc = platform()
        expect(() => dc.addPackage({ productKey: PK, component: "STM32", version: "2 0", data: makePackage(10) })).toThrow()
        expect(() => dc.addPackage({ productKey: PK, component: "ESP32", version: "2_0_0", data: makePackage(10) })).toThrow()
        expect(() => dc.addPackage({ productKey: PK, component: "STM32", version: "1_0", sourceVersion: "1_0", data: makePackage(10) })).toThrow()
        expect(() => dc.addPackage({ productKey: PK, component: "STM32", version: "1_0", data: Buffer.alloc(0) })).toThrow()
        expect(() => dc.createPlan({ packageId: 42 })).toThrow()
    })
})

describe("unsolicited plans", () => {
    test("a pushed plan arrives as 10700 without AT+QIOTOTAREQ", async () => {
        const dc = platform()
        const d = await device(dc, "860000000000001", "1_0_0", { planCheckMs: 0 })
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(100) })
        dc.createPlan({ packageId: pkg.id })
        await tick(50)
        expect(d.t.takeText()).toBe("")
        dc.push()
        await tick(5)
        expect(d.t.takeText()).toBe('\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,100\r\n')
    })

    test("the module's periodic check finds a new plan (10 minutes by default)", async () => {
        const dc = platform()
        const d = await device(dc, "860000000000001", "1_0_0")
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(100) })
        dc.createPlan({ packageId: pkg.id })
        await tick(599000)
        expect(d.t.takeText()).toBe("")
        await tick(1000)
        expect(d.t.takeText()).toBe('\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,100\r\n')
    })
})

describe("failures and the log", () => {
    test(`${FAIL_LIMIT} consecutive failures mark the device's upgrade failed: no more offers`, async () => {
        const dc = platform()
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(2000) })
        dc.createPlan({ packageId: pkg.id })
        const imei = "860000000000001"
        const d = await device(dc, imei, "1_0_0")
        for (let i = 1; i <= FAIL_LIMIT; i++) {
            expect(offerOf(await exchange(d.t, "AT+QIOTOTAREQ"))).not.toBe("")
            await exchange(d.t, "AT+QIOTUPDATE=1")
            await readRange(d.t, 0, 2000)
            await exchange(d.t, "AT+QIOTUPDATE=3")
            expect(await exchange(d.t, 'AT+QIOTMCUVER="STM32","1_0_0"')).toBe("\r\nOK\r\n\r\n+QIOTEVT: 7,10706\r\n")
            expect(dc.deviceState(1, imei)).toEqual({
                status: i < FAIL_LIMIT ? "pending" : "failed",
                consecutiveFailures: i,
                attempts: i,
            })
        }
        expect(await exchange(d.t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n")
        expect(dc.logFor(imei).filter(e => e.step === "failed").length).toBe(FAIL_LIMIT)
    })

    test("a success resets the count; the log reads as the platform's five steps", async () => {
        const dc = platform()
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(2000) })
        dc.createPlan({ packageId: pkg.id })
        const imei = "860000000000001"
        const d = await device(dc, imei, "1_0_0", { pieceSize: 1024 })
        await exchange(d.t, "AT+QIOTOTAREQ")
        await exchange(d.t, "AT+QIOTUPDATE=1")
        await exchange(d.t, "AT+QIOTUPDATE=0") // abort: one failure
        expect(dc.deviceState(1, imei).consecutiveFailures).toBe(1)
        await exchange(d.t, "AT+QIOTOTAREQ")
        await exchange(d.t, "AT+QIOTUPDATE=1")
        await readRange(d.t, 0, 1024)
        await exchange(d.t, "AT+QIOTUPDATE=2")
        await readRange(d.t, 1024, 2000)
        await exchange(d.t, "AT+QIOTUPDATE=3")
        await exchange(d.t, 'AT+QIOTMCUVER="STM32","2_0_0"')
        expect(dc.deviceState(1, imei)).toEqual({ status: "succeeded", consecutiveFailures: 0, attempts: 2 })
        const text = dc.formatLog(dc.logFor(imei)).replace(/ t=\d+/g, "")
        expect(text).toBe(
            [
                "#1 860000000000001 plan 1 STM32: notified",
                "#2 860000000000001 plan 1 STM32: download-start",
                "#3 860000000000001 plan 1 STM32: downloading 51%",
                "#4 860000000000001 plan 1 STM32: failed (aborted by the MCU)",
                "#5 860000000000001 plan 1 STM32: notified",
                "#6 860000000000001 plan 1 STM32: download-start",
                "#7 860000000000001 plan 1 STM32: downloading 51%",
                "#8 860000000000001 plan 1 STM32: downloading 100%",
                "#9 860000000000001 plan 1 STM32: downloaded",
                "#10 860000000000001 plan 1 STM32: updating",
                "#11 860000000000001 plan 1 STM32: updated",
            ].join("\n"),
        )
        expect(await exchange(d.t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n")
    })
})
