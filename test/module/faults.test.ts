// Each fault on demand, and exactly what the MCU sees on the wire when it fires.
import { createHash } from "node:crypto"
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { UartLine } from "../../sim/link/uart-line"
import { DevCenter } from "../../sim/module/dev-center"
import { FaultPlan } from "../../sim/module/faults"
import { QuecModule, UNRELATED_URCS } from "../../sim/module/module"
import { DS, exchange, IMEI, lines, makePackage, PK, PS, readRange, splitRead, Terminal, tick, toOffer, walkthroughWorld } from "./harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

/** Offer confirmed: piece 0 in RAM. */
async function downloading(w: ReturnType<typeof walkthroughWorld>) {
    await toOffer(w)
    await exchange(w.term, "AT+QIOTUPDATE=1")
}

describe("command faults", () => {
    test("per-command latency: the reply comes that long after the CR", async () => {
        const w = walkthroughWorld({ latencyMs: line => (line.startsWith("AT+QIOTOTARD") ? 250 : 0) })
        await downloading(w)
        const t = w.term
        t.take()
        await t.send("AT+QIOTOTARD=0,16")
        await tick(200)
        expect(t.takeText()).toBe("")
        await tick(60)
        expect(t.takeText()).toBe("\r\n+QIOTOTARD: 0,16\r\n" + w.pkg.data.subarray(0, 16).toString("latin1") + "\r\n\r\nOK\r\n")
    })

    test("no-reply (a timeout): only the echo comes back, and the next command is answered", async () => {
        const w = walkthroughWorld({ faults: [{ at: "AT+CSQ", action: { kind: "no-reply" } }] })
        const t = w.term
        expect(await exchange(t, "AT+CSQ", 5000)).toBe("AT+CSQ\r")
        expect(await exchange(t, "AT+CSQ")).toBe("AT+CSQ\r\r\n+CSQ: 19,99\r\n\r\nOK\r\n")
        expect(w.module.faults.fired).toEqual([{ rule: 0, command: "AT+CSQ", action: { kind: "no-reply" } }])
    })

    test("delay: a late reply, arriving after the MCU has moved on", async () => {
        const w = walkthroughWorld({ faults: [{ at: "AT+CSQ", action: { kind: "delay", ms: 3000 } }] })
        const t = w.term
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+CSQ", 2000)).toBe("")
        await tick(1010)
        expect(t.takeText()).toBe("\r\n+CSQ: 19,99\r\n\r\nOK\r\n")
    })

    test("ERROR on the 3rd read only", async () => {
        const w = walkthroughWorld({ faults: [{ at: "AT+QIOTOTARD", nth: 3, action: { kind: "error" } }] })
        await downloading(w)
        const t = w.term
        expect(splitRead(Buffer.from(await exchange(t, "AT+QIOTOTARD=0,1024"), "latin1"), "").length).toBe(1024)
        expect(splitRead(Buffer.from(await exchange(t, "AT+QIOTOTARD=1024,1024"), "latin1"), "").length).toBe(1024)
        expect(await exchange(t, "AT+QIOTOTARD=2048,1024")).toBe("\r\nERROR\r\n")
        expect(splitRead(Buffer.from(await exchange(t, "AT+QIOTOTARD=2048,1024"), "latin1"), "").start).toBe(2048)
    })

    test("probabilistic ERRORs are reproducible from the seed", async () => {
        const run = async (seed: number) => {
            const w = walkthroughWorld({
                seed,
                faults: [{ at: "AT+QIOTOTARD", probability: 0.3, action: { kind: "error" } }],
            })
            await downloading(w)
            const out: string[] = []
            for (let i = 0; i < 20; i++) out.push((await exchange(w.term, "AT+QIOTOTARD=0,4")).slice(0, 9))
            return out.join("|")
        }
        const a = await run(5)
        expect(await run(5)).toBe(a)
        expect(await run(6)).not.toBe(a)
        const errors = a.split("|").filter(x => x === "\r\nERROR\r\n").length
        expect(errors).toBeGreaterThan(1)
        expect(errors).toBeLessThan(15)
    })

    test("lie-length: the header announces 5 bytes more than follow", async () => {
        const w = walkthroughWorld({ faults: [{ at: "AT+QIOTOTARD=1024,", action: { kind: "lie-length", by: 5 } }] })
        await downloading(w)
        const r = await exchange(w.term, "AT+QIOTOTARD=1024,1024")
        expect(r).toBe(
            "\r\n+QIOTOTARD: 1024,1029\r\n" + w.pkg.data.subarray(1024, 2048).toString("latin1") + "\r\n\r\nOK\r\n",
        )
    })

    test("a burst of unrelated URCs before the reply (seeded choice)", async () => {
        const w = walkthroughWorld({ seed: 9, faults: [{ at: "AT+QIOTOTARD", action: { kind: "urc-burst", count: 4 } }] })
        await downloading(w)
        const r = await exchange(w.term, "AT+QIOTOTARD=0,8")
        const burst = r.slice(0, r.indexOf("\r\n+QIOTOTARD"))
        const ls = lines(burst)
        expect(ls.length).toBe(4)
        for (const l of ls) expect(UNRELATED_URCS).toContain(l)
        expect(r.slice(burst.length)).toBe("\r\n+QIOTOTARD: 0,8\r\n" + w.pkg.data.subarray(0, 8).toString("latin1") + "\r\n\r\nOK\r\n")
        const again = walkthroughWorld({ seed: 9, faults: [{ at: "AT+QIOTOTARD", action: { kind: "urc-burst", count: 4 } }] })
        await downloading(again)
        expect(await exchange(again.term, "AT+QIOTOTARD=0,8")).toBe(r)
    })

    test("bad package: the bytes delivered do not match the MD5 announced in 10701", async () => {
        const w = walkthroughWorld({ faults: [{ at: "AT+QIOTUPDATE=1", action: { kind: "bad-package", offset: 5000 } }] })
        await toOffer(w)
        const ev = lines(await exchange(w.term, "AT+QIOTUPDATE=1")).find(l => l.startsWith("+QIOTEVT: 7,10701"))
        const announced = ev.split(",")[4].replace(/"/g, "")
        expect(announced).toBe(createHash("md5").update(w.pkg.data).digest("hex"))
        const got = await readRange(w.term, 0, 27954)
        expect(createHash("md5").update(got).digest("hex")).not.toBe(announced)
        let diff = -1
        for (let i = 0; i < got.length; i++) if (got[i] !== w.pkg.data[i]) diff = i
        expect(diff).toBe(5000)
    })
})

describe("module reboot", () => {
    test("reboot mid-payload: a header, 100 bytes, the line drops, RDY; plan kept, piece re-fetched after re-registration", async () => {
        const w = walkthroughWorld({
            bootMs: 500,
            pieceSize: 10000,
            faults: [{ at: "AT+QIOTOTARD", nth: 3, action: { kind: "reboot-mid-payload", afterBytes: 100 } }],
        })
        await downloading(w)
        const t = w.term
        // on to piece 1 (10000..19999) without reading piece 0: allowed by default
        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe('\r\nOK\r\n\r\n+QIOTEVT: 7,10703,"STM32",27954,10000,10000\r\n')
        await readRange(t, 10000, 12048)
        const before = t.received
        await t.send("AT+QIOTOTARD=12048,1024")
        await tick(5)
        const raw = t.take()
        expect(raw.toString("latin1")).toBe(
            "\r\n+QIOTOTARD: 12048,1024\r\n" + w.pkg.data.subarray(12048, 12148).toString("latin1"),
        )
        expect(t.linkEvents).toEqual([{ up: false, at: before + raw.length }])
        await tick(500)
        expect(t.takeText()).toBe("\r\nRDY\r\n")
        expect(t.linkEvents[1].up).toBe(true)
        // RAM lost: echo on again, not registered, the piece gone
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("AT+QIOTSTATE?\r\r\n+QIOTSTATE: 1\r\n\r\nOK\r\n")
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTOTARD=12048,1024")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTAREQ=1")).toBe("\r\nERROR\r\n")
        // saved: product info and MCU versions
        expect(await exchange(t, "AT+QIOTMCUVER?")).toBe('\r\n+QIOTMCUVER: "STM32","1_0_0"\r\n\r\nOK\r\n')
        expect(await exchange(t, "AT+QIOTREG=1")).toBe(
            "\r\nOK\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n\r\n+QIOTEVT: 7,10702\r\n" +
                '\r\n+QIOTEVT: 7,10703,"STM32",27954,10000,10000\r\n',
        )
        const rest = await readRange(t, 10000, 20000)
        expect(rest.equals(w.pkg.data.subarray(10000, 20000))).toBe(true)
    })

    test("reboot at a chosen moment (afterMs), while an offer is unanswered: 10700 again after registration", async () => {
        const w = walkthroughWorld({ bootMs: 300, faults: [{ afterMs: 1000, action: { kind: "reboot" } }] })
        const offer = await toOffer(w)
        await tick(1000 - 40)
        const t = w.term
        t.take()
        await tick(50)
        expect(t.linkEvents.map(e => e.up)).toEqual([false])
        await tick(300)
        expect(t.takeText()).toBe("\r\nRDY\r\n")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe(
            "AT+QIOTREG=1\r\r\nOK\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n" + offer.slice("\r\nOK\r\n".length),
        )
    })

    test("reboot instead of answering a command: the echo, then the line drops", async () => {
        const w = walkthroughWorld({ bootMs: 100, faults: [{ at: "AT+QIOTUPDATE=3", action: { kind: "reboot" } }] })
        const t = w.term
        expect(await exchange(t, "AT+QIOTUPDATE=3", 5)).toBe("AT+QIOTUPDATE=3\r")
        expect(t.linkEvents.map(e => e.up)).toEqual([false])
        await tick(100)
        expect(t.takeText()).toBe("\r\nRDY\r\n")
        expect(w.module.reboots).toBe(1)
    })

    test("after AT+QIOTUPDATE=3 the update survives a reboot: the version report still gives 10705", async () => {
        const w = walkthroughWorld({ bootMs: 100 })
        await downloading(w)
        const t = w.term
        await readRange(t, 0, 27954)
        await exchange(t, "AT+QIOTUPDATE=3")
        w.module.reboot()
        await tick(105)
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe("\r\nOK\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32","2_0_0"')).toBe(
            '\r\nOK\r\n\r\n+QIND: "FOTA","END",0\r\n\r\n+QIOTEVT: 7,10705\r\n',
        )
    })
})

