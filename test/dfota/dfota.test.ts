// The DFOTA driver (src/dfota/dfota.ts) against the module emulator: the guide's HTTP, FTP and
// UFS walk-throughs, every documented download and update error code, the module that never
// comes back or comes back on its old firmware, bad locations refused before a byte is sent,
// and the lock shared with SOTA. Time is vitest's virtual clock.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { FTP_FIRST, FTP_LAST, ftpCode, HTTP_FIRST, HTTP_LAST, httpCode, updateCode, updateErrorCodes } from "../../src/dfota/codes"
import { ModuleUpgrade, runModuleUpgrade } from "../../src/dfota/dfota"
import { upgradeLock } from "../../src/lib/upgrade-lock"
import { AtClient } from "../../src/at/client"
import { createPipe } from "../../src/link/pipe"
import type { ByteTransport } from "../../src/link/transport"
import { UpgradeLock } from "../../src/lib/upgrade-lock"
import { QuecModule } from "../../sim/module/module"
import { PK, PS } from "../module/harness"
import { after, drive, NEW, OLD, rig, SERVERS } from "./rig"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const HTTP_URL = "HTTP://www.example.com:80/delta.bin"
const FTP_URL = "FTP://test:test@demo.com:21/update/delta.bin"
const quick = { percents: [100], rebootMs: 10, stepMs: 0, finalBootMs: 0 }

/** What the driver sends once the module is back: resync, echo off, revision, registration. */
const BACK = ["AT", "ATE0", "ATI", "AT+QIOTSTATE?", "AT+QIOTREG=1"]

