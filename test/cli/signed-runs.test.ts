// `npm run sim` with signed images (issue 17), node engine (sim/cli/cli.ts, this process): runs are
// signed by default (the summary's signature "ed25519" and securityCounter, validated against
// docs/summary.schema.json); `--image bad:unsigned | bad:wrong-key | bad:lower-counter` serves a
// package the agent refuses before its slot is marked ready, with the reason in `reason`, the old
// image running byte-identical and the counter unchanged; a self-test failure (a trial that rolls
// back) leaves the counter where it was, and a confirmed upgrade raises it.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { cli } from "../../sim/cli/cli"
import type { SimDevice } from "../../sim/device/device"
import { runNodeEngine } from "../../sim/cli/node-engine"
import { parseOptions } from "../../sim/cli/options"
import { View } from "../../sim/cli/view"
import { BadWhy } from "../../src/flash/store-port"
import { validate } from "./schema"
import { storeState } from "../../src/flash/image-store"

const SCHEMA = JSON.parse(readFileSync(new URL("../../docs/summary.schema.json", import.meta.url), "utf8"))

async function sim(args: string[]) {
    let out = ""
    let err = ""
    const r = await cli(args, { out: s => void (out += s), err: s => void (err += s) })
    return { code: r.code, out, err, s: JSON.parse(out.trim().split("\n").pop()!) }
}

describe("signed images in npm run sim (node engine)", () => {
    it("signed by default: upgraded, signature ed25519, the counter raised to 2_0_0's (2) by its confirm", async () => {
        const r = await sim(["--engine", "node", "--json"])
        expect(validate(SCHEMA, r.s)).toEqual([])
        expect(r.s).toMatchObject({ result: "upgraded", version: "2_0_0", healthy: true, signature: "ed25519", securityCounter: 2, profile: "signed", exitCode: 0 })
    }, 120_000)

    const refused: [string, string][] = [
        ["unsigned", "unsigned"],
        ["wrong-key", "unknown-key"],
        ["lower-counter", "counter-too-low"],
    ]
    for (const [kind, reason] of refused)
        it(`--image bad:${kind}: refused before ready (${reason}); the old image runs byte-identical, the counter stays 1`, async () => {
            let d: SimDevice = null
            const lines: string[] = []
            const o = parseOptions(["--engine", "node", "--json", "--baud", "0", "--image", `bad:${kind}`])
            let before: Buffer = null
            const s = await runNodeEngine(o, new View(true, t => lines.push(t)), {
                onDevice: x => {
                    d = x
                    before = x.flash.peek(x.layout.slotAddress[0], x.image1.length)
                },
            })
            expect(validate(SCHEMA, s)).toEqual([])
            expect(s).toMatchObject({ result: "failed", reason, version: "1_0_0", runningVersion: "1_0_0", healthy: true, signature: "ed25519", securityCounter: 1 })
            expect(s.detail).toContain(`${reason}: `)
            expect(s.detail.split(reason).length - 1).toBe(1) // the reason said once (SignedImages, download.ts and the engine)
            expect(d.flash.peek(d.layout.slotAddress[0], d.image1.length).equals(before)).toBe(true)
            const st = d.newStore()
            await st.mount()
            expect(storeState(st).slots[1]).toMatchObject({ state: "bad", why: BadWhy.Download })
            expect(d.boots).toBe(1) // refused before ready: no activation, no reboot into it
        }, 120_000)

    it("a trial that fails its self-test rolls back and leaves the counter at 1 (the old image still boots)", async () => {
        const r = await sim(["--engine", "node", "--json", "--image", "bad:self-test-fail"])
        expect(r.s).toMatchObject({ result: "rolled-back", reason: "self-test-failed", version: "1_0_0", healthy: true, signature: "ed25519", securityCounter: 1 })
    }, 120_000)
})
