// The whole flow, in process, against the module emulator and the NOR model, on a virtual clock.
// Every test ends by checking that the device runs a confirmed image byte-identical to the old
// or the new one: a failure must leave the active image untouched.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { healthy, loseUrcOnce, once, resetMidDownload, run, runDevice, World, WorldOptions, SECTOR } from "./world"
import { UpgradeLock } from "../../src/lib/upgrade-lock"
import { FlashError } from "../../src/flash/flash"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

async function upgrade(o: WorldOptions, boots = 4) {
    const w = new World(o)
    await w.install()
    const log = await runDevice(w, boots)
    return { w, log, result: await healthy(w) }
}

describe("sizes", () => {
    for (const size of [1, 1023, 1024, 1025, 2047, 10000])
        it(`a ${size}-byte package`, async () => {
            const { log, result, w } = await upgrade({ packageSize: size, slotSize: 12288 })
            expect(result).toBe("new")
            expect(log[1].start.platform).toBe("done")
            expect(w.engine.stats.bytesRead).toBe(0) // the second boot read nothing
        })

    it("a package that fills a slot exactly", async () => {
        const { result } = await upgrade({ packageSize: 16384, slotSize: 16384 })
        expect(result).toBe("new")
    })

    it("one byte more than a slot is refused before anything is written", async () => {
        const w = new World({ packageSize: 16385, slotSize: 16384 })
        await w.install()
        w.image1 = w.image1.subarray(0, w.image1.length) // installed image stays the reference
        const r = await once(w)
        expect(r).toMatchObject({ result: "refused", reason: "too-large" })
        expect(w.module.received).toContain("AT+QIOTUPDATE=0")
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD="))).toBe(false)
        expect(await healthy(w)).toBe("old")
    })

    it("an odd block size from AT+QIOTOTARD=? (974, as an NB module) with unaligned pieces", async () => {
        const { result, w } = await upgrade({ packageSize: 27954, module: { maxRead: 974, pieceSize: 9999 } })
        expect(result).toBe("new")
        // 974 rounded down to the flash's 8-byte program unit; piece ends (9999) carry a tail
        expect(w.module.received).toContain("AT+QIOTOTARD=968,968")
        expect(w.module.received).toContain("AT+QIOTOTARD=9680,319")
    })
})

describe("serve(): plans on a period and pushed ones", () => {
    it("asks again when the period is over, and takes a plan pushed in between", async () => {
        const w = new World({ engine: { offerTimeoutMs: 2000 } })
        await w.install()
        w.dc.stopPlan(1) // no plan yet
        const e = w.powerOn()
        await run(e.start())
        const seen: string[] = []
        const served = e.serve(60_000, r => seen.push(r.result)).catch(err => err.name)
        await vi.advanceTimersByTimeAsync(130_000) // the first check, then two periods
        const requests = w.module.received.filter(c => c === "AT+QIOTOTAREQ=1").length
        expect(requests).toBe(3)
        expect(seen).toEqual(["no-plan", "no-plan", "no-plan"])
        // the platform pushes a new plan: it is carried out at once, without waiting for the period
        const pkg = w.dc.addPackage({ productKey: "p11tst", component: "STM32", version: "3_0_0", data: w.pkg.data })
        w.dc.createPlan({ packageId: pkg.id })
        w.dc.push()
        expect(await run(served)).toBe("Reboot")
        expect(w.module.received.filter(c => c === "AT+QIOTOTAREQ=1").length).toBe(3)
    })
})

describe("wear", () => {
    it("checkpoint wear on the metadata area is bounded and printed (40 KB image, 4 KB checkpoints)", async () => {
        const w = new World({ packageSize: 40960 })
        await w.install()
        const counts = (w.flash as any).eraseCounts as Uint32Array
        const erases = (from: number, to: number) => {
            let n = 0
            for (let i = from; i < to; i++) n += counts[i]
            return n
        }
        const slot0 = erases(2, counts.length)
        // metadata bytes programmed by the update: in the long run they are what wears the log
        let metaBytes = 0
        const program = w.flash.program.bind(w.flash)
        w.flash.program = async (address: number, data: Buffer) => {
            if (address < 2 * SECTOR) metaBytes += data.length
            return program(address, data)
        }
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
        const slot = erases(2, counts.length) - slot0
        const perUpdate = metaBytes / SECTOR
        console.log(
            `checkpoint wear: a 40 KB update erased ${slot} slot sectors (10 in the slot) and wrote ${metaBytes} metadata bytes ` +
                `(${w.engine.stats.checkpoints} checkpoints on this boot's side): ≈ ${perUpdate.toFixed(2)} metadata-sector erases per update in the long run`
        )
        expect(slot).toBeLessThanOrEqual(10) // at most one erase per sector of the receiving slot
        expect(perUpdate).toBeLessThan(1.5) // bounded: about one 4 KB sector of log per 40 KB update
    })
})

