// Multi-piece delivery: a package bigger than the module's buffer arrives piece by piece,
// each announced by its own 10703; AT+QIOTUPDATE=2 fetches the next; reads are confined to
// the piece in RAM. Also the end of a plan: 10704, 10705, 10706, refusal and abort.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { AtClient } from "../../src/at/client"
import { PayloadSink } from "../../src/at/client-types"
import { AtCommandError } from "../../src/at/errors"
import { exchange, IMEI, lines, readRange, tick, toOffer, walkthroughWorld } from "./harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const E10703 = (start: number, len: number) => `\r\n+QIOTEVT: 7,10703,"STM32",27954,${start},${len}\r\n`

describe("multi-piece delivery (buffer 10 000 bytes, package 27 954)", () => {
    test("three pieces, each with its own 10703, short reads at piece and package ends", async () => {
        const w = walkthroughWorld({ pieceSize: 10000 })
        const t = w.term
        await toOffer(w)
        const r = await exchange(t, "AT+QIOTUPDATE=1")
        expect(lines(r).slice(-2)).toEqual(["+QIOTEVT: 7,10702", '+QIOTEVT: 7,10703,"STM32",27954,0,10000'])
        expect(await exchange(t, "AT+QIOTOTARD=?")).toBe("\r\n+QIOTOTARD: 0,(1-1024)\r\n\r\nOK\r\n")

        const p0 = await readRange(t, 0, 10000)
        expect(p0.length).toBe(10000) // 9 x 1024 + a short read of 784
        expect(await exchange(t, "AT+QIOTOTARD=9216,1024")).toMatch(/^\r\n\+QIOTOTARD: 9216,784\r\n/)
        // the next piece is not there yet
        expect(await exchange(t, "AT+QIOTOTARD=10000,1024")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTUPDATE=3")).toBe("\r\nERROR\r\n") // not the last piece

        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe("\r\nOK\r\n" + E10703(10000, 10000))
        expect(await exchange(t, "AT+QIOTOTARD=?")).toBe("\r\n+QIOTOTARD: 10000,(1-1024)\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=0,1024")).toBe("\r\nERROR\r\n") // the old piece is gone
        expect(await exchange(t, "AT+QIOTOTARD=9999,1")).toBe("\r\nERROR\r\n")
        const p1 = await readRange(t, 10000, 20000)

        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe("\r\nOK\r\n" + E10703(20000, 7954))
        const p2 = await readRange(t, 20000, 27954)
        expect(await exchange(t, "AT+QIOTOTARD=27648,1024")).toMatch(/^\r\n\+QIOTOTARD: 27648,306\r\n/)
        expect(await exchange(t, "AT+QIOTOTARD=27954,1024")).toBe("\r\nERROR\r\n") // past the end
        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe("\r\nERROR\r\n") // there is no next piece

        expect(Buffer.concat([p0, p1, p2]).equals(w.pkg.data)).toBe(true)
        expect(await exchange(t, "AT+QIOTUPDATE=3")).toBe("\r\nOK\r\n\r\n+QIOTEVT: 7,10704\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32","2_0_0"')).toBe(
            '\r\nOK\r\n\r\n+QIND: "FOTA","END",0\r\n\r\n+QIOTEVT: 7,10705\r\n',
        )
        const progress = w.dc.logFor(IMEI).filter(e => e.step === "downloading").map(e => e.progress)
        expect(progress).toEqual([35, 71, 100])
    })

    test("AT+QIOTOTARD=? names the piece in RAM: after a reboot lost it, none (0) until it is fetched again", async () => {
        const w = walkthroughWorld({ pieceSize: 10000, bootMs: 10 })
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        await exchange(t, "AT+QIOTUPDATE=2")
        expect(await exchange(t, "AT+QIOTOTARD=?")).toBe("\r\n+QIOTOTARD: 10000,(1-1024)\r\n\r\nOK\r\n")
        w.module.reboot()
        await tick(15)
        t.take()
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTOTARD=10000,1024")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=?")).toBe("\r\n+QIOTOTARD: 0,(1-1024)\r\n\r\nOK\r\n")
    })

    test("read limits: length 0, above the maximum, negative start, malformed", async () => {
        const w = walkthroughWorld({ pieceSize: 10000, maxRead: 512 })
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        expect(await exchange(t, "AT+QIOTOTARD=?")).toBe("\r\n+QIOTOTARD: 0,(1-512)\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=0,513")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=0,0")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=-1,10")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTOTARD="0",10')).toBe("\r\nERROR\r\n")
        const r = await exchange(t, "AT+QIOTOTARD=5,3")
        expect(r).toBe("\r\n+QIOTOTARD: 5,3\r\n" + w.pkg.data.subarray(5, 8).toString("latin1") + "\r\n\r\nOK\r\n")
    })

    test("option repeat10702: a 10702 before each later piece", async () => {
        const w = walkthroughWorld({ pieceSize: 10000, repeat10702: true })
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe(
            "\r\nOK\r\n\r\n+QIOTEVT: 7,10702\r\n" + E10703(10000, 10000),
        )
    })

    test("option requireFullRead: AT+QIOTUPDATE=2 before the piece was read is an ERROR", async () => {
        const w = walkthroughWorld({ pieceSize: 10000, requireFullRead: true })
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        await readRange(t, 0, 9000)
        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe("\r\nERROR\r\n")
        await readRange(t, 9000, 10000)
        expect(await exchange(t, "AT+QIOTUPDATE=2")).toBe("\r\nOK\r\n" + E10703(10000, 10000))
    })

    test("pieces take time to download: cloudMs plus size at downloadBytesPerSec", async () => {
        const w = walkthroughWorld({ pieceSize: 10000, cloudMs: 100, downloadBytesPerSec: 10000 })
        const t = w.term
        await toOffer(w)
        await tick(200)
        t.take()
        await t.send("AT+QIOTUPDATE=1")
        await tick(50)
        expect(lines(t.takeText())).toEqual(["OK", expect.stringMatching(/^\+QIOTEVT: 7,10701,/), "+QIOTEVT: 7,10702"])
        expect(await exchange(t, "AT+QIOTOTARD=0,10")).toBe("\r\nERROR\r\n") // still downloading
        await tick(1100)
        expect(t.takeText()).toBe(E10703(0, 10000))
    })

    test("an AtClient (the MCU's own AT layer) downloads all pieces and the bytes match", async () => {
        const w = walkthroughWorld({ pieceSize: 10000 })
        const client = new AtClient(w.mcuEnd, { timeoutMs: 500 })
        const events: string[] = []
        client.onUrc(l => events.push(l))
        const run = async () => {
            await client.command("ATE0")
            await client.command("AT+QIOTREG=1")
            await client.command('AT+QIOTMCUVER="STM32","1_0_0"')
            await client.command("AT+QIOTOTAREQ=1")
            while (!events.some(e => e.startsWith("+QIOTEVT: 7,10700"))) await new Promise(r => setTimeout(r, 5))
            await client.command("AT+QIOTUPDATE=1")
            const image = Buffer.alloc(27954)
            let off = 0
            let pieceEnd = 0
            while (off < 27954) {
                if (off >= pieceEnd) {
                    if (off > 0) await client.command("AT+QIOTUPDATE=2")
                    while (!events.some(e => e.startsWith(`+QIOTEVT: 7,10703,"STM32",27954,${off},`)))
                        await new Promise(r => setTimeout(r, 5))
                    const ev = events.find(e => e.startsWith(`+QIOTEVT: 7,10703,"STM32",27954,${off},`))
                    pieceEnd = off + +ev.split(",").pop()
                }
                let got = 0
                const sink: PayloadSink = {
                    begin: () => {},
                    data: (c, s, e) => {
                        c.copy(image, off + got, s, e)
                        got += e - s
                    },
                    end: () => {},
                }
                const r = await client.command(`AT+QIOTOTARD=${off},1024`, { sink })
                expect(r.payloadLength).toBe(got)
                off += got
            }
            await client.command("AT+QIOTUPDATE=3")
            return image
        }
        const p = run()
        await vi.advanceTimersByTimeAsync(5000)
        const image = await p
        expect(image.equals(w.pkg.data)).toBe(true)
        expect(events.filter(e => e.startsWith("+QIOTEVT: 7,10703"))).toEqual([
            '+QIOTEVT: 7,10703,"STM32",27954,0,10000',
            '+QIOTEVT: 7,10703,"STM32",27954,10000,10000',
            '+QIOTEVT: 7,10703,"STM32",27954,20000,7954',
        ])
        expect(client.stats.faults).toBe(0)
        // past the last piece there is no next one
        const late = client.command("AT+QIOTUPDATE=2").catch(e => e)
        await vi.advanceTimersByTimeAsync(20)
        expect(await late).toBeInstanceOf(AtCommandError)
    })
})