describe("walk-throughs (quecthing-at.md §11)", () => {
    test.each([false, true])(
        "HTTP as the UC20 guide prints it (spaced URCs: %s): new revision, registered, progress 1-2-3-100",
        async spaced => {
            const r = rig({ percents: [1, 2, 3, 100], downloadBytesPerSec: 100000, spaced })
            const res = await drive(r.up.run(HTTP_URL))
            expect(res).toMatchObject({
                ok: true,
                reason: null,
                stage: "done",
                scheme: "http",
                revisionBefore: OLD,
                revisionAfter: NEW,
                registered: true,
                percent: 100,
                updaterEnded: true,
                code: -1,
            })
            expect(r.module.received).toEqual(["ATI", 'AT+QCFG="fota/cid",1', `AT+QFOTADL="${HTTP_URL}"`, ...BACK])
            expect(r.module.reboots).toBe(1) // into the updater; the final boot keeps the line up
            expect(r.module.conn.state).toBe(8) // subscribed again
            expect(r.progress.map(p => `${p.stage}:${p.percent}`)).toEqual([
                "checking:-1",
                "configuring:-1",
                "requesting:-1",
                "waiting:-1",
                "downloading:-1",
                "rebooting:-1",
                "updating:0",
                "updating:1",
                "updating:2",
                "updating:3",
                "updating:100",
                "restarting:-1",
                "reconnecting:-1",
                "registering:-1",
                "done:100",
            ])
            // 200 000 B at 100 000 B/s, 2 s reboot, 4 steps + END of 100 ms, 500 ms boot, quiet periods
            expect(res.elapsedMs).toBeGreaterThanOrEqual(2000 + 2000 + 500 + 500)
            expect(res.elapsedMs).toBeLessThan(7000)
            expect(r.up.stats).toMatchObject({ malformed: 0, unknown: 0, dropped: 0, restarts: 1 })
            expect(r.lock.holder()).toBe(null)
            expect(JSON.parse(JSON.stringify(res))).toEqual(res) // JSON-able as is
        }
    )

    test("over the paced UART at 115 200 baud: the line drops for the reboot, the upgrade still completes", async () => {
        const r = rig({ percents: [1, 2, 3, 100], downloadBytesPerSec: 100000, spaced: true }, { latencyMs: 20 }, { baud: 115200 })
        const res = await drive(r.up.run(HTTP_URL), 3600_000, 10)
        expect(res).toMatchObject({ ok: true, revisionBefore: OLD, revisionAfter: NEW, registered: true, percent: 100 })
        expect(r.module.received).toEqual(["ATI", 'AT+QCFG="fota/cid",1', `AT+QFOTADL="${HTTP_URL}"`, ...BACK])
    })

    test("over a bare UART with no link signal: the line only goes quiet during the reboot", async () => {
        const [mcu, modemEnd] = createPipe()
        // the module's end without setLink: power cycles silence it but never signal a drop
        const bare: ByteTransport = { write: b => modemEnd.write(b), listen: e => modemEnd.listen(e) }
        const module = new QuecModule(bare, {
            revision: OLD,
            bootMs: 100,
            nvm: { productKey: PK, productSecret: PS },
            dfota: { servers: SERVERS, rebootMs: 5000, finalBootMs: 500, stepMs: 100, percents: [50, 100] },
        })
        const links: boolean[] = []
        const spy: ByteTransport = {
            write: b => mcu.write(b),
            listen: e =>
                mcu.listen({
                    data: c => e.data(c),
                    link: up => {
                        links.push(up)
                        e.link(up)
                    },
                }),
        }
        const at = new AtClient(spy, { feedSlice: 1 << 16 })
        const res = await drive(new ModuleUpgrade(at, new UpgradeLock()).run(HTTP_URL))
        expect(links).toEqual([])
        expect(module.reboots).toBe(1)
        expect(res).toMatchObject({ ok: true, revisionAfter: NEW, registered: true })
    })

    test("FTP with credentials, PDP context 2 configured first", async () => {
        const r = rig(quick)
        r.module.nvm.pdpContexts.set(2, { type: 1, apn: "internet", user: "", password: "", auth: 0 })
        const res = await drive(r.up.run(FTP_URL, { cid: 2 }))
        expect(res).toMatchObject({ ok: true, scheme: "ftp", revisionBefore: OLD, revisionAfter: NEW, registered: true })
        expect(r.module.nvm.fotaCid).toBe(2)
        expect(r.module.received).toEqual(["ATI", 'AT+QCFG="fota/cid",2', `AT+QFOTADL="${FTP_URL}"`, ...BACK])
    })

    test("UFS: no download URCs, straight into the updater", async () => {
        const r = rig({ ...quick, percents: [30, 60, 100] })
        r.module.nvm.ufsFiles.set("delta.bin", { fromRevision: OLD, toRevision: NEW })
        const res = await drive(r.up.run("UFS:delta.bin"))
        expect(res).toMatchObject({ ok: true, scheme: "ufs", revisionAfter: NEW, percent: 100 })
        const stages = r.progress.map(p => p.stage)
        expect(stages).not.toContain("downloading")
        expect(stages).not.toContain("rebooting")
        expect(r.progress.filter(p => p.stage === "updating").map(p => p.percent)).toEqual([0, 30, 60, 100])
    })

    test("runModuleUpgrade: the CLI's entry, with the process-wide lock", async () => {
        const r = rig(quick)
        const seen: string[] = []
        const res = await drive(runModuleUpgrade(r.at, HTTP_URL, { expectedRevision: NEW }, p => seen.push(p.stage)))
        expect(res).toMatchObject({ ok: true, revisionBefore: OLD, revisionAfter: NEW })
        expect(seen[0]).toBe("checking")
        expect(seen[seen.length - 1]).toBe("done")
        expect(upgradeLock.holder()).toBe(null)
    })
})

