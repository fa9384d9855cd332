// Runs that explain themselves (sim/cli/view.ts): a status line on stderr for every wait over 2 s
// (here with a shorter threshold), once per wait and only when nothing else was shown; under --json
// the progress goes to stderr (a terminal, or --progress) and stdout stays one JSON line; the bar
// off a terminal prints a line each time it crosses a tenth.
import { describe, expect, it } from "vitest"
import { View } from "../../sim/cli/view"
import { cli } from "../../sim/cli/cli"
import type { SotaProgress } from "../../src/sota/progress"

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

function view(json: boolean, progressOnStderr = false) {
    const io = { out: "", err: "" }
    const v = new View(json, s => void (io.out += s), s => void (io.err += s), { progressOnStderr, tty: false, statusAfterMs: 60 })
    return { v, io }
}

function p(state: SotaProgress["state"], bytes = 0, total = 0): SotaProgress {
    return { state, version: "1_0_0", target: "2_0_0", bytes, total } as SotaProgress
}

describe("status lines for waits", () => {
    it("a wait that lasts: one line naming it, however long it lasts; a short one: none", async () => {
        const { v, io } = view(false)
        v.wait("building the firmware images")
        await sleep(20)
        v.wait("starting the devs hub") // the first wait ended in time
        await sleep(250)
        v.wait(null)
        await sleep(100)
        expect(io.err).toBe("sim: starting the devs hub…\n")
        expect(io.out).toBe("")
    })

    it("anything shown inside a wait starts the silence again", async () => {
        const { v, io } = view(false)
        v.wait("waiting for the next block")
        for (let i = 0; i < 6; i++) {
            await sleep(25)
            v.line(`line ${i}`)
        }
        v.wait(null)
        expect(io.err).toBe("")
    })

    it("a SOTA state that lasts names what the run waits for", async () => {
        const { v, io } = view(false)
        v.progress(p("requesting"))
        await sleep(150)
        v.progress(p("offered", 0, 100))
        v.summary({ result: "upgraded", faultsFired: [], faultsNotFired: [] } as any) // the end of the run ends the wait
        await sleep(150)
        expect(io.err).toBe("sim: waiting for an offer (the platform's plan)…\n")
    })

    it("under --json: nothing but the summary, unless the progress goes to stderr; stdout stays JSON", async () => {
        const quiet = view(true)
        quiet.v.wait("starting the VM (devs run)")
        quiet.v.progress(p("requesting"))
        await sleep(150)
        expect(quiet.io).toEqual({ out: "", err: "" })

        const talk = view(true, true)
        talk.v.line("sim: vm engine, STM32 1_0_0 → 2_0_0")
        talk.v.wait("starting the VM (devs run)")
        await sleep(150)
        talk.v.summary({ result: "upgraded" } as any)
        expect(talk.io.err).toBe("sim: vm engine, STM32 1_0_0 → 2_0_0\nsim: starting the VM (devs run)…\n")
        expect(talk.io.out).toBe('{"result":"upgraded"}\n')
    })
})

describe("the bar off a terminal", () => {
    it("a line each time the download crosses a tenth (1 KB blocks of 82 268 bytes never land on 10 %)", () => {
        const { v, io } = view(false)
        for (let b = 0; b < 82268; b += 1024) v.progress(p("downloading", b, 82268))
        v.progress(p("downloading", 82268, 82268))
        const bars = io.out.split("\n").filter(l => l.startsWith("  ["))
        expect(bars.map(l => Math.floor(Number(/(\d+)%/.exec(l)![1]) / 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    })
})

describe("npm run sim -- --json (node engine, in this process)", () => {
    it("--progress: the run's progress on stderr, and stdout one JSON line; without it stderr stays empty", async () => {
        const run = async (args: string[]) => {
            let out = ""
            let err = ""
            const r = await cli(["--engine", "node", "--baud", "0", "--json", ...args], { out: s => void (out += s), err: s => void (err += s) })
            return { code: r.code, out, err }
        }
        const talk = await run(["--progress"])
        expect(talk.code).toBe(0)
        expect(talk.out.split("\n")).toHaveLength(2) // one line and its newline
        expect(JSON.parse(talk.out)).toMatchObject({ result: "upgraded", engine: "node" })
        const err = talk.err.split("\n")
        expect(err[0]).toBe("sim: node engine, STM32 1_0_0 → 2_0_0, unpaced, 0 fault(s)")
        for (const state of ["1_0_0: requesting", "1_0_0: downloading → 2_0_0", "2_0_0: confirmed"])
            expect(err.some(l => l.endsWith(state) || l.includes(`${state} `)), state).toBe(true)
        expect(err.filter(l => l.startsWith("  [")).length).toBe(11) // the bar, a line per tenth
        expect(talk.err).not.toContain("{")

        const quiet = await run([])
        expect(quiet.err).toBe("")
        expect(JSON.parse(quiet.out)).toMatchObject({ result: "upgraded" })
    }, 60_000)

    it("--progress without --json is a usage error (exit 2)", async () => {
        let err = ""
        const r = await cli(["--progress"], { out: () => {}, err: s => void (err += s) })
        expect(r.code).toBe(2)
        expect(err).toBe("sim: --progress goes with --json (without --json the progress is on stdout)\n")
    })
})

describe("--modem: the first contact is a wait too", () => {
    it("a module that never answers: a status line after 2 s, then the one error line", async () => {
        const { ReplayServer } = await import("../modem/replay-server")
        const silent = await ReplayServer.start({ silent: true })
        try {
            const where = `tcp://127.0.0.1:${silent.port}`
            let err = ""
            const r = await cli(["--modem", where, "--modem-wait", "3"], { out: () => {}, err: s => void (err += s) })
            expect(r.code).toBe(3)
            const lines = err.trim().split("\n")
            expect(lines[0]).toBe(`sim: waiting for the module on ${where} to answer (up to 3 s)…`)
            expect(lines[1]).toMatch(new RegExp(`^sim: ${where}: the module does not answer AT \\(waited 3 s\\)`))
            expect(lines).toHaveLength(2)
        } finally {
            await silent.close()
        }
    }, 30_000)
})