describe("the end of a plan", () => {
    test("the MCU reports a version other than the target: 10706, counted as a failure", async () => {
        const w = walkthroughWorld()
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        await readRange(t, 0, 27954)
        await exchange(t, "AT+QIOTUPDATE=3")
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"')).toBe("\r\nOK\r\n\r\n+QIOTEVT: 7,10706\r\n")
        expect(w.dc.deviceState(1, IMEI)).toEqual({ status: "pending", consecutiveFailures: 1, attempts: 1 })
        expect(w.dc.logFor(IMEI).pop()).toMatchObject({ step: "failed", detail: "reported 1_0_0, expected 2_0_0" })
    })

    test("a version report before AT+QIOTUPDATE=3 raises no OTA event", async () => {
        const w = walkthroughWorld()
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32","2_0_0"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="OTHER","9"')).toBe("\r\nOK\r\n")
    })

    test("refusal (AT+QIOTUPDATE=0 on the offer): no event; the plan is offered again on request", async () => {
        const w = walkthroughWorld()
        const t = w.term
        const offer = await toOffer(w)
        expect(await exchange(t, "AT+QIOTUPDATE=0")).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTUPDATE=1")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTAREQ=1")).toBe(offer)
        expect(w.dc.logFor(IMEI).map(e => e.step)).toEqual(["notified", "refused", "notified"])
        expect(w.dc.deviceState(1, IMEI).consecutiveFailures).toBe(0)
    })

    test("AT+QIOTOTAREQ while the offer is unanswered sends the same 10700 again", async () => {
        const w = walkthroughWorld()
        const offer = await toOffer(w)
        expect(offer).toBe('\r\nOK\r\n\r\n+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,27954\r\n')
        expect(await exchange(w.term, "AT+QIOTOTAREQ=1")).toBe(offer)
    })

    test("abort during the download (AT+QIOTUPDATE=0): 10706", async () => {
        const w = walkthroughWorld({ pieceSize: 10000 })
        const t = w.term
        await toOffer(w)
        await exchange(t, "AT+QIOTUPDATE=1")
        await readRange(t, 0, 4096)
        expect(await exchange(t, "AT+QIOTUPDATE=0")).toBe("\r\nOK\r\n\r\n+QIOTEVT: 7,10706\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=4096,1024")).toBe("\r\nERROR\r\n")
        expect(w.dc.logFor(IMEI).pop()).toMatchObject({ step: "failed", detail: "aborted by the MCU" })
    })
})
