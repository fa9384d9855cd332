import { describe, expect, it } from "vitest"
import { feedSplit, md8, receiverWith } from "./recorder"
import { rng } from "../helpers/rng"
import { quectelLineTable } from "../../src/at/line-table"
import { lineFields, lineInt } from "../../src/at/fields"
import { ST_HEADER_CR } from "../../src/at/receiver"

const TRAP = Buffer.from("\r\nOK\r\n")

/** Payload bytes that a line parser would trip over: CR, LF, NUL, an embedded "\r\nOK\r\n", "+QIOTEVT". */
function trapPayload(n: number, seed: number) {
    const r = rng(seed)
    const b = r.bytes(n)
    TRAP.copy(b, Math.min(5, n - TRAP.length))
    if (n > 40) Buffer.from("\r\n+QIOTEVT: 7,10706\r\n").copy(b, 20)
    b[0] = 0
    b[n - 1] = 13
    return b
}

const p1 = trapPayload(96, 1)
const p2 = trapPayload(35, 2)
const down = trapPayload(48, 3)

/** The reference SOTA walk-through (quecthing-at.md §11), echo on, shortened payloads. */
const walkthrough = Buffer.concat([
    Buffer.from("AT+QIOTREG=1\r\r\nOK\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n"),
    Buffer.from('AT+QIOTMCUVER="STM32","1_0_0"\r\r\nOK\r\n'),
    Buffer.from("AT+QIOTOTAREQ=1\r\r\nOK\r\n"),
    Buffer.from('\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,131\r\n'),
    Buffer.from("AT+QIOTUPDATE=1\r\r\nOK\r\n"),
    Buffer.from('\r\n+QIOTEVT: 7,10701,"STM32",131,"95cbdeb4faeda4322ad9b65eb731ed2b",4022793929\r\n'),
    Buffer.from("\r\n+QIOTEVT: 7,10702\r\n"),
    Buffer.from('\r\n+QIOTEVT: 7,10703,"STM32",131,0,131\r\n'),
    Buffer.from("AT+QIOTOTARD=0,96\r\r\n+QIOTOTARD: 0,96\r\n"),
    p1,
    Buffer.from("\r\n\r\nOK\r\n"),
    // a URC arrives right after the payload, before OK
    Buffer.from("AT+QIOTOTARD=96,96\r\r\n+QIOTOTARD: 96,35\r\n"),
    p2,
    Buffer.from('\r\n+QIOTEVT: 5,10200,48\r\n'),
    down,
    Buffer.from("\r\n\r\nOK\r\n"),
    Buffer.from("AT+QIOTUPDATE=3\r\r\nOK\r\n\r\n+QIOTEVT: 7,10704\r\n"),
    Buffer.from('AT+QIOTMCUVER="STM32","2_0_0"\r\r\nOK\r\n\r\n+QIND: "FOTA","END",0\r\n\r\n+QIOTEVT: 7,10705\r\n'),
    Buffer.from('+QIND: "FOTA", "UPDATING", 2\r\n+CME ERROR: 10\r\n+CMS ERROR: 304\r\nERROR\r\nRDY\r\n'),
])

const expected = [
    "echo AT+QIOTREG=1",
    "final ok -1",
    "urc +QIOTEVT: 2,10200",
    "urc +QIOTEVT: 3,10200",
    'echo AT+QIOTMCUVER="STM32","1_0_0"',
    "final ok -1",
    "echo AT+QIOTOTAREQ=1",
    "final ok -1",
    'urc +QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,131',
    "echo AT+QIOTUPDATE=1",
    "final ok -1",
    'urc +QIOTEVT: 7,10701,"STM32",131,"95cbdeb4faeda4322ad9b65eb731ed2b",4022793929',
    "urc +QIOTEVT: 7,10702",
    'urc +QIOTEVT: 7,10703,"STM32",131,0,131',
    "echo AT+QIOTOTARD=0,96",
    "payload 96",
    `end true 96 ${md8(p1)}`,
    "final ok -1",
    "echo AT+QIOTOTARD=96,96",
    "payload 35",
    `end true 35 ${md8(p2)}`,
    "urc +QIOTEVT: 5,10200,48",
    "payload 48 urc",
    `end true 48 ${md8(down)}`,
    "final ok -1",
    "echo AT+QIOTUPDATE=3",
    "final ok -1",
    "urc +QIOTEVT: 7,10704",
    'echo AT+QIOTMCUVER="STM32","2_0_0"',
    "final ok -1",
    'urc +QIND: "FOTA","END",0',
    "urc +QIOTEVT: 7,10705",
    'urc +QIND: "FOTA", "UPDATING", 2',
    "final cme 10",
    "final cms 304",
    "final error -1",
    "urc RDY",
]