describe("sequential download (pipeline: false: 2 KB less at the measured VM peak)", () => {
    it("upgrades the same way, with multi-piece and a lying header on the way", async () => {
        const { result, w } = await upgrade({
            engine: { pipeline: false },
            module: { pieceSize: 10000, faults: [{ at: "AT+QIOTOTARD=3072", action: { kind: "lie-length", by: 5 } }] },
        })
        expect(result).toBe("new")
        expect(w.module.received.filter(c => c === "AT+QIOTOTARD=3072,1024").length).toBe(2)
    })
})

describe("multi-piece packages", () => {
    it("pieces smaller than the package: AT+QIOTUPDATE=2 after each, one 10703 each", async () => {
        const { w, result } = await upgrade({ packageSize: 27954, module: { pieceSize: 10000 } })
        expect(result).toBe("new")
        const sent = w.module.received
        expect(sent.filter(c => c === "AT+QIOTUPDATE=2").length).toBe(2)
        expect(sent).toContain("AT+QIOTOTARD=9216,784") // the short read at the end of the first piece
        expect(sent).toContain("AT+QIOTOTARD=10000,1024")
    })
})

describe("refusals by policy, on the wire", () => {
    it("low battery", async () => {
        const w = new World({ minBattery: 50 })
        await w.install()
        w.battery = 20
        expect(await once(w)).toMatchObject({ result: "refused", reason: "low-battery" })
        expect(w.module.received).toContain("AT+QIOTUPDATE=0")
        expect(await healthy(w)).toBe("old")
    })
    it("weak signal", async () => {
        const w = new World({ minSignal: -90, module: { signalDbm: -101 } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "refused", reason: "weak-signal" })
    })
    it("a downgrade, unless allowed", async () => {
        const w = new World({ fromVersion: "3_0_0", toVersion: "2_0_0" })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "refused", reason: "downgrade" })
        expect(await healthy(w)).toBe("old")
        const w2 = new World({ fromVersion: "3_0_0", toVersion: "2_0_0", store: { allowDowngrade: true } })
        await w2.install()
        await runDevice(w2)
        expect(await healthy(w2)).toBe("new")
    })
    it("a plan for another component, a delta from another version, the same version (pushed by the module)", async () => {
        for (const [line, reason] of [
            ['+QIOTEVT: 7,10700,"ESP32","","2_0_0",30,-113,1000', "not-our-component"],
            ['+QIOTEVT: 7,10700,"STM32","1_5_0","2_0_0",30,-113,1000', "wrong-source-version"],
            ['+QIOTEVT: 7,10700,"STM32","","1_0_0",30,-113,1000', "same-version"],
            ['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113', "bad-plan"],
        ]) {
            const w = new World()
            await w.install()
            const e = w.powerOn()
            await run(e.start())
            w.moduleEnd.write(Buffer.from(`\r\n${line}\r\n`))
            const r = await run(e.waitForPlan(1000))
            expect(r, line).toMatchObject({ reason })
            expect(await healthy(w)).toBe("old")
        }
    })
    it("a delta plan for the version that runs is refused by a firmware without a delta applier (a patch is not an image)", async () => {
        const w = new World({ sourceVersion: "1_0_0", engine: { rebuilder: undefined } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "refused", reason: "unsupported-package" })
        expect(w.module.received).toContain("AT+QIOTUPDATE=0")
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD="))).toBe(false)
        expect(await healthy(w)).toBe("old")
    })
})

