// The web view's model without a browser: what the page is fed from a run's progress events and
// AT lines (rate and time left, the plan, the states), and the flash read as slots and records
// through the NOR model's peek() (no flash operation counted).
import { describe, expect, it, vi } from "vitest"
import type { SotaProgress } from "../../src/sota/progress"
import { SimDevice } from "../../sim/device/device"
import { readStore } from "../../sim/web/store-reader"
import { WebModelBuilder, WebView } from "../../sim/web/web-view"

const p = (state: SotaProgress["state"], bytes = 0, total = 0, target = "2_0_0", reason: any = null): SotaProgress => ({
    state,
    version: "1_0_0",
    target,
    bytes,
    total,
    reason,
    detail: "",
})

describe("the web view's model", () => {
    it("a download's rate and time left, measured over the last seconds; a resume starts a new measurement", () => {
        vi.useFakeTimers()
        try {
            const b = new WebModelBuilder("t")
            b.progress(p("offered", 0, 40960))
            expect(b.m.plan).toMatchObject({ target: "2_0_0", size: 40960, status: "offered" })
            for (let i = 0; i <= 10; i++) {
                b.progress(p("downloading", i * 1024, 40960))
                vi.advanceTimersByTime(500)
            }
            expect(b.m.plan.status).toBe("accepted")
            const d = b.m.download
            expect(d).toMatchObject({ bytes: 10240, total: 40960, percent: 25 })
            expect(d.rate).toBe(2048) // 1 KB every 500 ms
            expect(d.etaSeconds).toBe(15) // 30 KB left at 2 KB/s
            // the power went; the download resumes from its checkpoint: the rate is measured afresh
            b.progress(p("downloading", 8192, 40960))
            expect(b.m.download.rate).toBe(0)
            expect(b.m.download.etaSeconds).toBe(-1)
            b.progress(p("confirmed", 0, 0, ""))
            expect(b.m.confirmed).toBe(true)
            expect(b.m.states.map(s => s.state)).toEqual(["offered", "downloading", "confirmed"])
        } finally {
            vi.useRealTimers()
        }
    })

    it("a refusal names its reason on the plan; AT lines and log lines are kept apart", () => {
        const b = new WebModelBuilder("t")
        const out: string[] = []
        const v = new WebView(b, false, false, s => out.push(s))
        v.progress(p("offered", 0, 4096))
        v.progress(p("refused", 0, 4096, "2_0_0", "low-battery"))
        expect(b.m.plan).toMatchObject({ status: "refused", reason: "low-battery" })
        v.trace("-> AT+QIOTOTAREQ=1")
        v.trace("<- +QIOTEVT: 7,10700")
        v.trace("hub: client connected")
        v.line("  vm: a VM line")
        expect(b.m.at).toMatchObject([
            { dir: "->", text: "AT+QIOTOTAREQ=1" },
            { dir: "<-", text: "+QIOTEVT: 7,10700" },
        ])
        expect(b.m.log.slice(-2)).toEqual(["hub: client connected", "vm: a VM line"])
        expect(b.m.log.join("\n")).not.toContain("QIOT")
        // without --trace the console shows neither the AT dialogue nor the VM's lines
        expect(out.join("")).not.toMatch(/QIOTOTAREQ|a VM line/)
    })

    it("the flash as slots and newest records, read with peek(): no flash operation is counted", async () => {
        const d = new SimDevice({ packageSize: 8192 })
        await d.install()
        const ops = d.flash.ops
        const v = await readStore(d.flash, d.layout)
        expect(d.flash.ops).toBe(ops)
        expect(v.error).toBeNull()
        expect(v.slots).toMatchObject([
            { slot: 0, state: "confirmed", version: "1_0_0", size: 8192, active: true },
            { slot: 1, state: "empty", active: false },
        ])
        expect(v.records.length).toBeGreaterThan(0)
        expect(v.records[0].type).toBe("STATE")
        expect(v.records[0].text).toContain("slot 0 confirmed 1_0_0")
        // newest first
        for (let i = 1; i < v.records.length; i++) expect(v.records[i - 1].seq).toBeGreaterThan(v.records[i].seq)
    })
})
