// `npm run sim` end to end, in this process (sim/cli/cli.ts): every kind of run ends with the
// common summary, which validates against docs/summary.schema.json, its exit code, and at most one
// line on stderr when something went wrong — never a stack trace.
import { readFileSync } from "node:fs"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cli, CliEnv } from "../../sim/cli/cli"
import { SotaError } from "../../src/sota/reasons"
import { HostError } from "../../sim/host/hub"
import { ReplayServer } from "../modem/replay-server"
import { validate } from "./schema"

const SCHEMA = JSON.parse(readFileSync(new URL("../../docs/summary.schema.json", import.meta.url), "utf8"))
const dir = mkdtempSync(path.join(tmpdir(), "sim-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Run {
    code: number
    out: string
    err: string
    /** the last stdout line as JSON, checked against the schema */
    json: any
}

async function sim(args: string[], env: CliEnv = {}): Promise<Run> {
    let out = ""
    let err = ""
    const r = await cli(args, { out: s => void (out += s), err: s => void (err += s), ...env })
    const last = out.trim().split("\n").pop()
    let json: any = null
    if (args.includes("--json")) {
        json = JSON.parse(last)
        expect(validate(SCHEMA, json), `${args.join(" ")}: ${last}`).toEqual([])
        expect(json.exitCode).toBe(r.code)
    }
    expect(err).not.toMatch(/\n\s+at /) // no stack trace
    return { code: r.code, out, err, json }
}

const NODE = ["--engine", "node", "--baud", "0", "--json"]

describe("faults as written, and which fired", () => {
    it("--fault cut@op=3 --fault cut@op=30: two power cuts, both listed as fired", async () => {
        const r = await sim([...NODE, "--fault", "cut@op=3", "--fault", "cut@op=30"])
        expect(r.json).toMatchObject({ result: "upgraded", cuts: 2, faultsFired: ["cut@op=3", "cut@op=30"], faultsNotFired: [] })
        expect(r.code).toBe(0)
        expect(r.err).toBe("")
    }, 120_000)

    it("--fault cut@block=99999 never fires: a warning on stderr, listed in the summary (text and JSON)", async () => {
        const r = await sim([...NODE, "--fault", "cut@block=99999", "--strict"])
        expect(r.json).toMatchObject({ result: "upgraded", cuts: 0, faultsFired: [], faultsNotFired: ["cut@block=99999"] })
        expect(r.err).toBe("sim: warning: --fault cut@block=99999 never fired\n")
        expect(r.code).toBe(0) // --strict: it upgraded
        const text = await sim(["--engine", "node", "--baud", "0", "--fault", "cut@block=99999"])
        expect(text.out).toMatch(/\n {2}faults {3}fired: none; not fired: cut@block=99999\n/)
    }, 120_000)
})

describe("a plan offering the running version", () => {
    it("--from 2_0_0 --to 2_0_0: the device refuses it (same-version); exit 0, and 4 with --strict", async () => {
        const r = await sim([...NODE, "--from", "2_0_0", "--to", "2_0_0"])
        expect(r.json).toMatchObject({ result: "refused", reason: "same-version", version: "2_0_0", healthy: true, exitCode: 0 })
        expect(r.json.detail).toMatch(/2_0_0/)
        const strict = await sim([...NODE, "--from", "2_0_0", "--to", "2_0_0", "--strict"])
        expect(strict.code).toBe(4)
        expect(strict.json.result).toBe("refused")
    }, 120_000)
})

describe("--module-upgrade", () => {
    it("the common summary; a bar instead of a line per percent", async () => {
        const r = await sim(["--module-upgrade", "UFS:delta.bin", "--baud", "0", "--json"])
        expect(r.json).toMatchObject({ result: "upgraded", run: "module-upgrade", healthy: true, version: "BG95M3LAR02A04", engine: "node", exitCode: 0 })
        const text = await sim(["--module-upgrade", "HTTP://www.example.com:80/delta.bin", "--baud", "0"])
        const lines = text.out.split("\n")
        expect(lines.filter(l => /\d+%/.test(l)).length).toBeLessThanOrEqual(22) // 0, 10 … 100 % (no TTY)
        expect(lines.some(l => l.includes("updating 37%"))).toBe(false)
        expect(text.out).toMatch(/\nsummary\n {2}result {3}upgraded\n/)
    }, 60_000)

    it("a malformed location: exit 2 and one line, before anything runs", async () => {
        const r = await sim(["--module-upgrade", "HTTP://", "--json"])
        expect(r.code).toBe(2)
        expect(r.err.trim().split("\n")).toHaveLength(1)
        expect(r.json).toMatchObject({ result: "error", reason: "usage", run: "module-upgrade" })
        expect((await sim(["--module-upgrade", "UFS:a.bin", "--engine", "vm"])).code).toBe(2)
    })
})

describe("errors are one line and a summary", () => {
    it("usage errors: exit 2; under --json a summary too", async () => {
        for (const junk of ["bad-digest@x", "cut@block=3:torn:extra", "error@AT+QIOTUPDATE=1:0"]) {
            const r = await sim(["--fault", junk, "--json"])
            expect(r.code).toBe(2)
            expect(r.err).toMatch(new RegExp(`^sim: --fault ${junk.replace(/[+]/g, "\\+")}: [^\\n]+\\n$`))
            expect(r.json).toMatchObject({ result: "error", reason: "usage" })
        }
    })

    it("--modem with --flash <a directory>: one line, link-error flash-file, exit 3", async () => {
        const r = await sim(["--modem", "tcp://127.0.0.1:9", "--flash", dir, "--json"])
        expect(r.code).toBe(3)
        expect(r.err).toBe(`sim: --flash ${dir}: is a directory\n`)
        expect(r.json).toMatchObject({ result: "link-error", reason: "flash-file", run: "modem" })
    })

    it("--modem with --flash <a file that is no flash>: never advises deleting it", async () => {
        const r = await sim(["--modem", "tcp://127.0.0.1:9", "--flash", "README.md", "--json"])
        expect(r.code).toBe(3)
        expect(r.err).toMatch(/^sim: --flash README.md: not a flash file of this simulator; name a new file/)
        expect(r.err).not.toMatch(/delete/)
    })

    it("a start-up that fails (registration) is an outcome with its reason, not a crash", async () => {
        const r = await sim(NODE, { engines: { node: async () => Promise.reject(new SotaError("registration-failed", "no 10200 after 3 tries")) } })
        expect(r.code).toBe(1)
        expect(r.err).toBe("sim: registration-failed: no 10200 after 3 tries\n")
        expect(r.json).toMatchObject({ result: "failed", reason: "registration-failed", healthy: null })
    })

    it("the VM engine's ports taken: one line naming the holder, result error (port-busy), exit 3", async () => {
        const line = "port 8081 already taken by pid 42 (node devicescript devtools): the VM engine needs 8081, 8082, 8083 for its devs hub; stop that process, or use --engine node"
        const r = await sim(["--json"], { engines: { vm: () => Promise.reject(new HostError("port-busy", line)) } })
        expect(r.code).toBe(3)
        expect(r.err).toBe(`sim: ${line}\n`)
        expect(r.json).toMatchObject({ result: "error", reason: "port-busy", engine: "vm" })
    })

    it("a crash of the simulator itself: one line, result error (internal), exit 1", async () => {
        const boom = () => Promise.reject(Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: "EACCES", syscall: "open" }))
        const r = await sim(NODE, { engines: { node: boom } })
        expect(r.code).toBe(1)
        expect(r.err.trim().split("\n")).toHaveLength(1)
        expect(r.json).toMatchObject({ result: "error", reason: "internal" })
    })
})