describe("one upgrade at a time", () => {
    it("a plan that arrives while the module's own firmware is being upgraded is refused as busy", async () => {
        const lock = new UpgradeLock()
        const w = new World({ engine: { lock } })
        await w.install()
        expect(lock.tryAcquire("dfota")).toBe(true)
        const r = await once(w)
        expect(r).toMatchObject({ result: "refused", reason: "busy" })
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD="))).toBe(false)
        lock.release("dfota")
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
        expect(lock.holder()).toBeNull() // released after the plan
    })
})

describe("integrity: nothing bad is ever activated", () => {
    it("a flipped bit in any block fails MD5 and leaves the old image; the next attempt succeeds", async () => {
        const size = 6 * 1024 + 100
        for (let block = 0; block < 7; block++) {
            const w = new World({ packageSize: size, module: { faults: [{ afterMs: 0, action: { kind: "bad-package", offset: block * 1024 + 17 } }] } })
            await w.install()
            const r = await once(w)
            expect(r, `block ${block}`).toMatchObject({ result: "failed", reason: "md5-mismatch" })
            expect(await healthy(w)).toBe("old")
            // the platform offers the plan again; this time the bytes are right
            const log = await runDevice(w, 3)
            expect(await healthy(w), `block ${block}`).toBe("new")
            expect(log.length).toBe(2)
        }
    })

    it("a wrong SHA-256 with a right MD5 fails on SHA-256", async () => {
        const w = new World()
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        // the module announces a SHA-256 that does not match (corrupted on the way)
        const real = w.pkg.sha256
        ;(w.pkg as any).sha256 = real.slice(0, 10) + (real[10] === "0" ? "1" : "0") + real.slice(11)
        const r = await run(e.checkForUpdate())
        expect(r).toMatchObject({ result: "failed", reason: "sha256-mismatch" })
        expect(await healthy(w)).toBe("old")
    })

    it("a flash that programs a wrong bit: the streamed digests match, the slot's CRC-32 does not (flash-mismatch)", async () => {
        const w = new World()
        await w.install()
        const program = w.flash.program.bind(w.flash)
        let damaged = false
        w.flash.program = async (address: number, data: Buffer) => {
            // the first program into the new slot's second sector loses one bit (NOR can only clear bits)
            if (!damaged && address >= w.layout.slotAddress[1] + 4096 && address < w.layout.slotAddress[1] + w.layout.slotSize) {
                const i = data.findIndex(b => b !== 0)
                if (i >= 0) {
                    data = Buffer.from(data)
                    data[i] &= data[i] - 1
                    damaged = true
                }
            }
            return program(address, data)
        }
        const r = await once(w)
        expect(damaged).toBe(true)
        expect(r).toMatchObject({ result: "failed", reason: "flash-mismatch" })
        expect(await healthy(w)).toBe("old")
    })

    it("the 10701 CRC is checked only when configured (its algorithm is undocumented)", async () => {
        const w = new World({ engine: { checkCrc: true } })
        await w.install()
        ;(w.pkg as any).crc32 = (w.pkg.crc32 + 1) >>> 0
        const e = w.powerOn()
        await run(e.start())
        expect(await run(e.checkForUpdate())).toMatchObject({ result: "failed", reason: "crc-mismatch" })
        const w2 = new World()
        await w2.install()
        ;(w2.pkg as any).crc32 = (w2.pkg.crc32 + 1) >>> 0
        await runDevice(w2)
        expect(await healthy(w2)).toBe("new")
    })
})

