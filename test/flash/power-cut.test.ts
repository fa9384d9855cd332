// The power-cut sweep and the seeded multi-cut runs (issue 4, "Must show"). Prints:
//   power-cut sweep: <points> points, <scenarios> scenarios, <failures> unrecoverable
//   seeded runs: <runs> runs, <cuts> cuts, <failures> unrecoverable
import { describe, expect, it } from "vitest"
import { NorFlash } from "../../sim/flash/nor-flash"
import { FLASH_SIZE, SECTOR, w25qDevice } from "./fixtures"
import { Device, SCENARIOS, seededRun, sweepScenario } from "./harness"

/** Flash configurations: byte-programmable (like SPI NOR), 8-byte (MCU internal flash), 32-byte words. */
const NOR_DEVICES: { name: string; make: () => Device | Promise<Device> }[] = [1, 8, 32].map(unit => ({
    name: `NOR unit ${unit}`,
    make: () => {
        const nor = new NorFlash({ sectorSize: SECTOR, programUnit: unit, size: FLASH_SIZE })
        return { name: `NOR unit ${unit}`, nor, flash: nor }
    },
}))
/** ... and the W25Q driver on the command-level W25Q model: the same sweep through SPI commands. */
const DEVICES = [...NOR_DEVICES, { name: "W25Q driver", make: () => w25qDevice(1) }]

describe("power-cut sweep", () => {
    it(
        "every operation of every scenario: cut before, after, torn; reboot; recover",
        async () => {
            const t0 = Date.now()
            let points = 0
            let secondCuts = 0
            let resumes = 0
            const failures: string[] = []
            const rows: string[] = []
            for (const dev of DEVICES) {
                for (const sc of SCENARIOS) {
                    const st = await sweepScenario(dev.make, sc)
                    points += st.points
                    secondCuts += st.secondCuts
                    resumes += st.resumes
                    failures.push(...st.failures.map(f => `${dev.name}: ${f}`))
                    rows.push(`  ${dev.name.padEnd(11)} ${sc.name.padEnd(40)} ${String(st.ops).padStart(3)} ops ${String(st.points).padStart(4)} points, ${String(st.resumes).padStart(4)} resumed, meta erases ${st.metaErases}`)
                }
            }
            console.log(rows.join("\n"))
            console.log(`  interrupted receives resumed from their journal and checked: ${resumes}; second cuts during recovery: ${secondCuts}; ${DEVICES.length} flash configurations; ${Date.now() - t0} ms`)
            console.log(`power-cut sweep: ${points} points, ${SCENARIOS.length} scenarios, ${failures.length} unrecoverable`)
            if (failures.length) console.log(failures.slice(0, 20).join("\n"))
            expect(failures).toEqual([])
            expect(points).toBeGreaterThanOrEqual(2000)
            expect(resumes).toBeGreaterThan(0) // the sweep exercises the journal's resume, not only fresh downloads
        },
        120_000
    )
})

describe("seeded multi-cut runs", () => {
    it(
        "1000 seeded runs with up to 10 random cuts each converge with a valid image",
        async () => {
            const t0 = Date.now()
            let cuts = 0
            const failures: string[] = []
            const RUNS = 1000
            for (let seed = 1; seed <= RUNS; seed++) {
                const r = await seededRun(DEVICES[seed % DEVICES.length].make, seed)
                cuts += r.cuts
                if (!r.ok) failures.push(r.why)
            }
            console.log(`seeded runs: ${RUNS} runs, ${cuts} cuts, ${failures.length} unrecoverable (${Date.now() - t0} ms)`)
            if (failures.length) console.log(failures.slice(0, 20).join("\n"))
            expect(failures).toEqual([])
            expect(cuts).toBeGreaterThan(RUNS * 2) // cuts really happen (a run may converge before using them all)
        },
        120_000
    )
    it("a seeded run is reproducible", async () => {
        const dev = NOR_DEVICES[1]
        for (const seed of [7, 42, 999]) {
            const a = await seededRun(dev.make, seed)
            const b = await seededRun(dev.make, seed)
            expect(b).toEqual(a)
        }
    })
})