describe("the same shape in the VM", () => {
    // one VM run (the devs hub is one per machine: it waits for the hub lock like any run)
    it("npm run sim -- --json --fault cut@block=99999: the common fields, the SOTA fields, the warning", async () => {
        const r = await sim(["--json", "--fault", "cut@block=99999"])
        expect(r.json).toMatchObject({ result: "upgraded", run: "sota", engine: "vm", healthy: true, exitCode: 0, faultsNotFired: ["cut@block=99999"] })
        expect(r.err).toBe("sim: warning: --fault cut@block=99999 never fired\n")
        // both floors: the UART's, and the simulator link's (the VM's Jacdac packets at 50/s; the
        // flash goes over a socket, so only the modem's AT commands count)
        const j = r.json as Record<string, number>
        expect(j.linkFloorSeconds).toBeGreaterThan(0)
        expect(j.linkFloorSeconds).toBeLessThan(j.uartFloorSeconds)
        expect(j.floorSeconds).toBe(Math.max(j.uartFloorSeconds, j.linkFloorSeconds))
    }, 700_000)
})

describe("the same shape for a real module", () => {
    it("--modem against the walk-through replay: the common fields, the SOTA fields and the modem's", async () => {
        const replay = await ReplayServer.start()
        try {
            const r = await sim(["--modem", `tcp://127.0.0.1:${replay.port}`, "--flash", path.join(dir, "a.nor"), "--json"])
            expect(r.json).toMatchObject({ result: "upgraded", run: "modem", healthy: true, exitCode: 0, faultsFired: [] })
        } finally {
            await replay.close()
        }
    }, 60_000)
})

describe("the schema", () => {
    it("refuses what is not a summary: the old module-upgrade shape, a missing field, a stray one", () => {
        expect(validate(SCHEMA, { ok: true, reason: null, revisionBefore: "A", revisionAfter: "B" }).length).toBeGreaterThan(0)
        const s: Record<string, unknown> = { result: "error", reason: "usage", detail: "x", run: "sota", version: null, healthy: null, engine: null, from: null, to: null, seconds: 0, faultsFired: [], faultsNotFired: [], exitCode: 2 }
        expect(validate(SCHEMA, s)).toEqual([])
        const { result: _, ...noResult } = s
        expect(validate(SCHEMA, noResult)).toEqual(["$: result is missing"])
        expect(validate(SCHEMA, { ...s, ok: true })).toEqual(["$: ok is not allowed"])
        expect(validate(SCHEMA, { ...s, run: "sota", healthy: true }).some(e => e.includes("imageBytes is missing"))).toBe(true)
    })
})
