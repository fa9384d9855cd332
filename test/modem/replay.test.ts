// `npm run sim -- --modem tcp://…` against a scripted replay of the §11 SOTA walk-through
// (test/modem/replay-server.ts): the real CLI in a child process, the module's side here.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runCli } from "./cli"
import { digests, FROM, REVISION, ReplayServer, SDK, TO, TOTAL } from "./replay-server"

const dir = mkdtempSync(path.join(tmpdir(), "modem-replay-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function contiguous(reads: { start: number; length: number }[], from: number, to: number) {
    let next = from
    for (const r of reads) {
        expect(r.start).toBe(next)
        next += r.length
    }
    expect(next).toBe(to)
}

describe("--modem tcp:// against the walk-through replay", () => {
    it("upgrades: first contact, download, MCU reboot on the same connection, confirm, 10705", async () => {
        const replay = await ReplayServer.start()
        try {
            const flash = path.join(dir, "upgrade.nor")
            const run = await runCli(["--engine", "node", "--modem", `tcp://127.0.0.1:${replay.port}`, "--json", "--flash", flash])
            expect(run.stderr).toBe("")
            expect(run.code).toBe(0)
            const s = run.json
            expect(s).toMatchObject({ result: "upgraded", reason: null, version: TO, healthy: true, from: FROM, to: TO })
            expect(s).toMatchObject({ imageBytes: TOTAL, bytesRead: TOTAL, rereadBytes: 0, boots: 2, factoryInstalled: true, resumable: false })
            expect(s.runningSha256).toBe(digests(replay.pkg).sha256)
            expect(s.module).toMatchObject({ revision: REVISION, sdkVersion: SDK, productInfoConfigured: true, productKey: "p11abc", maxBlock: 1024, block: 1024 })
            expect(s.module.fatal).toBeNull()

            // the module's view: one connection throughout, the plan done, every byte read once
            expect(replay.connections).toBe(1)
            expect(replay.stage).toBe("done")
            contiguous(replay.reads, 0, TOTAL)
            const rx = replay.received
            expect(rx.slice(0, 7)).toEqual(["AT", "ATE0", "ATI", "AT+QIOTINFO?", 'AT+QIOTCFG="productinfo"', "AT+QIOTSTATE?", "AT+QIOTOTARD=?"])
            const i = (c: string) => rx.indexOf(c)
            expect(i("AT+QIOTREG=1")).toBeGreaterThan(6)
            expect(i(`AT+QIOTMCUVER="STM32","${FROM}"`)).toBeLessThan(i("AT+QIOTOTAREQ=1"))
            expect(i("AT+QIOTUPDATE=1")).toBeLessThan(i(`AT+QIOTOTARD=0,1024`))
            expect(i("AT+QIOTUPDATE=3")).toBeGreaterThan(i(`AT+QIOTOTARD=${27 * 1024},1024`))
            expect(i(`AT+QIOTMCUVER="STM32","${TO}"`)).toBeGreaterThan(i("AT+QIOTUPDATE=3"))
        } finally {
            await replay.close()
        }
    }, 20000)

    it("--trace shows the real dialogue and the first-contact report", async () => {
        const replay = await ReplayServer.start()
        try {
            const run = await runCli(["--modem", `tcp://127.0.0.1:${replay.port}`, "--trace"])
            expect(run.code).toBe(0)
            const out = run.stdout
            expect(out).toContain(`first contact on tcp://127.0.0.1:${replay.port}: the module answers AT, echo off`)
            expect(out).toContain(`module     ${REVISION.join(", ")}`)
            expect(out).toContain(`QuecThing  SDK ${SDK}`)
            expect(out).toContain("product    p11abc configured")
            expect(out).toContain("max block  1024 bytes (AT+QIOTOTARD=?)")
            expect(out).toContain("  -> AT+QIOTOTARD=0,1024\n  <- +QIOTOTARD: 0,1024\n  <- <1024 bytes>\n  <- OK")
            expect(out).toContain(`  <- +QIOTOTARD: ${27 * 1024},${TOTAL - 27 * 1024}\n  <- <${TOTAL - 27 * 1024} bytes>`)
            expect(out).toContain("  <- (echo) AT+QIOTUPDATE=3") // the transcript's echo after ATE0
            expect(out).toContain('  <- +QIND: "FOTA","END",0\n  <- +QIOTEVT: 7,10705')
            expect(out).toMatch(/downloading → 2_0_0 \(27954 bytes\)/)
            expect(out).toMatch(/result +upgraded/)
        } finally {
            await replay.close()
        }
    }, 20000)

    it("a connection dropped mid-download ends in the resume path; the next run resumes from the journal", async () => {
        const flash = path.join(dir, "resume.nor")
        const first = await ReplayServer.start({ dropAt: 10000 })
        let run1
        try {
            run1 = await runCli(["--modem", `tcp://127.0.0.1:${first.port}`, "--json", "--flash", flash, "--modem-wait", "2"])
        } finally {
            await first.close()
        }
        expect(first.dropped).toBe(true)
        expect(run1.code).toBe(0) // the old image still runs, confirmed
        expect(run1.json).toMatchObject({ result: "failed", reason: "connection-lost", version: FROM, healthy: true, resumable: true, linkDrops: 1 })
        expect(run1.json.journalBytes).toBeGreaterThan(0)
        expect(run1.json.journalBytes % 4096).toBe(0)
        expect(run1.ms).toBeLessThan(15000)

        const second = await ReplayServer.start()
        try {
            const run2 = await runCli(["--modem", `tcp://127.0.0.1:${second.port}`, "--json", "--flash", flash])
            expect(run2.code).toBe(0)
            const s = run2.json
            expect(s).toMatchObject({ result: "upgraded", version: TO, healthy: true, factoryInstalled: false, resumedAt: run1.json.journalBytes })
            expect(s.runningSha256).toBe(digests(second.pkg).sha256)
            contiguous(second.reads, run1.json.journalBytes, TOTAL)
            // what the interruption cost: bytes read twice across both runs, at most a checkpoint and a block
            const reread = run1.json.bytesRead + s.bytesRead - TOTAL
            expect(reread).toBeGreaterThanOrEqual(0)
            expect(reread).toBeLessThanOrEqual(4096 + 1024)
        } finally {
            await second.close()
        }
    }, 30000)

    it("a module without product info: the first contact says which AT+QIOTCFG is missing, and nothing registers", async () => {
        const replay = await ReplayServer.start({ productKey: "" })
        try {
            const run = await runCli(["--modem", `tcp://127.0.0.1:${replay.port}`, "--json"])
            expect(run.code).toBe(3)
            expect(run.stderr).toContain('AT+QIOTCFG="productinfo","<ProductKey>","<ProductSecret>"')
            expect(run.json).toMatchObject({ result: "link-error", reason: "not-configured" })
            expect(run.json.module.productInfoConfigured).toBe(false)
            expect(replay.received).not.toContain("AT+QIOTREG=1")
        } finally {
            await replay.close()
        }
    }, 20000)
})