describe("download errors: every documented code", () => {
    const ftp: number[] = []
    for (let c = FTP_FIRST; c <= FTP_LAST; c++) ftp.push(c)
    const http: number[] = []
    for (let c = HTTP_FIRST; c <= HTTP_LAST; c++) http.push(c)

    test.each(ftp)('"FTPEND",%i', async code => {
        const r = rig({ ...quick, servers: { ...SERVERS, "ftp.err": { user: "u", password: "p", downloadError: code, files: {} } } })
        const url = "FTP://u:p@ftp.err/fw/delta.bin"
        const res = await drive(r.up.run(url))
        const c = ftpCode(code)
        expect(c.documented).toBe(true)
        expect(res).toMatchObject({
            ok: false,
            reason: "download-failed",
            stage: "downloading",
            code,
            codeKind: "ftp",
            codeName: c.name,
            codeReason: c.reason,
            revisionBefore: OLD,
            revisionAfter: "",
            updaterEnded: false,
        })
        expect(res.detail).toContain(`FTPEND,${code}`)
        expect(r.module.reboots).toBe(0)
        expect(after(r.module.received, `AT+QFOTADL="${url}"`)).toEqual([]) // nothing to recover
        expect(r.lock.holder()).toBe(null)
    })

    test.each(http)('"HTTPEND",%i', async code => {
        const r = rig({ ...quick, servers: { ...SERVERS, "http.err": { downloadError: code, files: {} } } })
        const res = await drive(r.up.run("HTTP://http.err/fw.bin"))
        const c = httpCode(code)
        expect(c.documented).toBe(true)
        expect(res).toMatchObject({ ok: false, reason: "download-failed", code, codeKind: "http", codeName: c.name, codeReason: c.reason })
        expect(r.module.reboots).toBe(0)
        expect(r.lock.holder()).toBe(null)
    })

    test("names are distinct within each table, and a few match the guide word for word", () => {
        const names = (from: number, to: number, f: (c: number) => { name: string }) => {
            const s = new Set<string>()
            for (let c = from; c <= to; c++) s.add(f(c).name)
            return s.size
        }
        expect(names(FTP_FIRST, FTP_LAST, ftpCode)).toBe(30)
        expect(names(HTTP_FIRST, HTTP_LAST, httpCode)).toBe(30)
        expect(ftpCode(604).reason).toBe("DNS parse failed")
        expect(ftpCode(625).reason).toBe("failed to log in to FTP")
        expect(ftpCode(630).reason).toBe("requested file name invalid")
        expect(httpCode(708).reason).toBe("network not configured")
        expect(httpCode(714).reason).toBe("DNS error")
        expect(httpCode(730).reason).toBe("invalid parameter")
        expect(ftpCode(631)).toMatchObject({ documented: false, name: "unknown-ftp-631" })
        expect(httpCode(600)).toMatchObject({ documented: false })
        expect(updateCode(503)).toMatchObject({ documented: false })
        expect(updateCode(0).name).toBe("ok")
    })

    test.each([
        ["HTTP://nosuch.example/delta.bin", 714, "dns-error"],
        ["FTP://test:test@nosuch.example/delta.bin", 604, "dns-failed"],
        ["HTTP://www.example.com/missing.bin", 723, "response-failed"],
        ["FTP://test:test@demo.com/update/missing.bin", 617, "file-action-not-taken"],
        ["FTP://test:wrong@demo.com/update/delta.bin", 625, "login-failed"],
    ])("the emulator's own causes: %s → %i", async (url, code, name) => {
        const r = rig(quick)
        const res = await drive(r.up.run(url))
        expect(res).toMatchObject({ reason: "download-failed", code, codeName: name })
    })

    test("no PDP context for the chosen cid: HTTPEND,708 network not configured", async () => {
        const r = rig(quick)
        const res = await drive(r.up.run(HTTP_URL, { cid: 3 }))
        expect(res).toMatchObject({ reason: "download-failed", code: 708, codeName: "network-not-configured" })
        expect(r.module.received[1]).toBe('AT+QCFG="fota/cid",3')
    })
})