describe("loss of the cloud connection", () => {
    test("mid-download: 10706, state 5, reconnect by itself, the plan can be retried", async () => {
        const w = walkthroughWorld({
            reconnectMs: 2000,
            faults: [{ at: "AT+QIOTOTARD", nth: 2, action: { kind: "cloud-loss" } }],
        })
        await downloading(w)
        const t = w.term
        await exchange(t, "AT+QIOTOTARD=0,8")
        const r = await exchange(t, "AT+QIOTOTARD=8,8")
        expect(r).toBe(
            "\r\n+QIOTOTARD: 8,8\r\n" + w.pkg.data.subarray(8, 16).toString("latin1") + "\r\n\r\nOK\r\n\r\n+QIOTEVT: 7,10706\r\n",
        )
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 5\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=16,8")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTAREQ=1")).toBe("\r\nERROR\r\n")
        await tick(2000)
        expect(t.takeText()).toBe("\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n")
        expect(w.dc.deviceState(1, IMEI)).toEqual({ status: "pending", consecutiveFailures: 1, attempts: 1 })
        expect(await exchange(t, "AT+QIOTOTAREQ=1")).toBe(
            '\r\nOK\r\n\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954\r\n',
        )
    })
})

describe("byte faults on the UART, as the MCU sees them", () => {
    function onLine(script: ConstructorParameters<typeof UartLine>[0]) {
        const dc = new DevCenter()
        dc.addProduct({ productKey: PK, productSecret: PS }).addComponent(PK, "STM32")
        const pkg = dc.addPackage({ productKey: PK, component: "STM32", version: "2_0_0", data: makePackage(4000) })
        dc.createPlan({ packageId: pkg.id })
        dc.addDevice(PK, IMEI, DS)
        const line = new UartLine(script)
        const module = new QuecModule(line.module, { devCenter: dc, imei: IMEI, nvm: { productKey: PK, productSecret: PS, deviceSecret: DS } })
        const t = new Terminal(line.mcu)
        return { line, module, t, pkg, dc }
    }

    async function toRead(x: ReturnType<typeof onLine>) {
        await exchange(x.t, "ATE0")
        await exchange(x.t, "AT+QIOTREG=1")
        await exchange(x.t, 'AT+QIOTMCUVER="STM32","1_0_0"')
        await exchange(x.t, "AT+QIOTOTAREQ")
        await exchange(x.t, "AT+QIOTUPDATE=1")
        return x.line.stats("to-mcu").bytesIn
    }

    test("a dropped payload byte: the MCU gets 1023 bytes and the trailer's CR in its place", async () => {
        const x = onLine({})
        const base = await toRead(x)
        const header = "\r\n+QIOTOTARD: 0,1024\r\n"
        x.line.addFault({ dir: "to-mcu", index: base + header.length + 500, action: "drop" })
        const r = await exchange(x.t, "AT+QIOTOTARD=0,1024")
        const d = x.pkg.data
        expect(r).toBe(
            header + d.subarray(0, 500).toString("latin1") + d.subarray(501, 1024).toString("latin1") + "\r\n\r\nOK\r\n",
        )
    })

    test("a corrupted and a duplicated payload byte", async () => {
        const x = onLine({})
        const base = await toRead(x)
        const header = "\r\n+QIOTOTARD: 0,1024\r\n"
        x.line.addFault({ dir: "to-mcu", index: base + header.length + 10, action: "corrupt", xor: 0xff })
        x.line.addFault({ dir: "to-mcu", index: base + header.length + 20, action: "duplicate" })
        const r = Buffer.from(await exchange(x.t, "AT+QIOTOTARD=0,1024"), "latin1")
        const d = x.pkg.data
        const want = Buffer.concat([
            Buffer.from(header),
            d.subarray(0, 10),
            Buffer.from([d[10] ^ 0xff]),
            d.subarray(11, 21),
            d.subarray(20, 1024),
            Buffer.from("\r\n\r\nOK\r\n"),
        ])
        expect(r.equals(want)).toBe(true)
    })

    test("a corrupted command byte: the module answers ERROR; a dropped 'A': no answer at all", async () => {
        const x = onLine({})
        await exchange(x.t, "ATE0")
        const sent = x.line.stats("to-module").bytesIn
        x.line.addFault({ dir: "to-module", index: sent + 4, action: "corrupt", xor: 0x80 })
        expect(await exchange(x.t, "AT+CSQ")).toBe("\r\nERROR\r\n")
        const sent2 = x.line.stats("to-module").bytesIn
        x.line.addFault({ dir: "to-module", index: sent2, action: "drop" })
        expect(await exchange(x.t, "AT+CSQ")).toBe("")
        expect(await exchange(x.t, "AT+CSQ")).toBe("\r\n+CSQ: 19,99\r\n\r\nOK\r\n")
    })

    test("a module reboot over the UART: the line drops, RDY after the boot time", async () => {
        const x = onLine({ baud: 115200 })
        await exchange(x.t, "ATE0", 50)
        x.module.reboot()
        await tick(999)
        expect(x.t.takeText()).toBe("")
        await tick(5)
        expect(x.t.takeText()).toBe("\r\nRDY\r\n")
        expect(x.t.linkEvents.map(e => e.up)).toEqual([false, true])
    })
})

test("a FaultPlan can be shared and extended while running", async () => {
    const plan = new FaultPlan([], 3)
    const w = walkthroughWorld({ faults: plan })
    await exchange(w.term, "ATE0")
    expect(await exchange(w.term, "AT")).toBe("\r\nOK\r\n")
    plan.add({ at: "AT", count: 2, action: { kind: "error" } })
    expect(await exchange(w.term, "AT")).toBe("\r\nERROR\r\n")
    expect(await exchange(w.term, "AT")).toBe("\r\nERROR\r\n")
    expect(await exchange(w.term, "AT")).toBe("\r\nOK\r\n")
    expect(plan.fired.length).toBe(2)
})
