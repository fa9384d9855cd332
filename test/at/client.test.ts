import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { AtClient, offUrc } from "../../src/at/client"
import { AtClientOptions, PayloadSink } from "../../src/at/client-types"
import { createPipe } from "../../src/link/pipe"
import {
    AtCmeError,
    AtCommandError,
    AtError,
    AtLinkLostError,
    AtMalformedError,
    AtTimeoutError,
} from "../../src/at/errors"
import { ScriptedModule } from "./scripted-module"
import { rng } from "../helpers/rng"

beforeEach(() => {
    vi.useFakeTimers()
})
afterEach(() => {
    vi.useRealTimers()
})

function setup(options?: AtClientOptions, seed = 0) {
    const [mcu, moduleEnd] = createPipe()
    if (seed) {
        // the MCU receives the module's bytes re-split at random points
        const r = rng(seed)
        mcu.chunker = left => r.int(1, 40)
    }
    const module = new ScriptedModule(moduleEnd)
    module.on("AT", "\r\nOK\r\n")
    const client = new AtClient(mcu, options)
    const urcs: string[] = []
    client.onUrc(l => urcs.push(l))
    return { mcu, module, client, urcs }
}

/** Run `p` while advancing the virtual clock; returns its result or throws its error. */
async function run<T>(p: Promise<T>, ms = 60_000): Promise<T> {
    let done = false
    p.then(
        () => (done = true),
        () => (done = true)
    )
    for (let t = 0; t < ms && !done; t += 10) await vi.advanceTimersByTimeAsync(10)
    return p
}

async function fails(p: Promise<unknown>): Promise<AtError> {
    try {
        await run(p)
    } catch (e) {
        return e as AtError
    }
    throw new Error("expected a failure")
}

function collectSink() {
    const parts: Buffer[] = []
    const s = { ended: null as boolean, header: "", length: -1, bytes: () => Buffer.concat(parts) }
    const sink: PayloadSink = {
        begin: (h, n) => {
            s.header = h
            s.length = n
        },
        data: (b, a, e) => parts.push(Buffer.from(b.subarray(a, e))),
        end: ok => (s.ended = ok),
    }
    return { s, sink }
}

describe("AT client: commands and typed results", () => {
    it("returns information lines and ignores echo", async () => {
        const { module, client } = setup()
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        const r = await run(client.command("AT+CSQ"))
        expect(r.lines).toEqual(["+CSQ: 17,99"])
        expect(r.fields("+CSQ").int(0)).toBe(17)
        expect(client.stats.echoes).toBe(1)
        module.echo = false
        const r2 = await run(client.command("AT+CSQ"))
        expect(r2.line()).toBe("+CSQ: 17,99")
    })

    it("works the same whatever the chunking of the module's bytes", async () => {
        for (let seed = 1; seed <= 50; seed++) {
            const { module, client, urcs } = setup({}, seed)
            module.on("AT+QIOTMCUVER?", '\r\n+QIOTMCUVER: "STM32","1_0_0"\r\n+QIOTEVT: 7,10702\r\n+QIOTMCUVER: "ESP","V1_0"\r\n\r\nOK\r\n')
            const r = await run(client.command("AT+QIOTMCUVER?"))
            expect(r.lines, `seed ${seed}`).toEqual(['+QIOTMCUVER: "STM32","1_0_0"', '+QIOTMCUVER: "ESP","V1_0"'])
            expect(urcs).toEqual(["+QIOTEVT: 7,10702"])
        }
    })

    it("maps ERROR, +CME ERROR and +CMS ERROR to typed errors", async () => {
        const { module, client } = setup()
        module.on("AT+QIOTREG=1", "\r\nERROR\r\n")
        module.on("AT+CPIN?", "\r\n+CME ERROR: 10\r\n")
        module.on("AT+CMGS", "\r\n+CMS ERROR: 304\r\n")
        module.on("AT+QX", "\r\n+CME ERROR: SIM not inserted\r\n")
        const e1 = await fails(client.command("AT+QIOTREG=1"))
        expect(e1).toBeInstanceOf(AtCommandError)
        expect(e1.reason).toBe("error")
        expect(e1.command).toBe("AT+QIOTREG=1")
        const e2 = (await fails(client.command("AT+CPIN?"))) as AtCmeError
        expect(e2).toBeInstanceOf(AtCmeError)
        expect([e2.reason, e2.code, e2.cms]).toEqual(["cme-error", 10, false])
        const e3 = (await fails(client.command("AT+CMGS"))) as AtCmeError
        expect([e3.code, e3.cms]).toEqual([304, true])
        const e4 = (await fails(client.command("AT+QX"))) as AtCmeError
        expect([e4.code, e4.text]).toEqual([-1, "SIM not inserted"])
        expect(client.outOfSync).toBe(false) // a clean error answer keeps the link in sync
    })

    it("refuses command text that cannot be sent, before sending anything", async () => {
        const { module, client } = setup()
        for (const bad of ["", "AT\r\nAT", "AT+X=\u00e9", "AT+" + "A".repeat(600)]) {
            const e = await fails(client.command(bad))
            expect(e.reason).toBe("bad-command")
        }
        expect(module.received).toEqual([])
    })

    it("keeps only lines with the expected prefix and counts the rest as noise", async () => {
        const { module, client } = setup()
        module.on("AT+QIOTINFO?", '\r\nsomething else\r\n+QIOTINFO: "sdkver","2.9.2"\r\n\r\nOK\r\n')
        const r = await run(client.command("AT+QIOTINFO?", { expect: "+QIOTINFO" }))
        expect(r.lines).toEqual(['+QIOTINFO: "sdkver","2.9.2"'])
        expect(client.stats.noise).toBe(1)
    })

    it("bounds the lines kept for one response", async () => {
        const { module, client } = setup({ maxResponseLines: 4 })
        module.on("ATI", "\r\n" + "line\r\n".repeat(10) + "OK\r\n")
        const e = (await fails(client.command("ATI"))) as AtMalformedError
        expect(e).toBeInstanceOf(AtMalformedError)
        expect(e.detail).toBe("too-many-lines")
    })
})