describe("AT receiver: the reference walk-through", () => {
    it("parses the whole stream fed at once", () => {
        const { rec, rx } = receiverWith()
        rx.feed(walkthrough)
        expect(rec.events).toEqual(expected)
        expect(rec.payloads[0].equals(p1)).toBe(true)
        expect(rec.payloads[1].equals(p2)).toBe(true)
        expect(rec.payloads[2].equals(down)).toBe(true)
    })

    it(`gives the same events at every split point (${walkthrough.length + 1} splits)`, () => {
        for (let i = 0; i <= walkthrough.length; i++) {
            const { rec, rx } = receiverWith()
            feedSplit(rx, walkthrough, [i])
            expect(rec.events, `split at ${i}`).toEqual(expected)
        }
    })

    it("gives the same events at every pair of split points around the payloads", () => {
        const start = walkthrough.indexOf(Buffer.from("+QIOTOTARD: 0,96"))
        const stop = start + 200
        for (let i = start; i < stop; i++)
            for (let j = i; j < stop; j += 3) {
                const { rec, rx } = receiverWith()
                feedSplit(rx, walkthrough, [i, j])
                expect(rec.events, `splits ${i},${j}`).toEqual(expected)
            }
    })

    it("gives the same events for byte-by-byte and 1000 seeded random chunkings", () => {
        const { rec, rx } = receiverWith()
        for (let i = 0; i < walkthrough.length; i++) rx.feed(walkthrough, i, i + 1)
        expect(rec.events).toEqual(expected)
        for (let seed = 1; seed <= 1000; seed++) {
            const r = rng(seed)
            const cuts: number[] = []
            for (let off = r.int(1, 64); off < walkthrough.length; off += r.int(1, 64)) cuts.push(off)
            const { rec, rx } = receiverWith()
            feedSplit(rx, walkthrough, cuts)
            expect(rec.events, `seed ${seed}`).toEqual(expected)
        }
    })
})

describe("AT receiver: framing rules", () => {
    it("takes a header ending in a bare LF, and a CR-only header whose data starts with a non-LF byte", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTOTARD: 0,3\nA\rB\r\n"))
        rx.feed(Buffer.from("+QIOTOTARD: 3,2\rXY\r\nOK\r\n"))
        expect(rec.events).toEqual(["payload 3", `end true 3 ${md8(Buffer.from("A\rB"))}`, "payload 2", `end true 2 ${md8(Buffer.from("XY"))}`, "final ok -1"])
    })

    it("handles a zero-length read (end of package)", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTOTARD: 27954,0\r\n\r\nOK\r\n"))
        expect(rec.events).toEqual(["payload 0", `end true 0 ${md8(Buffer.alloc(0))}`, "final ok -1"])
    })

    it("treats the =? answer with a range as an ordinary line, not a header", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTOTARD: 0,(1-1024)\r\nOK\r\n"))
        expect(rec.events).toEqual(["line +QIOTOTARD: 0,(1-1024)", "final ok -1"])
    })

    it("keeps buffered-mode +QIOTEVT: 5,10200 (no length) a plain URC", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTEVT: 5,10200\r\n+QIOTEVT: 5,10210,4\r\nabcd\r\n"))
        expect(rec.events).toEqual(["urc +QIOTEVT: 5,10200", "urc +QIOTEVT: 5,10210,4", "payload 4 urc", `end true 4 ${md8(Buffer.from("abcd"))}`])
    })

    it("recognises a payload URC header written with spaces after the commas", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTEVT: 5, 10200, 4\r\nab\r\n\r\n+QIOTEVT: 7, 10702\r\n"))
        expect(rec.events).toEqual(["urc +QIOTEVT: 5, 10200, 4", "payload 4 urc", `end true 4 ${md8(Buffer.from("ab\r\n"))}`, "urc +QIOTEVT: 7, 10702"])
    })

    it("accepts more URCs and payload headers registered by the product", () => {
        const table = quectelLineTable()
        table.urcs.push("+MYURC")
        table.payloads.push({ prefix: "+MYDATA", lengthField: 0, applies: f => f.values.length === 1, urc: false })
        const { rec, rx } = receiverWith({}, table)
        rx.feed(Buffer.from("+MYURC: 1\r\n+MYDATA: 2\r\n\r\n\r\n+OTHER: 1\r\n"))
        expect(rec.events).toEqual(["urc +MYURC: 1", "payload 2", `end true 2 ${md8(Buffer.from("\r\n"))}`, "line +OTHER: 1"])
    })

    it("treats a URC prefix as the response when the pending command answers with it", () => {
        const { rec, rx } = receiverWith()
        rx.solicited = "+CPIN"
        rx.feed(Buffer.from("+CPIN: READY\r\n+QIND: x\r\n"))
        rx.solicited = ""
        rx.feed(Buffer.from("+CPIN: READY\r\n"))
        expect(rec.events).toEqual(["line +CPIN: READY", "urc +QIND: x", "urc +CPIN: READY"])
    })

    it("tolerates stray blank lines, lone CRs and LFs, echo in any case, and spaces", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("\r\n\r\n\n\r  \r\nat+csq\r\r\n+CSQ: 17,99\r\n\r\n   OK  \r\n"))
        expect(rec.events).toEqual(["echo at+csq", "line +CSQ: 17,99", "final ok -1"])
    })

    it("reports text CME errors with code -1", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+CME ERROR: SIM not inserted\r\n+CME ERROR:-5\r\n"))
        expect(rec.events).toEqual(["final cme -1", "final cme -1"])
    })
})