describe("link and module faults", () => {
    it("a lying +QIOTOTARD header: the block is read again", async () => {
        const { w, result } = await upgrade({ module: { faults: [{ at: "AT+QIOTOTARD=3072", action: { kind: "lie-length", by: 5 } }] } })
        expect(result).toBe("new")
        expect(w.module.received.filter(c => c === "AT+QIOTOTARD=3072,1024").length).toBe(2)
    })

    it("dropped and corrupted bytes on a paced 115 200-baud line: retried or caught by MD5, then done", async () => {
        const w = new World({
            packageSize: 8192,
            uart: {
                baud: 115200,
                script: [
                    { dir: "to-mcu", index: 3000, action: "drop" },
                    { dir: "to-mcu", index: 6000, action: "corrupt" },
                    { dir: "to-module", index: 200, action: "corrupt" },
                ],
            },
        })
        await w.install()
        // the corrupted payload byte cannot be seen on the wire: MD5 catches it and the old image
        // stays; the platform offers the plan again and the second download is clean
        const first = await runDevice(w, 4)
        expect(first[0].plan).toMatchObject({ result: "failed", reason: "md5-mismatch" })
        expect(await healthy(w)).toBe("old")
        await runDevice(w, 4)
        expect(await healthy(w)).toBe("new")
        expect(w.line.applied.length).toBe(3)
    })

    const commands = ["AT+QIOTOTAREQ", "AT+QIOTUPDATE=1", "AT+QIOTOTARD=?", "AT+QIOTOTARD=2048", "AT+QIOTUPDATE=2", "AT+QIOTUPDATE=3", "AT+CSQ", "AT+QIOTMCUVER"]
    for (const at of commands)
        for (const kind of ["error", "no-reply"] as const)
            it(`${kind === "error" ? "ERROR" : "no reply"} on ${at}: the device ends healthy and upgrades`, async () => {
                const w = new World({ packageSize: 20000, module: { pieceSize: 8192, faults: [{ at, action: { kind } }] } })
                await w.install()
                await runDevice(w, 4)
                if ((await healthy(w)) !== "new") await runDevice(w, 4) // a failed attempt is retried later
                expect(await healthy(w)).toBe("new")
                expect(w.module.faults.fired.length).toBe(1)
            })

    it("a module reboot in the middle of a piece: recovered, resumed, re-read bounded", async () => {
        const w = new World({ packageSize: 27954, module: { pieceSize: 10000, faults: [{ at: "AT+QIOTOTARD=5120", action: { kind: "reboot-mid-payload", afterBytes: 300 } }] } })
        await w.install()
        const log = await runDevice(w)
        expect(await healthy(w)).toBe("new")
        expect(log.length).toBe(2)
        const reads = w.module.received.filter(c => c.startsWith("AT+QIOTOTARD=") && !c.endsWith("?"))
        // 28 blocks (10 + 10 + 8 over three pieces) once each, plus the one cut short
        expect(reads.length).toBe(28 + 1)
    })

    it("a module reboot mid-reply on a plain UART with no link signal (RDY swallowed by the stalled payload)", async () => {
        const w = new World({ packageSize: 27954, module: { faults: [{ at: "AT+QIOTOTARD=5120", action: { kind: "reboot-mid-payload", afterBytes: 300 } }] } })
        // a UART has no link signal: hide the pipe's setLink from the module
        const m = w.module as any
        const line = m.transport
        m.transport = { write: (d: Buffer) => line.write(d), listen: (e: any) => line.listen(e) }
        await w.install()
        const log = await runDevice(w)
        expect(await healthy(w)).toBe("new")
        expect(log.length).toBe(2)
        expect(w.progress.some(p => p.state === "recovering")).toBe(true)
    })

    it("a burst of unrelated URCs during the download changes nothing", async () => {
        const { result } = await upgrade({ module: { faults: [{ at: "AT+QIOTOTARD=4096", action: { kind: "urc-burst", count: 20 } }] } })
        expect(result).toBe("new")
    })
})

