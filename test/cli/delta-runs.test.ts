// `npm run sim -- --delta | --compressed` in the node engine (sim/cli/cli.ts, this process): the
// Developer Center serves a delta of the real firmware images (or the image compressed), the
// summary validates against docs/summary.schema.json with packageKind and packageBytes beside
// imageBytes, and the text summary prints the bytes on the wire against a full upgrade.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { cli } from "../../sim/cli/cli"
import { validate } from "./schema"

const SCHEMA = JSON.parse(readFileSync(new URL("../../docs/summary.schema.json", import.meta.url), "utf8"))

async function sim(args: string[]) {
    let out = ""
    let err = ""
    const r = await cli(args, { out: s => void (out += s), err: s => void (err += s) })
    return { code: r.code, out, err, last: out.trim().split("\n").pop() }
}

describe("--delta and --compressed, node engine", () => {
    for (const kind of ["delta", "compressed"] as const)
        it(`--${kind}: upgrades to the exact 2_0_0 image; packageKind, packageBytes, imageBytes in the summary`, async () => {
            const r = await sim([`--${kind}`, "--engine", "node", "--json"])
            const s = JSON.parse(r.last)
            expect(validate(SCHEMA, s)).toEqual([])
            expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", runningVersion: "2_0_0", healthy: true, packageKind: kind, profile: "delta", rereadBytes: 0, exitCode: 0 })
            expect(s.runningSha256).toBe(s.packageSha256)
            expect(s.packageBytes).toBeLessThan(kind === "delta" ? s.imageBytes / 20 : s.imageBytes)
            expect(s.uartBytes).toBeLessThan(s.packageBytes * 1.1 + 2000) // the package and the AT dialogue around it
            expect(r.err).toBe("")
        }, 120_000)

    it("the text summary: bytes on the wire against a full upgrade", async () => {
        const r = await sim(["--delta", "--engine", "node"])
        expect(r.out).toMatch(/\n {2}package {2}delta: \d+ bytes on the wire against \d+ for a full upgrade \(\d+\.\d %, \d+ bytes saved\)\n/)
        const full = await sim(["--engine", "node"])
        expect(full.out).toMatch(/\n {2}package {2}full: the image, \d+ bytes on the wire\n/)
    }, 120_000)

    it("a schema without the new fields is not what a SOTA run writes", () => {
        const s = { result: "upgraded", run: "sota", healthy: true }
        expect(validate(SCHEMA, s).some(e => e.includes("packageKind is missing"))).toBe(true)
        expect(validate(SCHEMA, s).some(e => e.includes("packageBytes is missing"))).toBe(true)
        expect(validate(SCHEMA, s).some(e => e.includes("profile is missing"))).toBe(true)
        expect(validate(SCHEMA, { ...s, profile: "everything" }).some(e => e.includes("profile"))).toBe(true)
    })
})
