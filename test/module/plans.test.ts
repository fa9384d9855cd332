// What a QuecThing plan can ask, seen through the wire (issue 20): several components applied in
// the platform's order (the next 10700 only after the previous component's version report),
// 10707 and 10708, silent and user-confirmed plans, the push period, the re-push after the
// rejection period, retry counts and intervals, failure counts per device, plan and component.
// All on vitest's fake clock: hours pass without waiting.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { createPipe } from "../../src/link/pipe"
import { DevCenter, PlanSpec } from "../../sim/module/dev-center"
import { QuecModule, QuecModuleOptions } from "../../sim/module/module"
import { cclkText } from "../../sim/module/commands/clock"
import { healthy, run, runDevice, World } from "../sota/world"
import { exchange, lines, makePackage, PK, PS, readRange, Terminal, tick } from "./harness"

const MIN = 60_000
const IMEI = "860000000000001"
const T0 = Date.UTC(2026, 11, 1, 4, 0) // 2026-12-01 04:00 UTC = 12:00 in UTC+8

let dc: DevCenter
beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(T0)
})
afterEach(() => {
    dc?.dispose()
    vi.useRealTimers()
})

function platform() {
    dc = new DevCenter()
    dc.addProduct({ productKey: PK, productSecret: PS }).addComponent(PK, "STM32").addComponent(PK, "DATA").addComponent(PK, "BLE")
    return dc
}

const fwPkg = () => dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(1500) })
const dataPkg = () => dc.addPackage({ productKey: PK, component: "DATA", version: "V7", data: makePackage(300, 5) })

async function device(versions: [string, string][], opts: QuecModuleOptions = {}) {
    const [mcu, modem] = createPipe()
    dc.addDevice(PK, IMEI, "ds-1")
    const module = new QuecModule(modem, { devCenter: dc, imei: IMEI, planCheckMs: 0, ...opts, nvm: { productKey: PK, productSecret: PS, deviceSecret: "ds-1" } })
    const t = new Terminal(mcu)
    await exchange(t, "ATE0")
    await exchange(t, "AT+QIOTREG=1")
    for (const [c, v] of versions) await exchange(t, `AT+QIOTMCUVER="${c}","${v}"`)
    return { module, t }
}

const ota = (r: string) => lines(r).filter(l => l.startsWith("+QIOTEVT: 7,"))
const codes = (r: string) => ota(r).map(l => l.split(",")[1])

/** Confirm the offered component, read all of it, report updating: the lines of the confirm. */
async function take(t: Terminal, size: number): Promise<string[]> {
    const r = await exchange(t, "AT+QIOTUPDATE=1")
    await readRange(t, 0, size)
    expect(ota(await exchange(t, "AT+QIOTUPDATE=3"))).toEqual(["+QIOTEVT: 7,10704"])
    return ota(r)
}