describe("the platform and the new image", () => {
    it("the cloud connection drops mid-download: 10706, a typed failure, the old image; a later attempt succeeds", async () => {
        const w = new World({ module: { faults: [{ at: "AT+QIOTOTARD=8192", action: { kind: "cloud-loss" } }] } })
        await w.install()
        const r = await once(w)
        expect(r).toMatchObject({ result: "failed", reason: "platform-failed" })
        expect(await healthy(w)).toBe("old")
        await vi.advanceTimersByTimeAsync(10_000) // the module reconnects by itself
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a self-test that fails rolls back to the old image, and the platform is told (10706)", async () => {
        const w = new World()
        await w.install()
        w.selfTestOk = false
        const log = await runDevice(w, 3)
        expect(log[1].rebooted).toBe(true) // boot 2: trial, self-test failed, reject, reboot
        expect(log[2].start).toMatchObject({ version: "1_0_0", trial: "none" })
        expect(w.progress.some(p => p.state === "rolled-back" && p.reason === "self-test-failed")).toBe(true)
        expect(w.dc.formatLog()).toMatch(/failed \(reported 1_0_0, expected 2_0_0\)/)
    })

    it("a new image that always fails its self-test: downloaded and trial-booted once, then the same package is refused", async () => {
        const w = new World()
        await w.install()
        w.selfTestOk = false
        const log = await runDevice(w, 30)
        expect(await healthy(w)).toBe("old")
        expect(w.progress.filter(p => p.state === "rolled-back").length).toBe(1)
        expect(log.length).toBe(3) // download, trial boot, the boot that refuses it
        expect(log[2].plan).toMatchObject({ result: "refused", reason: "failed-before", target: "2_0_0" })
        expect(w.module.received.filter(c => c === "AT+QIOTUPDATE=0").length).toBe(1)
    })

    it("a package that failed its self-test is refused on every later offer, across reboots, until another is offered; the memory holds one package", async () => {
        const w = new World()
        await w.install()
        w.selfTestOk = false
        await runDevice(w, 2) // download 2_0_0, trial boot: self-test fails, rolled back
        expect(w.progress.filter(p => p.state === "rolled-back").length).toBe(1)
        for (let boot = 0; boot < 3; boot++) {
            const log = await runDevice(w, 1) // a reboot: the memory is the store's, on the flash
            expect(log[0].plan).toMatchObject({ result: "refused", reason: "failed-before", target: "2_0_0" })
        }
        expect(w.module.received.filter(c => c.startsWith("AT+QIOTOTARD=") && !c.endsWith("?")).length).toBe(27 + 1) // one download only
        // a different package (3_0_0) is taken; it fails too and replaces the memory
        const pkg3 = w.dc.addPackage({ productKey: "p11tst", component: "STM32", version: "3_0_0", data: w.pkg.data })
        w.dc.stopPlan(1)
        w.dc.createPlan({ packageId: pkg3.id })
        let log = await runDevice(w, 2)
        expect(log[0].rebooted).toBe(true)
        expect(w.progress.filter(p => p.state === "activating").map(p => p.target)).toEqual(["2_0_0", "3_0_0"])
        expect(w.progress.filter(p => p.state === "rolled-back").length).toBe(2)
        log = await runDevice(w, 1)
        expect(log[0].plan).toMatchObject({ result: "refused", reason: "failed-before", target: "3_0_0" })
        // bounded: the slot now holds 3_0_0, so 2_0_0 is no longer remembered and is taken again
        w.dc.stopPlan(2)
        w.dc.createPlan({ packageId: w.pkg.id })
        w.selfTestOk = true
        log = await runDevice(w, 3)
        expect(log[0].rebooted).toBe(true)
        expect(w.progress.filter(p => p.state === "activating").map(p => p.target)).toEqual(["2_0_0", "3_0_0", "2_0_0"])
        expect(await healthy(w)).toBe("new")
    })

    it("a trial image that never confirms (a crash before the self-test) is rolled back by the store", async () => {
        const w = new World()
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        await run(e.checkForUpdate()).catch(() => {})
        // boots 2 and 3 die before start() confirms: the store spent both trial boots (the default is 2)
        for (let i = 0; i < 2; i++) {
            const s = w.newStore()
            await s.mount()
            expect((await s.boot()).trial).toBe(true)
        }
        // boot 4
        const e3 = w.powerOn()
        const st = await run(e3.start())
        expect(st).toMatchObject({ version: "1_0_0", trial: "rolled-back", platform: "failed" })
        expect(await healthy(w)).toBe("old")
    })
})

describe("resume after an MCU reset mid-download", () => {
    it("continues from the last checkpoint: at most one checkpoint of bytes re-read", async () => {
        const w = new World({ packageSize: 27954 })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        // reset the MCU after 13 blocks: stop it by cutting its flash on the next write
        await resetMidDownload(w, e, 13)
        const before = w.module.received.length
        const log = await runDevice(w)
        expect(await healthy(w)).toBe("new")
        const reread = w.module.received.slice(before).filter(c => c.startsWith("AT+QIOTOTARD=") && !c.endsWith("?"))
        expect(log[0].start.resumable).toBe(true)
        // 28 blocks in all; 12 were checkpointed (12 KB = 3 sectors), so 16 are read again
        expect(reads(reread)).toBeLessThanOrEqual(28 - 12)
        expect(reads(reread)).toBeGreaterThanOrEqual(28 - 13)
    })
})

