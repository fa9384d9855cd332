// The SOTA walk-through of Quectel's "SOTA Upgrade Example" (quecthing-at.md §11), byte for byte.
// The module echoes every command (echo is on after power-on); the document prints the echo
// of only some of them, so each exchange is checked in full, and the document's [RX] lines are
// checked to appear, in order, in what the MCU received.
import { createHash } from "node:crypto"
import { crc32 } from "node:zlib"
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { exchange, IMEI, lines, splitRead, tick, walkthroughWorld } from "./harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const DOC_RX = [
    "AT+QIOTREG=1",
    "OK",
    "+QIOTEVT: 2,10200",
    "+QIOTEVT: 3,10200",
    "OK",
    "OK",
    '+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954',
    "AT+QIOTUPDATE=1",
    "OK",
    /^\+QIOTEVT: 7,10701,"STM32",27954,"[0-9a-f]{32}",\d+,"[0-9a-f]{64}"$/,
    "+QIOTEVT: 7,10702",
    '+QIOTEVT: 7,10703,"STM32",27954,0,27954',
    "AT+QIOTUPDATE=3",
    "OK",
    "+QIOTEVT: 7,10704",
    "OK",
    '+QIND: "FOTA","END",0',
    "+QIOTEVT: 7,10705",
]

describe("SOTA walk-through (27 954-byte package)", () => {
    test("every exchange, exact on the wire", async () => {
        const w = walkthroughWorld()
        const t = w.term
        const seen: string[] = []
        const ex = async (cmd: string) => {
            const r = await exchange(t, cmd)
            seen.push(...lines(r))
            return r
        }

        expect(await ex("AT+QIOTREG=1")).toBe(
            "AT+QIOTREG=1\r\r\nOK\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n",
        )
        expect(await ex('AT+QIOTMCUVER="STM32","1_0_0"')).toBe('AT+QIOTMCUVER="STM32","1_0_0"\r\r\nOK\r\n')
        expect(await ex("AT+QIOTOTAREQ=1")).toBe(
            'AT+QIOTOTAREQ=1\r\r\nOK\r\n\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954\r\n',
        )

        const pkg = w.pkg.data
        const md5 = createHash("md5").update(pkg).digest("hex")
        const sha = createHash("sha256").update(pkg).digest("hex")
        const crc = crc32(pkg) >>> 0
        expect(await ex("AT+QIOTUPDATE=1")).toBe(
            "AT+QIOTUPDATE=1\r\r\nOK\r\n" +
                `\r\n+QIOTEVT: 7,10701,"STM32",27954,"${md5}",${crc},"${sha}"\r\n` +
                "\r\n+QIOTEVT: 7,10702\r\n" +
                '\r\n+QIOTEVT: 7,10703,"STM32",27954,0,27954\r\n',
        )

        // 27 blocks of 1024, then 306 bytes from 27648
        const got = Buffer.alloc(27954)
        let off = 0
        let reads = 0
        while (off < 27954) {
            const cmd = `AT+QIOTOTARD=${off},1024`
            t.take()
            await t.send(cmd)
            await tick(10)
            const raw = t.take()
            const r = splitRead(raw, cmd + "\r")
            expect(r.start).toBe(off)
            expect(r.length).toBe(off < 27648 ? 1024 : 306)
            expect(r.data.length).toBe(r.length)
            expect(r.tail).toBe("\r\n\r\nOK\r\n")
            r.data.copy(got, off)
            off += r.length
            reads++
        }
        expect(reads).toBe(28)
        expect(got.equals(pkg)).toBe(true)

        expect(await ex("AT+QIOTUPDATE=3")).toBe("AT+QIOTUPDATE=3\r\r\nOK\r\n\r\n+QIOTEVT: 7,10704\r\n")
        expect(await ex('AT+QIOTMCUVER="STM32","2_0_0"')).toBe(
            'AT+QIOTMCUVER="STM32","2_0_0"\r\r\nOK\r\n\r\n+QIND: "FOTA","END",0\r\n\r\n+QIOTEVT: 7,10705\r\n',
        )

        // the document's [RX] lines, in order, within what the MCU saw
        let i = 0
        for (const l of seen) {
            const want = DOC_RX[i]
            if (want === undefined) break
            if (typeof want === "string" ? l === want : want.test(l)) i++
        }
        expect(i).toBe(DOC_RX.length)

        // the platform's log: the five steps of the upgrade
        const steps = w.dc.logFor(IMEI).map(e => e.step + (e.progress !== undefined ? ` ${e.progress}` : ""))
        expect(steps).toEqual(["notified", "download-start", "downloading 100", "downloaded", "updating", "updated"])
        expect(w.dc.deviceState(1, IMEI).status).toBe("succeeded")
    })

    test("the document's last read, AT+QIOTOTARD=27649,1024, returns 305 bytes (its off-by-one)", async () => {
        const w = walkthroughWorld()
        const t = w.term
        await exchange(t, "AT+QIOTREG=1")
        await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"')
        await exchange(t, "AT+QIOTOTAREQ=1")
        await exchange(t, "AT+QIOTUPDATE=1")
        t.take()
        await t.send("AT+QIOTOTARD=27649,1024")
        await tick(10)
        const r = splitRead(t.take(), "AT+QIOTOTARD=27649,1024\r")
        expect(r.start).toBe(27649)
        expect(r.length).toBe(305)
        expect(r.data.equals(w.pkg.data.subarray(27649))).toBe(true)
        expect(r.tail).toBe("\r\n\r\nOK\r\n")
    })

    test("with AT+QIOTOTAREQ=0 the 10701 event has no SHA-256", async () => {
        const w = walkthroughWorld()
        const t = w.term
        await exchange(t, "AT+QIOTREG=1")
        await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"')
        await exchange(t, "AT+QIOTOTAREQ=0")
        const r = lines(await exchange(t, "AT+QIOTUPDATE=1"))
        const md5 = createHash("md5").update(w.pkg.data).digest("hex")
        expect(r[2]).toBe(`+QIOTEVT: 7,10701,"STM32",27954,"${md5}",${crc32(w.pkg.data) >>> 0}`)
    })
})