describe("AT client: one command in flight", () => {
    it("serialises concurrent callers: the next command is written only after the previous final", async () => {
        const { module, client, mcu } = setup()
        module.on("AT+A", [{ after: 200, data: "\r\nOK\r\n" }])
        module.on("AT+B", "\r\n+B: 1\r\n\r\nOK\r\n")
        const writes: number[] = []
        const a = client.command("AT+A")
        const b = client.command("AT+B")
        await vi.advanceTimersByTimeAsync(100)
        writes.push(module.received.length)
        await run(Promise.all([a, b]))
        expect(writes).toEqual([1]) // at 100 ms only AT+A had been written
        expect(module.received).toEqual(["AT+A", "AT+B"])
        expect((await b).lines).toEqual(["+B: 1"])
        expect(mcu.bytesOut).toBe("AT+A\rAT+B\r".length)
    })
})

describe("AT client: URCs", () => {
    it("keeps order when a transport hands over a chunk far bigger than one receiver slice", async () => {
        const { module, client, urcs } = setup({ maxPayload: 8192 })
        const body = Buffer.alloc(8000, 0x55)
        const lines = Array.from({ length: 100 }, (_, i) => `+QIOTEVT: 7,${10000 + i}\r\n`).join("")
        module.on("AT+QIOTOTARD=0,8000", [{ data: Buffer.concat([Buffer.from(lines + "+QIOTOTARD: 0,8000\r\n"), body, Buffer.from("\r\n" + lines + "OK\r\n")]) }])
        const { s, sink } = collectSink()
        const r = await run(client.command("AT+QIOTOTARD=0,8000", { sink }))
        expect(r.payloadLength).toBe(8000)
        expect(s.bytes().equals(body)).toBe(true)
        expect(urcs.length).toBe(200)
        expect(urcs.every((u, i) => u === `+QIOTEVT: 7,${10000 + (i % 100)}`)).toBe(true)
    })

    it("delivers URCs while a command is pending, between its lines, and right after a payload", async () => {
        const { module, client, urcs } = setup({}, 7)
        const data = Buffer.from("0123\r\nOK\r\n+QIOTEVT: 7,10706\r\n\u0000")
        module.on(`AT+QIOTOTARD=0,${data.length}`, [
            { data: `\r\n+QIOTEVT: 7,10702\r\n+QIOTOTARD: 0,${data.length}\r\n` },
            { after: 5, data },
            { after: 5, data: "\r\n+QIND: \"FOTA\",\"END\",0\r\n\r\nOK\r\n" },
        ])
        const { s, sink } = collectSink()
        const r = await run(client.command(`AT+QIOTOTARD=0,${data.length}`, { sink }))
        expect(r.payloadLength).toBe(data.length)
        expect(r.lines).toEqual([])
        expect(s.bytes().equals(data)).toBe(true)
        expect(s.ended).toBe(true)
        expect(urcs).toEqual(["+QIOTEVT: 7,10702", '+QIND: "FOTA","END",0'])
    })

    it("routes URC payloads (+QIOTEVT: 5,10200,<len>) to the URC sink, also during a command", async () => {
        const { module, client, urcs } = setup()
        const down = Buffer.from([0, 13, 10, 79, 75, 13, 10, 255])
        module.on("AT+CSQ", [{ data: Buffer.concat([Buffer.from("\r\n+QIOTEVT: 5,10200,8\r\n"), down, Buffer.from("\r\n+CSQ: 20,99\r\n\r\nOK\r\n")]) }])
        const { s, sink } = collectSink()
        client.urcSink = sink
        const r = await run(client.command("AT+CSQ"))
        expect(r.lines).toEqual(["+CSQ: 20,99"])
        expect(urcs).toEqual(["+QIOTEVT: 5,10200,8"])
        expect(s.bytes().equals(down)).toBe(true)
        expect(s.ended).toBe(true)
    })

    it("a handler can unsubscribe", async () => {
        const { module, client, urcs } = setup()
        const mine: string[] = []
        const handler = (l: string) => mine.push(l)
        client.onUrc(handler)
        module.send("\r\n+QIOTEVT: 7,10702\r\n")
        await run(client.command("AT"))
        offUrc(client, handler)
        module.send("\r\n+QIOTEVT: 7,10703\r\n")
        await run(client.command("AT"))
        expect(mine).toEqual(["+QIOTEVT: 7,10702"])
        expect(urcs).toEqual(["+QIOTEVT: 7,10702", "+QIOTEVT: 7,10703"])
    })

    it("a throwing URC handler does not break the link", async () => {
        const { module, client, urcs } = setup()
        client.onUrc(() => {
            throw new Error("app bug")
        })
        module.send("\r\n+QIOTEVT: 7,10702\r\n")
        module.on("AT+CSQ", "\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
        expect((await run(client.command("AT+CSQ"))).lines).toEqual(["+CSQ: 20,99"])
        expect(urcs).toEqual(["+QIOTEVT: 7,10702"])
        expect(client.stats.handlerErrors).toBe(1)
    })
})

describe("AT client: timeouts and recovery", () => {
    it("times out, then resynchronises before the next command without taking the late OK for its answer", async () => {
        const { module, client } = setup({ timeoutMs: 3000 })
        // the late OK lands after the resync's AT was answered, inside the quiet window that follows
        module.on("AT+SLOW", [{ after: 3050, data: "\r\nOK\r\n" }])
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        const e = (await fails(client.command("AT+SLOW"))) as AtTimeoutError
        expect(e).toBeInstanceOf(AtTimeoutError)
        expect([e.reason, e.timeoutMs]).toEqual(["timeout", 3000])
        expect(client.outOfSync).toBe(true)
        const r = await run(client.command("AT+CSQ"))
        expect(r.lines).toEqual(["+CSQ: 17,99"])
        expect(module.received.filter(c => c === "AT").length).toBeGreaterThanOrEqual(2) // the late OK forced a second AT
        expect(client.stats.strayFinals).toBeGreaterThanOrEqual(1)
        expect(client.outOfSync).toBe(false)
    })

    it("fails with no-sync when the module never answers AT, and keeps delivering URCs", async () => {
        const { module, client, urcs } = setup({ syncAttempts: 3 })
        module.on("AT", null)
        module.on("AT+X", null)
        await fails(client.command("AT+X"))
        const p = client.command("AT+Y")
        setTimeout(() => module.send("\r\n+QIOTEVT: 7,10700,\"STM32\",\"\",\"2_0_0\",30,-113,100\r\n"), 50)
        const e = await fails(p)
        expect(e).toBeInstanceOf(AtLinkLostError)
        expect(e.reason).toBe("no-sync")
        expect(module.received.filter(c => c === "AT").length).toBe(3)
        expect(module.received).not.toContain("AT+Y")
        expect(urcs).toEqual(['+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,100'])
    })

    it("ends a payload whose header lies long with a typed error after the inter-byte timeout; a later URC is not lost", async () => {
        const { module, client, urcs } = setup({ payloadIdleMs: 500 })
        module.on("AT+QIOTOTARD=0,64", "\r\n+QIOTOTARD: 0,64\r\n" + "x".repeat(40) + "\r\n\r\nOK\r\n")
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        const { s, sink } = collectSink()
        const e = (await fails(client.command("AT+QIOTOTARD=0,64", { sink }))) as AtMalformedError
        expect(e).toBeInstanceOf(AtMalformedError)
        expect(e.detail).toBe("payload-aborted")
        expect(s.ended).toBe(false)
        module.send("\r\n+QIOTEVT: 7,10703,\"STM32\",100,0,100\r\n")
        const r = await run(client.command("AT+CSQ"))
        expect(r.lines).toEqual(["+CSQ: 17,99"])
        expect(urcs).toEqual(['+QIOTEVT: 7,10703,"STM32",100,0,100'])
    })

    it("fails at once on a header that lies short (trailer check), and the sink is told to discard", async () => {
        const { module, client } = setup()
        module.on("AT+QIOTOTARD=0,8", "\r\n+QIOTOTARD: 0,8\r\n" + "ABCDEFGHIJKL" + "\r\n\r\nOK\r\n")
        const { s, sink } = collectSink()
        const e = (await fails(client.command("AT+QIOTOTARD=0,8", { sink }))) as AtMalformedError
        expect(e.detail).toBe("payload-trailer")
        expect(s.ended).toBe(false)
        expect(client.outOfSync).toBe(true)
    })

    it("fails on a length header above the payload limit without allocating it, then recovers", async () => {
        const { module, client } = setup({ maxPayload: 1024 })
        module.on("AT+QIOTOTARD=0,1024", "\r\n+QIOTOTARD: 0,1000000\r\n" + "junk\u0000junk" + "\r\n\r\nOK\r\n")
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        const e = (await fails(client.command("AT+QIOTOTARD=0,1024"))) as AtMalformedError
        expect(e.detail).toBe("payload-too-large")
        expect((await run(client.command("AT+CSQ"))).lines).toEqual(["+CSQ: 17,99"])
    })

    it("treats garbage inside a response as malformed and resynchronises", async () => {
        const { module, client } = setup()
        module.on("AT+CSQ", [{ data: Buffer.concat([Buffer.from("\r\n+CSQ: 1"), Buffer.from([0, 0xff, 0x80]), Buffer.from("7,99\r\n\r\nOK\r\n")]) }])
        const e = (await fails(client.command("AT+CSQ"))) as AtMalformedError
        expect(e.detail).toBe("garbage")
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        expect((await run(client.command("AT+CSQ"))).lines).toEqual(["+CSQ: 17,99"])
        expect(module.received.slice(-2)).toEqual(["AT", "AT+CSQ"])
    })
})

describe("AT client: the module or the link goes away", () => {
    it("fails a pending command with module-reboot on RDY, delivers RDY, and resyncs next time", async () => {
        const { module, client, urcs } = setup()
        module.on("AT+QIOTOTARD=0,1024", [{ data: "\r\n+QIOTOTARD: 0,1024\r\nabc" }, { after: 20, data: "\r\nRDY\r\n" }])
        module.on("AT+QIOTOTARD=0,100", [{ after: 20, data: "\r\nRDY\r\n" }])
        const e = await fails(client.command("AT+QIOTOTARD=0,100"))
        expect(e).toBeInstanceOf(AtLinkLostError)
        expect(e.reason).toBe("module-reboot")
        expect(urcs).toEqual(["RDY"])
        expect(client.outOfSync).toBe(true)
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        expect((await run(client.command("AT+CSQ"))).lines).toEqual(["+CSQ: 17,99"])
    })

    it("fails a pending command with link-lost when the transport drops, fails fast while down, recovers when up", async () => {
        const { module, client, mcu } = setup()
        module.on("AT+WAIT", null)
        module.on("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
        const p = client.command("AT+WAIT")
        setTimeout(() => mcu.setLink(false), 30)
        const e = await fails(p)
        expect([e.constructor.name, e.reason]).toEqual(["AtLinkLostError", "link-lost"])
        const e2 = await fails(client.command("AT+CSQ"))
        expect(e2.reason).toBe("link-lost")
        mcu.setLink(true)
        expect((await run(client.command("AT+CSQ"))).lines).toEqual(["+CSQ: 17,99"])
        expect(module.received.slice(-2)).toEqual(["AT", "AT+CSQ"])
    })
})