describe("resume after an MCU reset mid-download: speed", () => {
    it("the module's stale plan is ended at once (its 10701 is journaled), not after an offer timeout: the resume starts within seconds", async () => {
        const w = new World({ packageSize: 27954 })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        await resetMidDownload(w, e, 13)
        const e2 = w.powerOn()
        expect((await run(e2.start())).resumable).toBe(true)
        const before = w.module.received.length
        const t0 = Date.now()
        let resumedAt = -1
        e2.onProgress(pr => {
            if (pr.state === "downloading" && resumedAt < 0) resumedAt = Date.now() - t0
        })
        await expect(run(e2.checkForUpdate())).rejects.toMatchObject({ name: "Reboot" })
        expect(e2.stats.resumedAt).toBeGreaterThan(0)
        // the plan is ended before the first request, and nothing waits out the 10 s offer timeout
        expect(w.module.received.slice(before, before + 2)).toEqual(["AT+QIOTUPDATE=0", "AT+QIOTOTAREQ=1"])
        expect(resumedAt).toBeGreaterThanOrEqual(0)
        expect(resumedAt).toBeLessThan(2000)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a reset between the write-ahead record and the 10701 (no digests journaled) asks first: an unanswered offer is taken, not refused", async () => {
        const w = new World()
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        // cut the power at the first flash write after the write-ahead record: before AT+QIOTUPDATE=1 is answered
        e.onProgress(pr => {
            if (pr.state === "offered") w.flash.armCut({ op: 2, kind: "before" })
        })
        await run(e.checkForUpdate()).catch(() => {})
        expect(w.flash.isOff()).toBe(true)
        w.flash.powerOn()
        const s = w.newStore()
        await s.mount()
        await s.boot()
        expect(s.journal()).toMatchObject({ version: "2_0_0", md5: "" })
        const before = w.module.received.length
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
        expect(w.module.received.slice(before)).not.toContain("AT+QIOTUPDATE=0")
    })
})

function reads(cmds: string[]) {
    return cmds.length
}