describe("update errors at END", () => {
    test.each(updateErrorCodes())('"END",%i at 40 %%: update-failed, the old firmware is back and registered', async code => {
        const r = rig({
            ...quick,
            percents: [20, 40, 60, 80, 100],
            servers: { bad: { files: { "/bad.bin": { fromRevision: OLD, toRevision: NEW, updateError: code, failAtPercent: 40 } } } },
        })
        const res = await drive(r.up.run("HTTP://bad/bad.bin"))
        const c = updateCode(code)
        expect(c.documented).toBe(true)
        expect(res).toMatchObject({
            ok: false,
            reason: "update-failed",
            code,
            codeKind: "update",
            codeName: c.name,
            codeReason: c.reason,
            percent: 40,
            updaterEnded: true,
            revisionBefore: OLD,
            revisionAfter: OLD,
            registered: true,
        })
        expect(after(r.module.received, 'AT+QFOTADL="HTTP://bad/bad.bin"')).toEqual(BACK)
    })

    test("END right after START (no UPDATING): percent stays -1", async () => {
        const r = rig({ ...quick, servers: { bad: { files: { "/b.bin": { fromRevision: OLD, toRevision: NEW, updateError: 502 } } } } })
        const res = await drive(r.up.run("HTTP://bad/b.bin"))
        expect(res).toMatchObject({ reason: "update-failed", code: 502, codeName: "unpredictable-exit", percent: -1, revisionAfter: OLD })
    })

    test("a delta for another source revision: END,510 source-mismatch", async () => {
        const r = rig(quick)
        const res = await drive(r.up.run("HTTP://other.com/wrong.bin"))
        expect(res).toMatchObject({ reason: "update-failed", code: 510, codeName: "source-mismatch", revisionAfter: OLD })
    })

    test("UFS file missing: END,504 at once, no reboot, no wait for RDY", async () => {
        const r = rig(quick)
        const res = await drive(r.up.run("UFS:missing.bin"))
        expect(res).toMatchObject({ reason: "update-failed", code: 504, codeName: "package-invalid", revisionAfter: OLD })
        expect(r.module.reboots).toBe(0)
        expect(res.elapsedMs).toBeLessThan(2000) // did not sit out the 300 s boot timeout
    })
})

