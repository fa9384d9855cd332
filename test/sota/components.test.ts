// Issue 20 in the node engine: a plan of several components walked in the platform's order (the
// program's A/B slots and a data component's own store on the same flash), the last outcome per
// component kept in its store and told over AT+QIOTSEND, and what a partly applied plan leaves.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { OutcomeKeeper } from "../../src/flash/outcome-keeper"
import { decodeOutcome } from "../../src/sota/outcome"
import { OutcomeReporter } from "../../src/sota/outcomes"
import { PowerCut } from "../../sim/flash/nor-flash"
import { makePackage } from "../module/harness"
import { everyCut, healthy, programOutcome, Reboot, run, sent, World, WorldOptions } from "./world"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const IMEI = "866123456789012"
const DATA = makePackage(3000, 5)

/** A device with the program (1_0_0) and DATA (V6); the platform's plan: STM32 2_0_0, then DATA V7. */
async function twoComponents(o: WorldOptions = {}, order: "program-first" | "data-first" = "program-first", failLimit = 1) {
    const w = new World({ data: { name: "DATA", version: "V6", slotSize: 4096 }, engine: { outcomes: new OutcomeReporter() }, ...o })
    await w.install()
    w.dc.stopPlan(1)
    w.dc.addComponent("p11tst", "DATA")
    const data = w.dc.addPackage({ productKey: "p11tst", component: "DATA", version: "V7", data: DATA })
    const ids = order === "program-first" ? [w.pkg.id, data.id] : [data.id, w.pkg.id]
    const plan = w.dc.createPlan({ packageIds: ids, failLimit })
    return { w, plan }
}

/**
 * The device's life: power on, start, then take plans until none is left (a reboot or a power cut
 * ends a boot and the next begins). Returns the plan results in order.
 */
async function walk(w: World, maxBoots = 6): Promise<string[]> {
    const results: string[] = []
    for (let boot = 0; boot < maxBoots; boot++) {
        const e = w.powerOn()
        try {
            await run(e.start())
            let r = await run(e.checkForUpdate())
            for (let turn = 0; turn < 6; turn++) {
                results.push(`${r.result}${r.reason ? ":" + r.reason : ""}`)
                if (r.result === "no-plan") return results
                // the platform pushes the plan's next component after the version report
                r = await run(e.waitForPlan(15_000))
            }
        } catch (err) {
            if (err instanceof Reboot) {
                results.push("rebooting")
                continue
            }
            if (!(err instanceof PowerCut) && !w.flash.isOff()) throw err
        }
        if (w.flash.isOff()) w.flash.powerOn()
    }
    return results
}

/** The data component as a reader would find it: its running version and bytes, and its outcome record. */
async function dataState(w: World) {
    const s = new ImageStore(w.flash, w.dataLayout!, { yielder: async () => {}, yieldEvery: 1 << 30, outcomes: new OutcomeKeeper() })
    await s.mount()
    const st = storeState(s)
    const info = st.slots[st.active]
    return { version: info.version, state: info.state, bytes: await s.read(st.active, 0, info.size), outcome: decodeOutcome(s.outcomes.last()), reported: s.outcomes.told() }
}