describe("hardening (issue 14)", () => {
    it("SHA-256 asked for and not sent: the plan fails (bad-plan), nothing activates on MD5 alone", async () => {
        const w = new World()
        await w.install()
        // a module firmware that leaves SHA-256 out of 10701 even after AT+QIOTOTAREQ=1
        Object.defineProperty((w.module as any).ota, "withSha", { get: () => false, set: () => {} })
        const r = await once(w)
        expect(r).toMatchObject({ result: "failed", reason: "bad-plan" })
        expect(w.module.received).toContain("AT+QIOTOTAREQ=1")
        expect(await healthy(w)).toBe("old")
        // not asking for it is a choice the integrator makes: then MD5 (and the slot CRC) decide
        const w2 = new World({ engine: { requestSha256: false } })
        await w2.install()
        expect(await once(w2)).toMatchObject({ result: "rebooting" })
        expect(w2.module.received).toContain("AT+QIOTOTAREQ")
    })

    it("ERROR on AT+QIOTOTARD=? falls back to the default block size: the same plan upgrades", async () => {
        const w = new World({ module: { faults: [{ at: "AT+QIOTOTARD=?", action: { kind: "error" } }] } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        expect(w.module.faults.fired.length).toBe(1)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a write failure on the last block of a piece is reported as the flash's, not as a bad plan or a mismatch", async () => {
        const size = 12000
        const w = new World({ packageSize: size, module: { pieceSize: 6000 } })
        await w.install()
        const program = w.flash.program.bind(w.flash)
        let failed = false
        w.flash.program = async (address: number, data: Buffer) => {
            // the program that carries the piece's last bytes (5120..6000 of the new slot)
            const at = address - w.layout.slotAddress[1]
            if (!failed && at >= 5120 && at < 6000) {
                failed = true
                throw new FlashError("worn-out", address, "the sector no longer programs")
            }
            return program(address, data)
        }
        const r = await once(w)
        expect(failed).toBe(true)
        expect(r).toMatchObject({ result: "failed", reason: "flash-error" })
        expect(await healthy(w)).toBe("old")
    })

    for (const op of ["startReceive", "activate"] as const)
        it(`a raw FlashError from the store's ${op} becomes flash-error and ends the module's plan`, async () => {
            const w = new World()
            await w.install()
            const e = w.powerOn()
            await run(e.start())
            const store = w.store as any
            store[op] = async () => {
                throw new FlashError("timeout", 0x1000, "busy too long")
            }
            const r = await run(e.checkForUpdate())
            expect(r).toMatchObject({ result: "failed", reason: "flash-error" })
            expect(w.module.received).toContain("AT+QIOTUPDATE=0")
            expect(await healthy(w)).toBe("old")
        })

    it("a target version the store cannot record is refused as a bad plan (pushed: the platform model keeps to 32)", async () => {
        const w = new World()
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        w.moduleEnd.write(Buffer.from(`\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0_${"x".repeat(40)}",30,-113,1000\r\n`))
        expect(await run(e.waitForPlan(1000))).toMatchObject({ result: "refused", reason: "bad-plan" })
        expect(w.module.received).toContain("AT+QIOTUPDATE=0")
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD="))).toBe(false)
        expect(await healthy(w)).toBe("old")
    })

    it("a lost 10704 does not strand a verified image: after one repeat the install goes ahead", async () => {
        const w = new World()
        await w.install()
        const lost = loseUrcOnce(w, line => line === "+QIOTEVT: 7,10704")
        const t0 = Date.now()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        expect(lost()).toBe(1)
        expect(Date.now() - t0).toBeLessThan(5 * 60_000) // two event timeouts, not the platform's hours
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a boot the store could not record (worn metadata) is reported as the store's fault, not as an unconfirmed image", async () => {
        const w = new World()
        await w.install()
        const e = w.powerOn()
        const store = w.store as any
        const boot = store.boot.bind(store)
        store.boot = async () => ({ ...(await boot()), rolledBack: true, wrote: false, metaFault: new FlashError("worn-out", 0x1000, "erase failed") })
        const progress: { state: string; reason: string; detail: string }[] = []
        e.onProgress(p => progress.push(p))
        const r = await run(e.start())
        expect(r.storeFault).toMatch(/worn-out/)
        expect(progress.find(p => p.state === "rolled-back")).toMatchObject({ reason: "flash-error" })
        expect(await healthy(w)).toBe("old")
    })

    it("a module that repeats 10702 forever and never sends the piece: the wait is bounded, the plan fails as a timeout", async () => {
        const w = new World({ engine: { pieceTimeoutMs: 20_000, eventTimeoutMs: 20_000 } })
        await w.install()
        const urc = w.module.urc.bind(w.module)
        w.module.urc = (line: string) => (line.startsWith("+QIOTEVT: 7,10703") ? Promise.resolve() : urc(line))
        const chatter = setInterval(() => w.moduleEnd.write(Buffer.from("\r\n+QIOTEVT: 7,10702\r\n")), 5000)
        try {
            const t0 = Date.now()
            const r = await once(w)
            expect(r).toMatchObject({ result: "failed", reason: "timeout" })
            // the stall retries (3) each wait one timeout: about 4 × 20 s, not forever
            expect(Date.now() - t0).toBeLessThan(10 * 60_000)
        } finally {
            clearInterval(chatter)
        }
        expect(await healthy(w)).toBe("old")
    })

    it("a lost 10703 after AT+QIOTUPDATE=2: the engine probes for the piece (a one-byte read at its offset answers with data) and reads it, none is skipped", async () => {
        const w = new World({ packageSize: 18000, module: { pieceSize: 6000 } })
        await w.install()
        const lost = loseUrcOnce(w, line => line === '+QIOTEVT: 7,10703,"STM32",18000,6000,6000')
        const t0 = Date.now()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        expect(lost()).toBe(1)
        expect(Date.now() - t0).toBeLessThan(15_000) // a probe within seconds, not the 120 s piece timeout
        const sent = w.module.received
        // one "next piece" per piece but the last: none repeated (a repeat would move the module past the piece it holds)
        expect(sent.filter(c => c === "AT+QIOTUPDATE=2").length).toBe(2)
        expect(sent.filter(c => c === "AT+QIOTOTARD=6000,1").length).toBe(1) // the probe that found it
        expect(sent).toContain("AT+QIOTOTARD=6000,1024")
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a lost 10703 for the FIRST piece: the engine finds the piece held (a read at 0 answers with data) within seconds, ends the attempt and takes the plan again; no piece skipped or read twice", async () => {
        const w = new World({ packageSize: 18000, module: { pieceSize: 6000 } })
        await w.install()
        const lost = loseUrcOnce(w, line => line === '+QIOTEVT: 7,10703,"STM32",18000,0,6000')
        const t0 = Date.now()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        expect(lost()).toBe(1)
        // not the 120 s piece timeout: a probe every few seconds, then the plan again
        expect(Date.now() - t0).toBeLessThan(15_000)
        const sent = w.module.received
        expect(sent.filter(c => c === "AT+QIOTUPDATE=1").length).toBe(2)
        expect(sent.filter(c => c === "AT+QIOTUPDATE=2").length).toBe(2)
        // every block read once (the probe reads one byte), the package exactly once
        const reads = sent.filter(c => c.startsWith("AT+QIOTOTARD=") && c !== "AT+QIOTOTARD=?" && !c.endsWith(",1"))
        expect(new Set(reads).size).toBe(reads.length)
        expect(w.engine.stats.bytesRead).toBe(18000)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a first piece that is slow to arrive (the module still fetching it) is waited for: the probe's ERROR is not taken for a lost 10703", async () => {
        const w = new World({ packageSize: 18000, module: { pieceSize: 6000, downloadBytesPerSec: 200 } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        const sent = w.module.received
        expect(sent.filter(c => c === "AT+QIOTUPDATE=1").length).toBe(1)
        expect(sent.filter(c => c === "AT+QIOTUPDATE=0").length).toBe(0)
        // 30 s per piece: the first one was probed (ERROR: not there yet) every 3 s
        expect(sent.filter(c => c === "AT+QIOTOTARD=0,1").length).toBeGreaterThan(5)
        expect(w.engine.stats.bytesRead).toBe(18000)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a lost AT+QIOTUPDATE=2 (the module did not move: its piece still starts before the engine's offset) is repeated", async () => {
        const w = new World({ packageSize: 18000, module: { pieceSize: 6000, faults: [{ at: "AT+QIOTUPDATE=2", action: { kind: "no-reply" } }] } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        expect(w.module.faults.fired.length).toBe(1)
        expect(w.module.received.filter(c => c === "AT+QIOTUPDATE=2").length).toBe(3)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a lost 10701 (a piece announced before the start): the attempt is ended and the plan asked again at once, not after four event timeouts", async () => {
        const w = new World()
        await w.install()
        const lost = loseUrcOnce(w, line => line.startsWith("+QIOTEVT: 7,10701"))
        const t0 = Date.now()
        expect(await once(w)).toMatchObject({ result: "rebooting" })
        expect(lost()).toBe(1)
        expect(Date.now() - t0).toBeLessThan(30_000)
        expect(w.module.received.filter(c => c === "AT+QIOTUPDATE=1").length).toBe(2)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })

    it("a 10706 that arrives while a failed read is diagnosed is not lost in the module's recovery: the plan fails at once as the platform's", async () => {
        // the CLI's seed-113 run: the reply's header lies, the cloud drops with it, on a paced line
        const w = new World({
            packageSize: 9,
            uart: { baud: 115_200 },
            module: {
                latencyMs: 5,
                faults: [
                    { at: "AT+QIOTOTARD=0,", action: { kind: "lie-length", by: 5 } },
                    { at: "AT+QIOTOTARD=0,", action: { kind: "cloud-loss" } },
                ],
            },
        })
        await w.install()
        const t0 = Date.now()
        expect(await once(w)).toMatchObject({ result: "failed", reason: "platform-failed" })
        expect(Date.now() - t0).toBeLessThan(30_000)
        expect(await healthy(w)).toBe("old")
    })

    it("a short +QIOTOTARD reply (fewer bytes than asked, honestly announced) is used: the next read goes on from there", async () => {
        const w = new World({ packageSize: 8000, module: { faults: [{ at: "AT+QIOTOTARD=2048,", action: { kind: "short-read", bytes: 300 } }] } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        await expect(run(e.checkForUpdate())).rejects.toMatchObject({ name: "Reboot" })
        expect(w.module.faults.fired.length).toBe(1)
        expect(e.stats.blockRetries).toBe(0)
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD=2348,"))).toBe(true)
        expect(e.stats.bytesRead).toBe(8000)
        await runDevice(w)
        expect(await healthy(w)).toBe("new")
    })
})