describe("AT receiver: bad input is a typed fault, never an allocation", () => {
    it("drops an over-long line up to its end and recovers on the next line", () => {
        const { rec, rx } = receiverWith({ maxLine: 64 })
        rx.feed(Buffer.from("+QIOTEVT: " + "9".repeat(5000) + "\r\n+QIOTEVT: 7,10702\r\nOK\r\n"))
        expect(rec.events).toEqual(["fault line-overflow", "urc +QIOTEVT: 7,10702", "final ok -1"])
        expect(rx.lineLen).toBe(0)
    })

    it("accepts a line of exactly maxLine bytes", () => {
        const { rec, rx } = receiverWith({ maxLine: 16 })
        rx.feed(Buffer.from("+QIND: 12345678\r\n")) // 16 bytes
        expect(rec.events).toEqual(["urc +QIND: 12345678"])
    })

    it("rejects a length header that claims more than maxPayload, is negative or is not a number", () => {
        for (const [header, fault] of [
            ["+QIOTOTARD: 0,5000", "payload-too-large"],
            ["+QIOTOTARD: 0,99999999999999999999", "bad-length"],
            ["+QIOTOTARD: 0,-5", "bad-length"],
            ["+QIOTOTARD: 0,abc", "bad-length"],
            ["+QIOTOTARD: 0,", "bad-length"],
            ["+QIOTOTARD: 0, 1e3", "bad-length"],
            ["+QIOTEVT: 5,10200,0x10", "bad-length"],
        ]) {
            const { rec, rx } = receiverWith({ maxPayload: 4096 })
            rx.feed(Buffer.from(header + "\r\nOK\r\n"))
            expect(rec.events, header).toEqual([`fault ${fault}`, "final ok -1"])
            expect(rx.state >= ST_HEADER_CR).toBe(false)
        }
    })

    it("flags a header that claims fewer bytes than follow (trailer check)", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTOTARD: 0,4\r\nABCDEFGH\r\nOK\r\n"))
        expect(rec.events).toEqual(["payload 4", "fault payload-trailer", `end false 4 ${md8(Buffer.from("ABCD"))}`, "line EFGH", "final ok -1"])
    })

    it("a header that claims more bytes than follow swallows what comes next: the client's payload timeout ends it", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTOTARD: 0,20\r\nABCD\r\n\r\nOK\r\n"))
        expect(rx.state >= ST_HEADER_CR).toBe(true)
        rx.abortPayload()
        rx.feed(Buffer.from("\r\n+QIOTEVT: 7,10702\r\n"))
        expect(rec.events).toEqual(["payload 20", "fault payload-aborted", `end false 12 ${md8(Buffer.from("ABCD\r\n\r\nOK\r\n"))}`, "urc +QIOTEVT: 7,10702"])
    })

    it("drops lines holding control or non-ASCII bytes as garbage", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from([0x4f, 0x00, 0x4b, 0x0d, 0x0a, 0xff, 0xfe, 0x41, 0x0d, 0x0a]))
        rx.feed(Buffer.from("OK\r\n"))
        expect(rec.events).toEqual(["fault garbage", "fault garbage", "final ok -1"])
    })

    it("reset() forgets a partial line", () => {
        const { rec, rx } = receiverWith()
        rx.feed(Buffer.from("+QIOTEVT: 7,107"))
        expect(rx.lineLen).toBe(15)
        rx.abortPayload(true)
        rx.feed(Buffer.from("OK\r\n"))
        expect(rec.events).toEqual(["final ok -1"])
    })
})