describe("the module's return", () => {
    test("never returns from the reboot into the updater: no-return after rebootTimeoutMs + returnTimeoutMs", async () => {
        const r = rig({ ...quick, rebootMs: 10 * 3600_000 })
        const res = await drive(r.up.run(HTTP_URL, { rebootTimeoutMs: 60_000, returnTimeoutMs: 20_000 }))
        expect(res).toMatchObject({ ok: false, reason: "no-return", stage: "rebooting", revisionAfter: "", registered: false })
        expect(res.elapsedMs).toBeGreaterThanOrEqual(80_000)
        expect(res.elapsedMs).toBeLessThan(85_000)
        expect(r.lock.holder()).toBe(null)
    })

    test("never boots after END,0: no-return after bootTimeoutMs + returnTimeoutMs (defaults 300 s + 30 s)", async () => {
        const r = rig({ ...quick, finalBootMs: 10 * 3600_000 })
        const res = await drive(r.up.run(HTTP_URL))
        expect(res).toMatchObject({ ok: false, reason: "no-return", stage: "restarting", updaterEnded: true, revisionAfter: "" })
        expect(res.detail).toContain("no RDY")
        expect(res.elapsedMs).toBeGreaterThanOrEqual(330_000)
        expect(res.elapsedMs).toBeLessThan(340_000)
        // it kept trying to resync; the updater is deaf, so the module executed nothing after AT+QFOTADL
        expect(r.at.stats.resyncs).toBeGreaterThan(3)
        expect(r.module.received.length).toBe(3)
    })

    test("the updater stalls between UPDATING reports: no-return (stage updating)", async () => {
        const r = rig({ ...quick, percents: [10, 20], stepMs: 3600_000 })
        const res = await drive(r.up.run(HTTP_URL, { updateTimeoutMs: 120_000, returnTimeoutMs: 10_000 }))
        expect(res).toMatchObject({ reason: "no-return", stage: "updating", percent: -1 })
        expect(res.elapsedMs).toBeGreaterThanOrEqual(130_000)
        expect(res.elapsedMs).toBeLessThan(135_000)
    })

    test("RDY is lost: after bootTimeoutMs the driver finds the module anyway", async () => {
        const r = rig(quick, { bootUrcs: [] })
        const res = await drive(r.up.run(HTTP_URL, { bootTimeoutMs: 60_000 }))
        expect(res).toMatchObject({ ok: true, revisionAfter: NEW, registered: true })
        expect(res.elapsedMs).toBeGreaterThanOrEqual(60_000)
        expect(r.up.stats.restarts).toBe(0)
    })

    test("the updater goes silent but the module answers on its old revision: update-timeout", async () => {
        const r = rig({ ...quick, percents: [10, 20], stepMs: 3600_000 })
        const p = r.up.run(HTTP_URL, { updateTimeoutMs: 60_000 })
        await vi.advanceTimersByTimeAsync(1000)
        expect(r.progress.map(x => x.stage)).toContain("updating")
        r.module.setPower("on") // out of the updater, answering again, without END or RDY
        const res = await drive(p)
        expect(res).toMatchObject({ ok: false, reason: "update-timeout", stage: "updating", revisionAfter: OLD })
        expect(res.elapsedMs).toBeGreaterThanOrEqual(60_000)
    })

    test("returns on the old revision after END,0: old-revision", async () => {
        const r = rig(quick)
        const res = await drive(r.up.run("HTTP://same.com/same.bin"))
        expect(res).toMatchObject({ ok: false, reason: "old-revision", revisionBefore: OLD, revisionAfter: OLD, code: -1, registered: true })
    })

    test("returns on another revision than expected: wrong-revision; the expected one: ok", async () => {
        const r1 = rig(quick)
        const res1 = await drive(r1.up.run(HTTP_URL, { expectedRevision: "BG95M3LAR02A05" }))
        expect(res1).toMatchObject({ reason: "wrong-revision", revisionAfter: NEW })
        const r2 = rig(quick)
        const res2 = await drive(r2.up.run(HTTP_URL, { expectedRevision: NEW }))
        expect(res2.ok).toBe(true)
    })

    test("comes back but cannot register (no product info): registration-failed, new revision recorded", async () => {
        const r = rig(quick, { nvm: { productKey: "", productSecret: "" } })
        const res = await drive(r.up.run(HTTP_URL))
        expect(res).toMatchObject({ ok: false, reason: "registration-failed", revisionAfter: NEW, registered: false })
        expect(r.module.received[r.module.received.length - 1]).toBe("AT+QIOTREG=1")
    })

    test("registration: without register the module is only brought back", async () => {
        const r = rig(quick)
        const res = await drive(r.up.run(HTTP_URL, { register: false }))
        expect(res).toMatchObject({ ok: true, registered: false })
        expect(after(r.module.received, `AT+QFOTADL="${HTTP_URL}"`)).toEqual(["AT", "ATE0", "ATI"])
    })

    test("already subscribed after the boot (AT+QIOTREG=2 saved): no AT+QIOTREG=1", async () => {
        const r = rig({ ...quick, finalBootMs: 0 }, { nvm: { regMode: 2 } })
        const res = await drive(r.up.run(HTTP_URL))
        expect(res.ok).toBe(true)
        expect(r.module.received).not.toContain("AT+QIOTREG=1")
        expect(r.module.received[r.module.received.length - 1]).toBe("AT+QIOTSTATE?")
    })

    test("the module resets in the middle of the download: module-restarted", async () => {
        const r = rig({ ...quick, downloadBytesPerSec: 10_000 }) // 1 MB: 105 s
        const p = r.up.run("HTTP://slow.com/big.bin")
        await vi.advanceTimersByTimeAsync(30_000)
        r.module.reboot()
        const res = await drive(p)
        expect(res).toMatchObject({ reason: "module-restarted", stage: "downloading" })
        expect(res.elapsedMs).toBeLessThan(35_000)
    })
})

