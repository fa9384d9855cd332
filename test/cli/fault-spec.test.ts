// --fault specs (sim/cli/fault-spec.ts): junk is refused, every accepted form is in --help, and
// FaultRun arms every power cut as written and tells which specs fired.
import { describe, expect, it } from "vitest"
import { checkFaults, FaultRun, FaultSpec, parseFault } from "../../sim/cli/fault-spec"
import { USAGE } from "../../sim/cli/options"
import { UsageError } from "../../sim/cli/usage-error"
import { NorFlash, PowerCut } from "../../sim/flash/nor-flash"
import { FaultPlan } from "../../sim/module/faults"
import type { SotaProgress } from "../../src/sota/progress"

const ACCEPTED = [
    "cut@block=0",
    "cut@block=12:before",
    "cut@op=3:after",
    "cut@op=30:torn",
    "reboot@block=5",
    "lie@block=2",
    "cloud-loss@block=4",
    "drop@byte=10",
    "corrupt@byte=0",
    "dup@byte=7",
    "drop@rate=0.001",
    "corrupt@rate=1e-4",
    "dup@rate=.5",
    "error@AT+QIOTUPDATE=1",
    "error@AT+QIOTUPDATE=1:2",
    "timeout@AT+QIOTOTARD=0,1024:3",
    "bad-digest",
    "self-test-fail",
]

const JUNK = [
    "bad-digest@x",
    "self-test-fail:1",
    "cut@block=3:torn:extra",
    "cut@op=0",
    "cut@op=3x",
    "cut@block=-1",
    "cut@page=3",
    "cut@op=3:sideways",
    "cut@op=99999999999",
    "reboot@block=5:now",
    "lie@byte=2",
    "drop@rate=1",
    "drop@rate=0",
    "dup@rate=0x1",
    "corrupt@byte=",
    "error@AT+QIOTUPDATE=1:0",
    "error@AT+QIOTUPDATE=1:x",
    "error@AT+QIOTUPDATE=1:2:3",
    "error@QIOTUPDATE",
    "timeout@",
    "explode@block=1",
    "",
]

describe("--fault parsing", () => {
    it.each(ACCEPTED)("accepts %s, keeping the spec as written", spec => {
        expect(parseFault(spec).text).toBe(spec)
    })

    it.each(JUNK)("refuses %j with a usage error", spec => {
        expect(() => parseFault(spec)).toThrow(UsageError)
    })

    it("--help shows every accepted form", () => {
        for (const spec of ACCEPTED) {
            const form = spec.replace(/=.*$/, "=") // cut@block=, dup@rate=, error@AT+QIOTUPDATE=
            const shown = form.startsWith("error@") || form.startsWith("timeout@") ? form.split("@")[0] + "@CMD" : form
            expect(USAGE, spec).toContain(shown)
        }
        for (const k of ["dup@rate=P", "drop@rate=P", "corrupt@rate=P", "[:N]", "before|after|torn"]) expect(USAGE).toContain(k)
    })

    it("refuses faults that cannot all be armed as written", () => {
        const check = (...specs: string[]) => () => checkFaults(specs.map(parseFault))
        expect(check("cut@op=3", "cut@op=3:before")).toThrow("two power cuts at flash operation 3")
        expect(check("cut@block=2", "cut@block=2")).toThrow(UsageError)
        expect(check("drop@byte=5", "corrupt@byte=5")).toThrow("two faults on byte 5")
        expect(check("drop@rate=0.1", "drop@rate=0.2")).toThrow(UsageError)
        expect(check("bad-digest", "bad-digest")).toThrow("the same fault twice")
        expect(check("cut@op=3", "cut@op=30", "cut@block=3", "drop@byte=5", "drop@rate=0.1", "dup@rate=0.1")).not.toThrow()
    })
})

function flash() {
    return new NorFlash({ sectorSize: 4096, programUnit: 8, size: 16 * 4096 })
}

/** Erase sectors one operation at a time; a cut powers the flash back on through FaultRun. The ops that were cut. */
async function operate(f: NorFlash, run: FaultRun, ops: number, between?: (op: number) => void): Promise<number[]> {
    const cut: number[] = []
    for (let i = 1; i <= ops; i++) {
        between?.(f.ops)
        try {
            await f.eraseSector((i % 16) * 4096)
        } catch (e) {
            if (!(e instanceof PowerCut)) throw e
            cut.push(f.ops)
            run.powerOn()
        }
    }
    return cut
}

const downloading = (bytes: number): SotaProgress => ({ state: "downloading", version: "1_0_0", target: "2_0_0", bytes, total: 8192, reason: null, detail: "" })

describe("FaultRun", () => {
    it("arms every power cut: cut@op=3 and cut@op=30 are two cuts, at those operations", async () => {
        const f = flash()
        const specs = ["cut@op=30", "cut@op=3"].map(parseFault)
        const run = new FaultRun(specs, { flash: f }, { block: 1024, seed: 1 })
        expect(await operate(f, run, 40)).toEqual([3, 30])
        expect(run.report()).toEqual({ faultsFired: ["cut@op=30", "cut@op=3"], faultsNotFired: [] })
    })

    it("a block cut lands on the next operation and the op cut waiting behind it still fires", async () => {
        const f = flash()
        const specs = ["cut@op=10:before", "cut@block=2", "cut@block=99999"].map(parseFault)
        const run = new FaultRun(specs, { flash: f }, { block: 1024, seed: 1 })
        const cut = await operate(f, run, 20, ops => {
            if (ops === 4) run.progress(downloading(2 * 1024)) // block 2's write comes next
        })
        expect(cut).toEqual([5, 10])
        expect(run.report()).toEqual({ faultsFired: ["cut@op=10:before", "cut@block=2"], faultsNotFired: ["cut@block=99999"] })
    })

    it("a cut beyond the run's last operation did not fire", async () => {
        const f = flash()
        const run = new FaultRun([parseFault("cut@op=50")], { flash: f }, { block: 1024, seed: 1 })
        expect(await operate(f, run, 10)).toEqual([])
        expect(run.report()).toEqual({ faultsFired: [], faultsNotFired: ["cut@op=50"] })
    })

    it("module, byte and self-test faults: fired when the module, the line or the self-test saw them", () => {
        const specs: FaultSpec[] = ["error@AT+QIOTUPDATE=1", "timeout@AT+QIOTREG=1:9", "drop@byte=3", "dup@byte=4", "corrupt@rate=0.01", "self-test-fail"].map(parseFault)
        const plan = new FaultPlan(specs.filter(s => s.kind === "module").map(s => (s as any).rule(1024)))
        plan.forCommand("AT+QIOTUPDATE=1") // fires the first rule; the second waits for a 9th AT+QIOTREG=1
        plan.forCommand("AT+QIOTREG=1")
        const line: any = { applied: [{ dir: "to-mcu", index: 3, action: "drop", before: 1, after: -1 }] }
        const run = new FaultRun(specs, { flash: flash(), module: { faults: plan }, line }, { block: 1024, seed: 1 })
        run.progress({ ...downloading(0), state: "self-test" })
        expect(run.report()).toEqual({
            faultsFired: ["error@AT+QIOTUPDATE=1", "drop@byte=3", "self-test-fail"],
            faultsNotFired: ["timeout@AT+QIOTREG=1:9", "dup@byte=4", "corrupt@rate=0.01"],
        })
        line.applied.push({ dir: "to-mcu", index: 900, action: "corrupt", before: 1, after: 2 })
        expect(run.report().faultsFired).toContain("corrupt@rate=0.01")
    })
})
