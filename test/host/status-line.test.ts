// The firmware's status lines (src/simulator/status-line.ts): the VM cuts a console line at 296
// characters, and the host (sim/cli/vm-engine.ts) only sees an event whose line is whole JSON. A
// refused image's detail ("unknown-key: ... the KEYHASH TLV names none of the trusted keys") made
// the SOTA-PLAN line 296+ characters: cut, unparsed, and the run timed out instead of failing
// with its reason.
import { describe, expect, it } from "vitest"
import { LINE_MAX, statusJson } from "../../src/simulator/status-line"

const STATS = `{"bytesRead":81916,"blocks":80,"blockRetries":0,"checkpoints":19,"moduleRestarts":0,"resumedAt":0,"flashRetries":0}`

describe("status lines stay under the VM's console line length", () => {
    it("a plan refused with a long detail: the line is whole JSON, at most LINE_MAX, reason intact", () => {
        const detail = "unknown-key: unknown-key: image: unknown-key: the KEYHASH TLV names none of the trusted keys"
        const plan = { result: "failed", reason: "unknown-key", detail, target: "2_0_0" }
        const line = `SOTA-PLAN ${statusJson(plan, STATS)}`
        expect(line.length).toBeLessThanOrEqual(LINE_MAX)
        expect(LINE_MAX).toBeLessThan(296)
        const j = JSON.parse(line.slice("SOTA-PLAN ".length))
        expect(j).toMatchObject({ result: "failed", reason: "unknown-key", target: "2_0_0", stats: JSON.parse(STATS) })
        expect(j.detail.endsWith("...")).toBe(true)
        expect(detail.startsWith(j.detail.slice(0, -3))).toBe(true)
        expect(plan.detail).toBe(detail) // the caller's object is left as it was
    })

    it("every detail length and every tag: whole JSON, never over LINE_MAX when the detail can absorb it", () => {
        for (const tag of ["SOTA", "SOTA-PLAN", "SOTA-START"])
            for (let n = 0; n <= 300; n++) {
                const p = { state: "failed", version: "1_0_0", target: "2_0_0", bytes: 0, total: 81916, reason: "unknown-key", detail: "x".repeat(n) }
                const line = `${tag} ${statusJson(p, STATS)}`
                expect(JSON.parse(line.slice(tag.length + 1)).stats.blocks).toBe(80)
                expect(line.length, `${tag} detail ${n}`).toBeLessThanOrEqual(LINE_MAX)
            }
    })

    it("a short line is as before: the object's JSON with the stats last", () => {
        expect(statusJson({ state: "ready", detail: "" }, `{"a":1}`)).toBe(`{"state":"ready","detail":"","stats":{"a":1}}`)
        expect(statusJson({ version: "1_0_0", slot: 0 }, `{"a":1}`)).toBe(`{"version":"1_0_0","slot":0,"stats":{"a":1}}`)
    })
})