describe("stage timeouts and refusals", () => {
    test("no first URC within the documented 90 s: no-start", async () => {
        const r = rig({ ...quick, startMs: 120_000 })
        const res = await drive(r.up.run(HTTP_URL))
        expect(res).toMatchObject({ reason: "no-start", stage: "waiting" })
        expect(res.elapsedMs).toBeGreaterThanOrEqual(90_000)
        expect(res.elapsedMs).toBeLessThan(91_000)
    })

    test("a first URC at 89 s is in time", async () => {
        const r = rig({ ...quick, startMs: 89_000 })
        expect((await drive(r.up.run(HTTP_URL))).ok).toBe(true)
    })

    test("the download goes silent longer than downloadTimeoutMs: download-timeout", async () => {
        const r = rig({ ...quick, downloadBytesPerSec: 1000 }) // 1 MB: 1049 s
        const res = await drive(r.up.run("HTTP://slow.com/big.bin", { downloadTimeoutMs: 600_000 }))
        expect(res).toMatchObject({ reason: "download-timeout", stage: "downloading" })
        expect(res.elapsedMs).toBeGreaterThanOrEqual(600_000)
        expect(res.elapsedMs).toBeLessThan(601_000)
    })

    test("AT+QFOTADL answered ERROR: rejected", async () => {
        const r = rig(quick, { faults: [{ at: "AT+QFOTADL", action: { kind: "error" } }] })
        const res = await drive(r.up.run(HTTP_URL))
        expect(res).toMatchObject({ reason: "rejected", stage: "requesting" })
        expect(r.lock.holder()).toBe(null)
    })

    test("AT+QCFG fails: module-error before AT+QFOTADL", async () => {
        const r = rig(quick, { faults: [{ at: "AT+QCFG", action: { kind: "error" } }] })
        const res = await drive(r.up.run(HTTP_URL))
        expect(res).toMatchObject({ reason: "module-error", stage: "configuring", revisionBefore: OLD })
        expect(r.module.received).toEqual(["ATI", 'AT+QCFG="fota/cid",1'])
    })

    test("a PDP context outside 1..16 is refused before anything is sent", async () => {
        const r = rig(quick)
        for (const cid of [0, 17, 1.5]) {
            const res = await drive(r.up.run(HTTP_URL, { cid }))
            expect(res).toMatchObject({ reason: "bad-option", rule: "cid" })
        }
        expect(r.module.received).toEqual([])
    })

    test("malformed FOTA URCs and unknown stages are counted and ignored", async () => {
        const r = rig({ ...quick, startMs: 1000 })
        const p = r.up.run(HTTP_URL)
        await vi.advanceTimersByTimeAsync(200)
        r.module.urc('+QIND: "FOTA","UPDATING",101')
        r.module.urc('+QIND: "FOTA","HTTPEND"')
        r.module.urc('+QIND: "FOTA","HTTPEND",abc')
        r.module.urc('+QIND: "FOTA","WHATEVER",1')
        r.module.urc('+QIND: "csq",18,99')
        const res = await drive(p)
        expect(res.ok).toBe(true)
        expect(r.up.stats).toMatchObject({ malformed: 3, unknown: 1 })
    })
})