describe("a plan of two components", () => {
    it("the program, then the data: both upgraded in the platform's order, each reported, both outcomes kept and told", async () => {
        const { w, plan } = await twoComponents()
        const t0 = Date.now() / 1000
        const results = await walk(w)
        expect(results).toEqual(["rebooting", "updated", "no-plan"])
        expect(await healthy(w)).toBe("new")
        const d = await dataState(w)
        expect([d.version, d.state, d.bytes.equals(DATA)]).toEqual(["V7", "confirmed", true])
        const detail = w.dc.deviceDetail(plan.id, IMEI)
        expect(detail.components.map(c => [c.component, c.status])).toEqual([
            ["STM32", "updated"],
            ["DATA", "updated"],
        ])
        expect(detail.status).toBe("succeeded")
        expect(sent(w)).toEqual(["SOTA1 STM32 1_0_0 2_0_0 0 - <when>", "SOTA1 DATA V6 V7 0 - <when>"])
        expect(d.outcome).toMatchObject({ from: "V6", to: "V7", result: 0, reason: "" })
        expect(d.reported).toBe(true)
        const p = await programOutcome(w)
        expect(p.outcome).toMatchObject({ from: "1_0_0", to: "2_0_0", result: 0, reason: "" })
        expect(p.reported).toBe(true)
        // the time is the module's clock (AT+CCLK?), seconds since 1970
        const when = Number(w.dc.uplinks[0].data.toString("latin1").split(" ").at(-1))
        expect(when).toBeGreaterThanOrEqual(Math.floor(t0))
        expect(when).toBeLessThanOrEqual(Date.now() / 1000)
    })

    it("the data first, then the program: the data needs no reboot, the program's reboot ends the walk", async () => {
        const { w, plan } = await twoComponents({}, "data-first")
        const results = await walk(w)
        expect(results).toEqual(["updated", "rebooting", "no-plan"])
        expect(await healthy(w)).toBe("new")
        expect((await dataState(w)).version).toBe("V7")
        expect(w.dc.deviceDetail(plan.id, IMEI).components.map(c => c.status)).toEqual(["updated", "updated"])
    })

    it("the second fails (the application refuses the data): the first stays upgraded, both outcomes read back", async () => {
        const { w, plan } = await twoComponents()
        w.dataCheckOk = false
        const results = await walk(w)
        expect(results[0]).toBe("rebooting")
        expect(results[1]).toBe("failed:self-test-failed")
        expect(await healthy(w)).toBe("new")
        const d = await dataState(w)
        expect([d.version, d.state, d.bytes.equals(w.dataImage1!)]).toEqual(["V6", "confirmed", true])
        expect(d.outcome).toMatchObject({ from: "V6", to: "V7", result: 10, reason: "self-test-failed" })
        expect(d.reported).toBe(true)
        expect((await programOutcome(w)).outcome).toMatchObject({ from: "1_0_0", to: "2_0_0", result: 0, reason: "" })
        const detail = w.dc.deviceDetail(plan.id, IMEI)
        expect(detail.components.map(c => [c.component, c.status])).toEqual([
            ["STM32", "updated"],
            ["DATA", "failed"],
        ])
        expect(sent(w)).toEqual(["SOTA1 STM32 1_0_0 2_0_0 0 - <when>", "SOTA1 DATA V6 V7 10 self-test-failed <when>"])
        // the refused data package is remembered: offered again (a new plan), it is refused before any download
        w.dc.createPlan({ packageIds: [plan.packageIds[1]] })
        const reads = w.module.received.filter(c => c.startsWith("AT+QIOTOTARD")).length
        const again = await walk(w, 1)
        expect(again[0]).toBe("refused:failed-before")
        expect(w.module.received.filter(c => c.startsWith("AT+QIOTOTARD")).length).toBe(reads)
        expect((await dataState(w)).version).toBe("V6")
    })

    it("an outcome the platform never acknowledged (no 4,10200) is sent again at the next start-up", async () => {
        const { w } = await twoComponents()
        // the first report's acknowledgement is lost on the line
        const urc = w.module.urc.bind(w.module)
        let lost = 0
        w.module.urc = (line: string) => {
            if (lost === 0 && line.startsWith("+QIOTEVT: 4,10200")) {
                lost++
                return Promise.resolve()
            }
            return urc(line)
        }
        await walk(w)
        expect(lost).toBe(1)
        // the program's success went out once unacknowledged; the data's was sent and acknowledged
        expect((await programOutcome(w)).reported).toBe(false)
        const e = w.powerOn()
        await run(e.start())
        expect((await programOutcome(w)).reported).toBe(true)
        expect(sent(w).filter(s => s.startsWith("SOTA1 STM32"))).toEqual(["SOTA1 STM32 1_0_0 2_0_0 0 - <when>", "SOTA1 STM32 1_0_0 2_0_0 0 - <when>"])
    })

    it("a rolled-back program keeps its failure as the outcome across the rollback and the reboots", async () => {
        const { w } = await twoComponents()
        w.selfTestOk = false
        const results = await walk(w, 3)
        expect(results[0]).toBe("rebooting")
        expect(await healthy(w)).toBe("old")
        const p = await programOutcome(w)
        expect(p.outcome).toMatchObject({ from: "1_0_0", to: "2_0_0", result: 10, reason: "self-test-failed" })
        expect(p.reported).toBe(true)
        expect(sent(w)[0]).toBe("SOTA1 STM32 1_0_0 2_0_0 10 self-test-failed <when>")
    })
})

describe("10707 and 10708", () => {
    it("a 10708 (an offer withdrawn unanswered) makes the agent ask again; the plan's offer that follows is taken", async () => {
        const { w } = await twoComponents()
        const e = w.powerOn()
        await run(e.start())
        const asks = () => w.module.received.filter(c => c.startsWith("AT+QIOTOTAREQ")).length
        const before = asks()
        await w.module.urc("+QIOTEVT: 7,10708")
        expect(await run(e.waitForPlan(5_000))).toMatchObject({ result: "no-plan" })
        expect(asks()).toBe(before + 1)
        // the request's answer is the plan's first component, taken by the next wait (serve's loop)
        await expect(run(e.waitForPlan(15_000))).rejects.toBeInstanceOf(Reboot)
        expect(await w.runningImage()).toMatchObject({ version: "2_0_0", state: "trial" })
    })
})

describe("power cuts across a two-component plan", () => {
    it("a cut at every flash operation: each component at its old or new version, never lost, and the plan finishes after the restart", async () => {
        // count the flash operations of a clean walk
        const clean = await twoComponents()
        const ops0 = clean.w.flash.ops
        await walk(clean.w)
        const ops = clean.w.flash.ops - ops0
        expect(ops).toBeGreaterThan(20)
        let unfinished = 0
        const plans = everyCut(ops)
        for (const cut of plans) {
            // a cut mid-download ends the module's attempt (AT+QIOTUPDATE=0 after the restart): a failure the platform counts
            const { w } = await twoComponents({}, "program-first", 5)
            w.flash.resetCounters()
            w.flash.armCut(cut)
            await walk(w, 8)
            const program = await healthy(w)
            const d = await dataState(w)
            expect(["old", "new"]).toContain(program)
            expect(d.state).toBe("confirmed")
            expect(d.version === "V6" ? d.bytes.equals(w.dataImage1!) : d.version === "V7" && d.bytes.equals(DATA), `cut ${JSON.stringify(cut)}: DATA ${d.version}`).toBe(true)
            // the finished plan's outcomes, whatever the cut made the walk go through
            if (program === "new") expect([(await programOutcome(w)).outcome, `cut ${JSON.stringify(cut)}`]).toMatchObject([{ to: "2_0_0", result: 0 }, expect.anything()])
            if (d.version === "V7") expect([d.outcome, `cut ${JSON.stringify(cut)}`]).toMatchObject([{ from: "V6", to: "V7", result: 0 }, expect.anything()])
            if (program !== "new" || d.version !== "V7") unfinished++
        }
        expect(unfinished).toBe(0)
        expect(plans.length).toBeGreaterThan(300) // 83 operations × 4 today
    }, 600_000)
})