describe("AT fields", () => {
    it("splits quoted, unquoted, empty and spaced fields", () => {
        const f = lineFields('+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954')
        expect(f.values).toEqual(["7", "10700", "STM32", "", "2_0_0", "30", "-113", "27954"])
        expect(f.quoted).toEqual([false, false, true, true, true, false, false, false])
        expect(f.int(6)).toBe(-113)
        expect(f.int(2)).toBeNaN()
        expect(f.int(99)).toBeNaN()
        const g = lineFields('+QIND: "FOTA", "UPDATING", 2')
        expect(g.values).toEqual(["FOTA", "UPDATING", "2"])
        expect(g.int(2)).toBe(2)
        expect(lineFields('+X: "a,b",,c,').values).toEqual(["a,b", "", "c", ""])
        expect(lineFields("+X:").values.length).toBe(0)
        expect(lineFields('+X: "unterminated, still').values).toEqual(["unterminated, still"])
    })

    it("lineInt reads one field as lineFields(line).int does, without splitting", () => {
        const lines = [
            '+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954',
            "+QIOTEVT:7,10702",
            "+QIOTEVT:   7 ,  10705  ",
            '+QIOTEVT: "7",10700',
            "+QIOTEVT: 7,,10703,",
            '+X: "a,b",12,"c',
            "+X:",
            "+X:   ",
            "no colon 5,6",
            "+QIOTOTARD: 1024,1024",
            "+X: 1234567890123456,+5,-0,1a",
        ]
        for (const line of lines) {
            const f = lineFields(line)
            for (let i = 0; i < 10; i++) {
                const want = f.int(i)
                const got = lineInt(line, i)
                if (Number.isNaN(want)) expect(got, `${line} [${i}]`).toBeNaN()
                else expect(got, `${line} [${i}]`).toBe(want)
            }
        }
        expect(lineInt("+QIOTEVT:   7 ,  10705  ", 1)).toBe(10705)
        expect(lineInt('+X: "a,b",12,"c', 1)).toBe(12)
    })
})

describe("AT receiver: fuzz", () => {
    it("10 000 seeded random streams: no exception escapes, memory stays bounded", () => {
        const tokens = [
            "OK\r\n",
            "ERROR\r\n",
            "+CME ERROR: 3\r\n",
            "\r\n",
            "\r",
            "\n",
            "AT+QIOTOTARD=0,1024\r",
            "+QIOTEVT: 7,10702\r\n",
            "RDY\r\n",
            '+QIND: "FOTA","UPDATING",5\r\n',
            "+QIOTOTARD: 0,",
            "+QIOTEVT: 5,10200,",
            "+QIOTRD: ",
        ]
        const maxLine = 128
        const maxPayload = 512
        let events = 0
        let payloadBytes = 0
        const heap0 = process.memoryUsage().heapUsed
        for (let seed = 1; seed <= 10_000; seed++) {
            const r = rng(seed)
            const parts: Buffer[] = []
            const n = r.int(1, 30)
            for (let i = 0; i < n; i++) {
                const k = r.int(0, 9)
                if (k < 5) parts.push(Buffer.from(r.pick(tokens)))
                else if (k < 7) parts.push(Buffer.from(r.pick(["12", "-3", "999999", "x", "600", "0", "40"]) + r.pick(["\r\n", "\r", "\n", ""])))
                else if (k < 9) parts.push(r.bytes(r.int(0, 300)))
                else parts.push(Buffer.from("Z".repeat(r.int(100, 400))))
            }
            const stream = Buffer.concat(parts)
            const { rec, rx } = receiverWith({ maxLine, maxPayload })
            let off = 0
            while (off < stream.length) {
                const end = Math.min(stream.length, off + r.int(1, 97))
                rx.feed(stream, off, end)
                expect(rx.lineLen).toBeLessThanOrEqual(maxLine)
                off = end
                if (r.next() < 0.05) rx.abortPayload(true)
                else if (r.next() < 0.05) rx.abortPayload()
            }
            for (const e of rec.events) expect(e.length).toBeLessThan(maxLine + 32)
            for (const p of rec.payloads) expect(p.length).toBeLessThanOrEqual(maxPayload)
            expect(rx.payloadBytes).toBeLessThanOrEqual(stream.length)
            events += rec.events.length
            payloadBytes += rx.payloadBytes
        }
        const grown = process.memoryUsage().heapUsed - heap0
        expect(events).toBeGreaterThan(50_000) // the streams really exercised the parser
        expect(payloadBytes).toBeGreaterThan(10_000)
        expect(grown).toBeLessThan(200 * 1024 * 1024)
    }, 60_000) // a fuzz run, not a timing: a loaded 2-core machine needs more than the default 5 s
})