describe("malformed locations: refused before anything is sent", () => {
    const long = (n: number) => "a".repeat(n)
    test.each([
        ["", "empty"],
        ["HTTP://www.example.com/delta bin", "bad-char"],
        ['HTTP://www.example.com/"x".bin', "bad-char"],
        ["HTTP://www.example.com/d\u00e9lta.bin", "bad-char"],
        ["TFTP://host/x.bin", "scheme"],
        ["www.example.com/delta.bin", "scheme"],
        [`HTTP://www.example.com/${long(240)}`, "url-too-long"],
        ["UFS:", "ufs-name-empty"],
        [`UFS:${long(129)}`, "ufs-name-too-long"],
        ["HTTP:///delta.bin", "host-empty"],
        ["HTTP://exa..mple.com/delta.bin", "host-bad"],
        ["HTTP://-example.com/delta.bin", "host-bad"],
        [`FTP://u:p@${long(47)}.com/x.bin`, "host-too-long"],
        ["HTTP://www.example.com:0/delta.bin", "port"],
        ["HTTP://www.example.com:65536/delta.bin", "port"],
        ["HTTP://www.example.com:/delta.bin", "port"],
        ["HTTP://www.example.com:8o/delta.bin", "port"],
        ["HTTP://www.example.com", "path-missing"],
        ["HTTP://www.example.com/", "path-missing"],
        [`FTP://u:p@demo.com/${long(50)}`, "path-too-long"],
        ["FTP://demo.com/update/delta.bin", "credentials-missing"],
        ["FTP://user@demo.com/update/delta.bin", "credentials-missing"],
        ["HTTP://user:pw@www.example.com/delta.bin", "credentials-unexpected"],
        ["FTP://:p@demo.com/x.bin", "user-empty"],
        [`FTP://${long(51)}:p@demo.com/x.bin`, "user-too-long"],
        [`FTP://u:${long(51)}@demo.com/x.bin`, "password-too-long"],
        ["FTP://u:p@ss@demo.com/x.bin", "password-bad"],
    ])("%j → %s", async (url, rule) => {
        const r = rig(quick)
        const res = await drive(r.up.run(url))
        expect(res).toMatchObject({ ok: false, reason: "bad-location", rule, stage: "checking", revisionBefore: "" })
        expect(r.module.received).toEqual([])
        expect(r.mcu.bytesOut).toBe(0)
        expect(r.lock.holder()).toBe(null)
    })
})

describe("one upgrade at a time (src/lib/upgrade-lock.ts)", () => {
    test("refused while an MCU SOTA download holds the lock; nothing is sent", async () => {
        const r = rig(quick)
        expect(r.lock.tryAcquire("sota")).toBe(true)
        const res = await drive(r.up.run(HTTP_URL))
        expect(res).toMatchObject({ ok: false, reason: "busy", stage: "checking" })
        expect(res.detail).toContain("sota")
        expect(r.module.received).toEqual([])
        expect(r.lock.holder()).toBe("sota") // not taken from SOTA
        r.lock.release("sota")
        expect((await drive(r.up.run(HTTP_URL))).ok).toBe(true)
    })

    test("while DFOTA runs, SOTA cannot take the lock, nor can a second DFOTA run; released at the end", async () => {
        const r = rig({ ...quick, downloadBytesPerSec: 100_000 })
        const p = r.up.run(HTTP_URL)
        await vi.advanceTimersByTimeAsync(500)
        expect(r.lock.holder()).toBe("dfota")
        expect(r.up.running()).toBe(true)
        expect(r.lock.tryAcquire("sota")).toBe(false)
        const second = await r.up.run(HTTP_URL)
        expect(second).toMatchObject({ reason: "busy" })
        const other = new ModuleUpgrade(r.at, r.lock)
        expect((await other.run("UFS:x.bin")).reason).toBe("busy")
        const res = await drive(p)
        expect(res.ok).toBe(true)
        expect(r.lock.holder()).toBe(null)
        expect(r.lock.tryAcquire("sota")).toBe(true)
    })

    test("released after a failure too", async () => {
        const r = rig({ ...quick, rebootMs: 10 * 3600_000 })
        const res = await drive(r.up.run(HTTP_URL, { rebootTimeoutMs: 1000, returnTimeoutMs: 1000 }))
        expect(res.reason).toBe("no-return")
        expect(r.lock.holder()).toBe(null)
    })

    test("the default is the process-wide lock", async () => {
        const r = rig(quick)
        const up = new ModuleUpgrade(r.at)
        expect(upgradeLock.tryAcquire("sota")).toBe(true)
        try {
            expect((await drive(up.run(HTTP_URL))).reason).toBe("busy")
        } finally {
            upgradeLock.release("sota")
        }
        expect((await drive(up.run(HTTP_URL))).ok).toBe(true)
    })
})