describe("a plan of several components", () => {
    test("applied in the plan's order, one 10700 each, the next only after the previous one's version report; 10707 after the first answer", async () => {
        platform()
        const fw = fwPkg()
        const data = dataPkg()
        const plan = dc.createPlan({ packageIds: [data.id, fw.id] }) // the platform's order: data first
        const { t } = await device([["STM32", "1_0_0"], ["DATA", "V6"]])

        expect(ota(await exchange(t, "AT+QIOTOTAREQ=1"))).toEqual(['+QIOTEVT: 7,10700,"DATA","","V7",30,-113,300'])
        const first = await take(t, 300)
        expect(first.slice(0, 2)).toEqual(["+QIOTEVT: 7,10707,0", `+QIOTEVT: 7,10701,"DATA",300,"${data.md5}",${data.crc32},"${data.sha256}"`])
        // updating, version not yet reported: nothing of the next component, asked or not
        expect(codes(await exchange(t, "AT+QIOTOTAREQ=1"))).toEqual([])
        await tick(20 * MIN)
        expect(codes(t.takeText())).toEqual([])

        // the version report: 10705, then the next component's 10700
        const done = await exchange(t, 'AT+QIOTMCUVER="DATA","V7"')
        expect(lines(done)).toEqual(["OK", '+QIND: "FOTA","END",0', "+QIOTEVT: 7,10705", '+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        const second = await take(t, 1500)
        expect(second[0]).toMatch(/^\+QIOTEVT: 7,10701,"STM32",1500,/) // no 10707: not the first answer
        expect(lines(await exchange(t, 'AT+QIOTMCUVER="STM32","2_0_0"'))).toEqual(["OK", '+QIND: "FOTA","END",0', "+QIOTEVT: 7,10705"])
        await tick(20 * MIN)
        expect(codes(t.takeText())).toEqual([])
        expect(codes(await exchange(t, "AT+QIOTOTAREQ=1"))).toEqual([])

        const d = dc.deviceDetail(plan.id, IMEI)
        expect(d).toMatchObject({ status: "succeeded", consecutiveFailures: 0, attempts: 2, failures: 0, refusals: 0 })
        expect(d.components).toEqual([
            { component: "DATA", from: "V6", to: "V7", status: "updated", failures: 0, detail: "" },
            { component: "STM32", from: "1_0_0", to: "2_0_0", status: "updated", failures: 0, detail: "" },
        ])
        const log = dc.formatLog(dc.logFor(IMEI)).replace(/ t=\d+/g, "").split("\n")
        expect(log.filter(l => /notified|updated/.test(l))).toEqual([
            `#1 ${IMEI} plan 1 DATA: notified`,
            `#6 ${IMEI} plan 1 DATA: updated`,
            `#7 ${IMEI} plan 1 STM32: notified`,
            `#12 ${IMEI} plan 1 STM32: updated`,
        ])
    })

    test("a failed component: the ones before stay upgraded, the next attempt starts at it (10707 again), the failure is counted per component", async () => {
        platform()
        const fw = fwPkg()
        const data = dataPkg()
        const plan = dc.createPlan({ packageIds: [data.id, fw.id] })
        const { t } = await device([["STM32", "1_0_0"], ["DATA", "V6"]])
        await exchange(t, "AT+QIOTOTAREQ=1")
        await take(t, 300)
        await exchange(t, 'AT+QIOTMCUVER="DATA","V7"') // 10705 and the STM32 offer
        await take(t, 1500)
        expect(ota(await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"'))).toEqual(["+QIOTEVT: 7,10706"]) // rolled back

        const d = dc.deviceDetail(plan.id, IMEI)
        expect(d).toMatchObject({ status: "pending", consecutiveFailures: 1, failures: 1 })
        expect(d.components.map(c => [c.component, c.status, c.failures, c.detail])).toEqual([
            ["DATA", "updated", 0, ""],
            ["STM32", "failed", 1, "reported 1_0_0, expected 2_0_0"],
        ])
        // the next attempt: STM32 only; DATA runs its target and is skipped
        expect(ota(await exchange(t, "AT+QIOTOTAREQ=1"))).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        expect((await take(t, 1500))[0]).toBe("+QIOTEVT: 7,10707,0")
        await exchange(t, 'AT+QIOTMCUVER="STM32","2_0_0"')
        expect(dc.deviceState(plan.id, IMEI)).toEqual({ status: "succeeded", consecutiveFailures: 0, attempts: 3 })
    })

    test("a module reboot between two components: the next one is pushed when the device is back, outside the push period too", async () => {
        platform()
        const fw = fwPkg()
        const data = dataPkg()
        // the push period is 00:00-01:00 UTC: now (04:00) it is closed, but the plan is under way
        const plan = dc.createPlan({ packageIds: [data.id, fw.id], pushPeriod: { start: 0, end: 60 } })
        vi.setSystemTime(T0 - 3.5 * 60 * MIN) // 00:30 UTC
        const { module, t } = await device([["STM32", "1_0_0"], ["DATA", "V6"]], { cloudMs: 2000 })
        await exchange(t, "AT+QIOTOTAREQ", 2100)
        await exchange(t, "AT+QIOTUPDATE=1", 2100)
        await readRange(t, 0, 300)
        await exchange(t, "AT+QIOTUPDATE=3", 2100)
        await tick(3 * 60 * MIN) // 03:30 UTC: the push period has closed
        expect(codes(await exchange(t, 'AT+QIOTMCUVER="DATA","V7"', 100))).toEqual(["10705"])
        module.reboot() // before the platform's next 10700 (cloudMs later)
        await tick(60 * MIN)
        expect(codes(t.takeText())).toEqual([])
        await exchange(t, "ATE0", 100)
        const back = await exchange(t, "AT+QIOTREG=1", 2100)
        expect(ota(back)).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        expect(dc.deviceDetail(plan.id, IMEI).components.map(c => c.status)).toEqual(["updated", "offered"])
    })

    test("a component already at its target is skipped; a delta component for another source stops the plan", async () => {
        platform()
        const fw = fwPkg()
        const data = dataPkg()
        const ble = dc.addPackage({ productKey: PK, component: "BLE", version: "3_1", sourceVersion: "3_0", data: makePackage(200, 9) })
        dc.createPlan({ packageIds: [data.id, fw.id, ble.id] })
        const a = await device([["STM32", "1_0_0"], ["DATA", "V7"], ["BLE", "3_0"]])
        expect(ota(await exchange(a.t, "AT+QIOTOTAREQ"))).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        // the same platform, a device whose BLE runs 2_9: nothing before the BLE component is reached...
        await exchange(a.t, 'AT+QIOTMCUVER="BLE","2_9"')
        await exchange(a.t, "AT+QIOTUPDATE=0")
        expect(ota(await exchange(a.t, "AT+QIOTOTAREQ"))).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        await take(a.t, 1500)
        // ...and after STM32's report the plan stops there: BLE 2_9 is not the delta's source
        expect(codes(await exchange(a.t, 'AT+QIOTMCUVER="STM32","2_0_0"'))).toEqual(["10705"])
        await tick(5000)
        expect(codes(a.t.takeText())).toEqual([])
        expect(dc.deviceDetail(1, IMEI).status).toBe("in-progress")
    })

    test("a version package: at most 5 files, one per component, one product; a plan of one package as before", () => {
        platform()
        for (const c of ["C1", "C2", "C3", "C4", "C5", "C6"]) dc.addComponent(PK, c)
        const ids = ["C1", "C2", "C3", "C4", "C5", "C6"].map(c => dc.addPackage({ productKey: PK, component: c, version: "2", data: makePackage(10) }).id)
        expect(dc.createPlan({ packageIds: ids.slice(0, 5) }).packageIds).toEqual(ids.slice(0, 5))
        expect(() => dc.createPlan({ packageIds: ids })).toThrow(/at most 5/)
        const again = dc.addPackage({ productKey: PK, component: "C1", version: "3", data: makePackage(10) })
        expect(() => dc.createPlan({ packageIds: [ids[0], again.id] })).toThrow(/one package per component/)
        dc.addProduct({ productKey: "other", productSecret: "s" }).addComponent("other", "C1")
        const foreign = dc.addPackage({ productKey: "other", component: "C1", version: "2", data: makePackage(10) })
        expect(() => dc.createPlan({ packageIds: [ids[1], foreign.id] })).toThrow(/one product/)
        expect(() => dc.createPlan({ packageIds: [] })).toThrow()
        expect(() => dc.createPlan({ packageId: ids[0], packageIds: [ids[1]] })).toThrow()
        expect(dc.createPlan({ packageId: ids[0] })).toMatchObject({ packageId: ids[0], packageIds: [ids[0]], mode: "silent", rejectionPeriodMin: 120, failLimit: 5 })
    })
})

describe("10707 and 10708", () => {
    test("a refusal of a multi-component plan's first component: 10707,1; a single-component plan raises no 10707", async () => {
        platform()
        const fw = fwPkg()
        const data = dataPkg()
        dc.createPlan({ packageIds: [data.id, fw.id] })
        const { t } = await device([["STM32", "1_0_0"], ["DATA", "V6"]])
        await exchange(t, "AT+QIOTOTAREQ")
        expect(lines(await exchange(t, "AT+QIOTUPDATE=0"))).toEqual(["OK", "+QIOTEVT: 7,10707,1"])
        dc.stopPlan(1)
        dc.createPlan({ packageId: fw.id })
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual(["10700"])
        expect(codes(await exchange(t, "AT+QIOTUPDATE=1"))).toEqual(["10701", "10702", "10703"])
    })

    test("a multi-component offer left unanswered: 10708 after the operation timeout, counted as a failure; a single offer waits", async () => {
        platform()
        const fw = fwPkg()
        const data = dataPkg()
        const plan = dc.createPlan({ packageIds: [data.id, fw.id] })
        const { t } = await device([["STM32", "1_0_0"], ["DATA", "V6"]])
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual(["10700"])
        await tick(10 * MIN - 100)
        expect(codes(t.takeText())).toEqual([])
        await tick(200)
        expect(t.takeText()).toBe("\r\n+QIOTEVT: 7,10708\r\n")
        expect(dc.deviceDetail(plan.id, IMEI)).toMatchObject({ status: "pending", consecutiveFailures: 1, failures: 1 })
        expect(dc.logFor(IMEI).at(-1)).toMatchObject({ step: "failed", component: "DATA", detail: "no answer to 10700 (10708)" })
        expect(codes(await exchange(t, "AT+QIOTUPDATE=1"))).toEqual([]) // withdrawn: ERROR
        // a single-component plan's offer is still there an hour later
        dc.stopPlan(plan.id)
        dc.createPlan({ packageId: fw.id })
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual(["10700"])
        await tick(60 * MIN)
        expect(codes(await exchange(t, "AT+QIOTUPDATE=1"))).toEqual(["10701", "10702", "10703"])
    })

    test("the timeout is the module's option; 0 waits forever", async () => {
        platform()
        dc.createPlan({ packageIds: [dataPkg().id, fwPkg().id] })
        const { t } = await device([["STM32", "1_0_0"], ["DATA", "V6"]], { operationTimeoutMs: 0 })
        await exchange(t, "AT+QIOTOTAREQ")
        await tick(120 * MIN)
        expect(codes(t.takeText())).toEqual([])
        expect(codes(await exchange(t, "AT+QIOTUPDATE=1"))).toEqual(["10707", "10701", "10702", "10703"])
    })
})

describe("refusals and the rejection period", () => {
    test("no push during the rejection period (120 min by default), then the platform pushes the plan again", async () => {
        platform()
        const plan = dc.createPlan({ packageId: fwPkg().id })
        const { t } = await device([["STM32", "1_0_0"]], { planCheckMs: 10 * MIN })
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual(["10700"])
        await exchange(t, "AT+QIOTUPDATE=0")
        dc.push()
        await tick(119 * MIN) // eleven periodic checks of the module, and the push: nothing
        expect(codes(t.takeText())).toEqual([])
        await tick(1 * MIN)
        expect(ota(t.takeText())).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        expect(dc.deviceDetail(plan.id, IMEI)).toMatchObject({ status: "pending", refusals: 1, failures: 0, consecutiveFailures: 0, notBeforeWhy: "refused" })
        expect(dc.logFor(IMEI).map(e => e.step)).toEqual(["notified", "refused", "notified"])
    })

    test("the device's own request is answered during the period (it changed its mind); a period of 10 minutes", async () => {
        platform()
        dc.createPlan({ packageId: fwPkg().id, rejectionPeriodMin: 10 })
        const { t } = await device([["STM32", "1_0_0"]])
        await exchange(t, "AT+QIOTOTAREQ")
        await exchange(t, "AT+QIOTUPDATE=0")
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual(["10700"])
        await exchange(t, "AT+QIOTUPDATE=0")
        await tick(10 * MIN)
        expect(codes(t.takeText())).toEqual(["10700"])
    })

    test("the platform's ranges: rejection period 10-1440 min, battery 0-100 %, signal -140..0 dBm, fail limit 1-5, retry interval 0-1440", () => {
        platform()
        const id = fwPkg().id
        const bad: Partial<PlanSpec>[] = [
            { rejectionPeriodMin: 9 },
            { rejectionPeriodMin: 1441 },
            { minBattery: 101 },
            { minBattery: -1 },
            { minSignal: 1 },
            { minSignal: -141 },
            { failLimit: 0 },
            { failLimit: 6 },
            { retryIntervalMin: 1441 },
            { pushPeriod: { start: 0, end: 1440 } },
        ]
        for (const b of bad) expect(() => dc.createPlan({ packageId: id, ...b }), JSON.stringify(b)).toThrow()
        expect(dc.createPlan({ packageId: id, rejectionPeriodMin: 1440, minBattery: 100, minSignal: -140, failLimit: 1 })).toMatchObject({ rejectionPeriodMin: 1440 })
    })
})

describe("retries", () => {
    test("failLimit consecutive failures end the device's upgrade in the plan; the retry interval holds the plan back, then it is pushed", async () => {
        platform()
        const plan = dc.createPlan({ packageId: fwPkg().id, failLimit: 2, retryIntervalMin: 5 })
        const { t } = await device([["STM32", "1_0_0"]])
        await exchange(t, "AT+QIOTOTAREQ")
        await exchange(t, "AT+QIOTUPDATE=1")
        expect(codes(await exchange(t, "AT+QIOTUPDATE=0"))).toEqual(["10706"]) // aborted: a failure
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([]) // held back, asked or not
        await tick(5 * MIN - 100)
        expect(codes(t.takeText())).toEqual([])
        await tick(100)
        expect(codes(t.takeText())).toEqual(["10700"]) // pushed
        await exchange(t, "AT+QIOTUPDATE=1")
        await exchange(t, "AT+QIOTUPDATE=0")
        expect(dc.deviceDetail(plan.id, IMEI)).toMatchObject({ status: "failed", consecutiveFailures: 2, failures: 2, attempts: 2 })
        expect(dc.deviceDetail(plan.id, IMEI).components[0]).toMatchObject({ status: "failed", failures: 2, detail: "aborted by the MCU" })
        await tick(60 * MIN)
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
    })
})

describe("user-confirmed plans", () => {
    test("invisible to the device until its user confirms; then pushed at once and, on the wire, a silent plan", async () => {
        platform()
        const plan = dc.createPlan({ packageId: fwPkg().id, mode: "user-confirmed" })
        const { t } = await device([["STM32", "1_0_0"]])
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
        dc.userConfirm(plan.id, IMEI)
        await tick(5)
        expect(ota(t.takeText())).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1500'])
        await take(t, 1500)
        expect(codes(await exchange(t, 'AT+QIOTMCUVER="STM32","2_0_0"'))).toEqual(["10705"])
        expect(dc.deviceDetail(plan.id, IMEI)).toMatchObject({ status: "succeeded", user: "confirmed" })
    })

    test("an appointed period: pushed when it opens, offered only inside it; at least an hour", async () => {
        platform()
        const plan = dc.createPlan({ packageId: fwPkg().id, mode: "user-confirmed" })
        const { t } = await device([["STM32", "1_0_0"]])
        expect(() => dc.userAppoint(plan.id, IMEI, T0 + 60 * MIN, T0 + 119 * MIN)).toThrow(/one hour/)
        dc.userAppoint(plan.id, IMEI, T0 + 60 * MIN, T0 + 120 * MIN)
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
        await tick(60 * MIN)
        expect(codes(t.takeText())).toEqual(["10700"])
        await exchange(t, "AT+QIOTUPDATE=0") // refused inside the period...
        await tick(120 * MIN) // ...and the rejection period ends after the appointment: never again
        expect(codes(t.takeText())).toEqual([])
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
    })

    test("cancelled by the user: failed, never offered; a silent plan takes no user action", async () => {
        platform()
        const plan = dc.createPlan({ packageId: fwPkg().id, mode: "user-confirmed" })
        const { t } = await device([["STM32", "1_0_0"]])
        dc.userCancel(plan.id, IMEI)
        expect(dc.deviceState(plan.id, IMEI).status).toBe("failed")
        dc.userConfirm(plan.id, IMEI)
        await tick(5)
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
        const silent = dc.createPlan({ packageId: 1 })
        expect(() => dc.userConfirm(silent.id, IMEI)).toThrow(/not user-confirmed/)
    })
})

describe("push period and planned time", () => {
    test("only inside the push period, in the plan's time zone, wrapping past midnight; pushed when it opens", async () => {
        platform()
        // 22:00-02:00 in UTC+8; the clock says 12:00 there
        dc.createPlan({ packageId: fwPkg().id, pushPeriod: { start: 22 * 60, end: 2 * 60 }, utcOffset: 480 })
        const { t } = await device([["STM32", "1_0_0"]])
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
        await tick(10 * 60 * MIN - 1000)
        expect(codes(t.takeText())).toEqual([])
        await tick(1000)
        expect(codes(t.takeText())).toEqual(["10700"]) // 22:00 local
        expect(new Date(Date.now()).toISOString()).toMatch(/^2026-12-01T14:00:00/)
        await exchange(t, "AT+QIOTUPDATE=0")
        await tick(3 * 60 * MIN + 30 * MIN) // 01:30 local: still open
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual(["10700"])
        await exchange(t, "AT+QIOTUPDATE=0")
        await tick(60 * MIN) // 02:30 local: closed
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
    })

    test("the planned time: not before its start (pushed then), never after its end", async () => {
        platform()
        dc.createPlan({ packageId: fwPkg().id, startsAt: T0 + 30 * MIN, endsAt: T0 + 90 * MIN })
        const { t } = await device([["STM32", "1_0_0"]])
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
        await tick(30 * MIN)
        expect(codes(t.takeText())).toEqual(["10700"])
        await exchange(t, "AT+QIOTUPDATE=0")
        await tick(60 * MIN)
        expect(codes(await exchange(t, "AT+QIOTOTAREQ"))).toEqual([])
    })
})

describe("the data channel (AT+QIOTSEND), where outcomes will be reported", () => {
    test("the inline form: OK, 4,10200 for QoS 1 and 2, none for 0; the platform logs the bytes", async () => {
        platform()
        const { t } = await device([["STM32", "1_0_0"]])
        const report = "SOTA1 STM32 1_0_0 2_0_0 7 sha256-mismatch 1796083200"
        expect(lines(await exchange(t, `AT+QIOTSEND=1,${report.length},"${report}"`))).toEqual(["OK", "+QIOTEVT: 4,10200"])
        expect(lines(await exchange(t, 'AT+QIOTSEND=0,3,"a,b"'))).toEqual(["OK"])
        expect(dc.uplinks.map(u => [u.deviceKey, u.data.toString("latin1")])).toEqual([
            [IMEI, report],
            [IMEI, "a,b"],
        ])
        expect(lines(await exchange(t, "AT+QIOTSEND=?"))).toEqual(["+QIOTSEND: (0-2),(1-1024),<data>", "OK"])
    })

    test("a length that is not the data's, a bad mode, no data, or no connection: ERROR, nothing logged", async () => {
        platform()
        const { t } = await device([["STM32", "1_0_0"]])
        for (const bad of ['AT+QIOTSEND=1,4,"abc"', 'AT+QIOTSEND=3,3,"abc"', "AT+QIOTSEND=1,3", 'AT+QIOTSEND=1,0,""', "AT+QIOTSEND=1,3,abc"])
            expect([bad, lines(await exchange(t, bad))]).toEqual([bad, ["ERROR"]])
        await exchange(t, "AT+QIOTREG=0")
        expect(lines(await exchange(t, 'AT+QIOTSEND=1,3,"abc"'))).toEqual(["ERROR"])
        expect(dc.uplinks).toEqual([])
    })
})

describe("the module's clock (AT+CCLK?), for outcome times and windows", () => {
    test("local time and the zone in quarters of an hour, from the platform's clock", async () => {
        platform()
        const { t } = await device([["STM32", "1_0_0"]], { utcOffsetMin: 480 })
        vi.setSystemTime(Date.UTC(2026, 11, 31, 20, 5, 9))
        expect(lines(await exchange(t, "AT+CCLK?"))).toEqual(['+CCLK: "27/01/01,04:05:09+32"', "OK"])
        expect(lines(await exchange(t, "AT+CCLK=?"))).toEqual(["OK"])
        expect(lines(await exchange(t, 'AT+CCLK="26/01/01,00:00:00+00"'))).toEqual(["ERROR"])
        expect(cclkText(Date.UTC(2026, 0, 2, 3, 4, 5), -300)).toBe('+CCLK: "26/01/01,22:04:05-20"')
        expect(cclkText(Date.UTC(2026, 0, 2, 3, 4, 5), 0)).toBe('+CCLK: "26/01/02,03:04:05+00"')
    })
})

describe("today's engine against a two-component plan (the baseline the engine work of issue 20 changes)", () => {
    test("the program component is upgraded through 10707; the data component that follows is refused as not its own, and the platform holds it back", async () => {
        // the engine's clock (the @devicescript/core shim) counts from the real time it was loaded at: not from T0 in the past
        vi.useRealTimers()
        vi.useFakeTimers()
        const w = new World()
        await w.install()
        dc = w.dc
        w.dc.stopPlan(1)
        w.dc.addComponent("p11tst", "DATA")
        const data = w.dc.addPackage({ productKey: "p11tst", component: "DATA", version: "V7", data: makePackage(300, 5) })
        const plan = w.dc.createPlan({ packageIds: [w.pkg.id, data.id] })
        w.module.nvm.mcuVersions.push(["DATA", "V6"]) // reported by an earlier firmware: the module keeps it
        const heard: string[] = []
        const urc = w.module.urc.bind(w.module)
        w.module.urc = (line: string) => {
            if (line.startsWith("+QIOTEVT: 7,")) heard.push(line.split(",").slice(0, 3).join(","))
            return urc(line)
        }
        const log = await runDevice(w, 3)
        expect(log[0].rebooted).toBe(true)
        expect(await healthy(w)).toBe("new")
        expect(heard.slice(0, 3)).toEqual(['+QIOTEVT: 7,10700,"STM32"', "+QIOTEVT: 7,10707,0", '+QIOTEVT: 7,10701,"STM32"'])
        expect(heard).toContain('+QIOTEVT: 7,10700,"DATA"')
        expect(log.at(-1)!.plan).toMatchObject({ result: "refused", reason: "not-our-component" })
        const d = w.dc.deviceDetail(plan.id, "866123456789012")
        expect(d.components.map(c => [c.component, c.status])).toEqual([
            ["STM32", "updated"],
            ["DATA", "refused"],
        ])
        expect(d).toMatchObject({ status: "pending", refusals: 1, failures: 0, notBeforeWhy: "refused" })
        expect(heard.filter(l => l.startsWith("+QIOTEVT: 7,10707"))).toEqual(["+QIOTEVT: 7,10707,0"]) // not for the second component
    })
})
