// Module firmware upgrade (DFOTA, AT+QFOTADL): the guide's walk-throughs, the URL limits,
// the documented error codes, the reboot, and ATI afterwards.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { createPipe } from "../../src/link/pipe"
import { DfotaOptions, parseFotaUrl } from "../../sim/module/dfota"
import { QuecModule, QuecModuleOptions } from "../../sim/module/module"
import { exchange, lines, Terminal, tick } from "./harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

const OLD = "UC20GAR01A07E1G"
const NEW = "UC20GAR01A08E1G"

const SERVERS: DfotaOptions["servers"] = {
    "www.example.com": { files: { "/delta.bin": { fromRevision: OLD, toRevision: NEW, size: 200000 } } },
    "demo.com": {
        user: "test",
        password: "test",
        files: { "/update/delta.bin": { fromRevision: OLD, toRevision: NEW } },
    },
    "other.com": { files: { "/wrong.bin": { fromRevision: "XYZ", toRevision: NEW } } },
    "broken.com": { files: { "/bad.bin": { fromRevision: OLD, toRevision: NEW, updateError: 522, failAtPercent: 40 } } },
    "busy.com": { downloadError: 703, files: {} },
}

async function fresh(dfota: DfotaOptions = {}, opts: QuecModuleOptions = {}) {
    const [mcu, modem] = createPipe()
    const module = new QuecModule(modem, {
        model: "UC20",
        revision: OLD,
        bootMs: 100,
        dfota: { servers: SERVERS, rebootMs: 2000, finalBootMs: 500, stepMs: 100, ...dfota },
        ...opts,
    })
    const t = new Terminal(mcu)
    await exchange(t, "ATE0")
    return { module, t }
}

/** Quectel's guide prints some URCs with a space after the commas; compare without them. */
const squeeze = (l: string) => l.replace(/, /g, ",")

describe("DFOTA walk-throughs", () => {
    test("over HTTP, as the UC20 guide prints it; the line drops for the reboot; ATI shows the new revision", async () => {
        const { t } = await fresh({ percents: [1, 2, 3, 100], downloadBytesPerSec: 100000 })
        const doc = [
            'AT+QICSGP=1,1,"UNINET","",1',
            "OK",
            'AT+QCFG="fota/cid",1',
            "OK",
            'AT+QFOTADL="HTTP://www.example.com:80/delta.bin"',
            "OK",
            '+QIND: "FOTA","HTTPSTART"',
            '+QIND: "FOTA","HTTPEND",0',
            '+QIND: "FOTA", "START"',
            '+QIND: "FOTA", "UPDATING",1',
            '+QIND: "FOTA", "UPDATING", 2',
            '+QIND: "FOTA", "UPDATING", 3',
            '+QIND: "FOTA", "UPDATING", 100',
            '+QIND: "FOTA", "END", 0',
            "RDY",
        ]
        const seen: string[] = []
        for (const cmd of ['AT+QICSGP=1,1,"UNINET","",1', 'AT+QCFG="fota/cid",1']) {
            seen.push(cmd)
            const r = await exchange(t, cmd)
            expect(r).toBe("\r\nOK\r\n")
            seen.push(...lines(r))
        }
        seen.push('AT+QFOTADL="HTTP://www.example.com:80/delta.bin"')
        expect(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com:80/delta.bin"', 5)).toBe(
            '\r\nOK\r\n\r\n+QIND: "FOTA","HTTPSTART"\r\n',
        )
        seen.push("OK", '+QIND: "FOTA","HTTPSTART"')
        await tick(1990) // 200 000 bytes at 100 000 B/s
        expect(t.peekText()).toBe("")
        await tick(20)
        const end = t.takeText()
        expect(end).toBe('\r\n+QIND: "FOTA","HTTPEND",0\r\n')
        seen.push(...lines(end))
        expect(t.linkEvents.map(e => e.up)).toEqual([false])
        expect(await exchange(t, "ATI", 1000)).toBe("") // rebooting: nobody listens
        await tick(1000 + 5)
        expect(t.linkEvents.map(e => e.up)).toEqual([false, true])
        await tick(5 * 100 + 500 + 20) // four steps and the end, then the final boot
        const rest = t.takeText()
        expect(rest).toBe(
            '\r\n+QIND: "FOTA","START"\r\n\r\n+QIND: "FOTA","UPDATING",1\r\n\r\n+QIND: "FOTA","UPDATING",2\r\n' +
                '\r\n+QIND: "FOTA","UPDATING",3\r\n\r\n+QIND: "FOTA","UPDATING",100\r\n\r\n+QIND: "FOTA","END",0\r\n\r\nRDY\r\n',
        )
        seen.push(...lines(rest))
        expect(seen.map(squeeze)).toEqual(doc.map(squeeze))
        expect(await exchange(t, "ATI")).toBe(`ATI\r\r\nQuectel\r\nUC20\r\nRevision: ${NEW}\r\n\r\nOK\r\n`)
    })

    test("over FTP with credentials", async () => {
        const { t } = await fresh({ percents: [100], rebootMs: 10, stepMs: 0, finalBootMs: 0 })
        const all = await exchange(t, 'AT+QFOTADL="FTP://test:test@demo.com:21/update/delta.bin"', 100)
        expect(lines(all)).toEqual([
            "OK",
            '+QIND: "FOTA","FTPSTART"',
            '+QIND: "FOTA","FTPEND",0',
            '+QIND: "FOTA","START"',
            '+QIND: "FOTA","UPDATING",100',
            '+QIND: "FOTA","END",0',
            "RDY",
        ])
        expect(lines(await exchange(t, "ATI"))[3]).toBe(`Revision: ${NEW}`)
    })

    test("from the module's file system (UFS:): no download URCs", async () => {
        const { module, t } = await fresh({ percents: [100], rebootMs: 10, stepMs: 0, finalBootMs: 0 })
        module.nvm.ufsFiles.set("delta.bin", { fromRevision: OLD, toRevision: NEW })
        expect(lines(await exchange(t, 'AT+QFOTADL="UFS:delta.bin"', 100))).toEqual([
            "OK",
            '+QIND: "FOTA","START"',
            '+QIND: "FOTA","UPDATING",100',
            '+QIND: "FOTA","END",0',
            "RDY",
        ])
        // the upgrade rebooted the module: echo is on again
        expect(lines(await exchange(t, 'AT+QFOTADL="UFS:missing.bin"'))).toEqual([
            'AT+QFOTADL="UFS:missing.bin"',
            "OK",
            '+QIND: "FOTA","END",504',
        ])
    })
})

describe("DFOTA: the spaced style", () => {
    test("URCs after the reboot carry a space after each comma", async () => {
        const { t } = await fresh({ percents: [50, 100], spaced: true, rebootMs: 10, stepMs: 0, finalBootMs: 0 })
        expect(lines(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com/delta.bin"', 100))).toEqual([
            "OK",
            '+QIND: "FOTA","HTTPSTART"',
            '+QIND: "FOTA","HTTPEND",0',
            '+QIND: "FOTA", "START"',
            '+QIND: "FOTA", "UPDATING", 50',
            '+QIND: "FOTA", "UPDATING", 100',
            '+QIND: "FOTA", "END", 0',
            "RDY",
        ])
    })
})

describe("DFOTA errors", () => {
    const quick = { percents: [100], rebootMs: 10, stepMs: 0, finalBootMs: 0 }
    test.each([
        ['"HTTP://nosuch.example:80/delta.bin"', "HTTP", 714],
        ['"FTP://test:test@nosuch.example/delta.bin"', "FTP", 604],
        ['"HTTP://www.example.com/missing.bin"', "HTTP", 723],
        ['"FTP://test:test@demo.com/update/missing.bin"', "FTP", 617],
        ['"FTP://test:wrong@demo.com/update/delta.bin"', "FTP", 625],
        ['"HTTP://busy.com/x.bin"', "HTTP", 703],
    ])("download of %s ends with %sEND,%i and no reboot", async (url, proto, code) => {
        const { module, t } = await fresh(quick)
        expect(lines(await exchange(t, `AT+QFOTADL=${url}`, 100))).toEqual([
            "OK",
            `+QIND: "FOTA","${proto}START"`,
            `+QIND: "FOTA","${proto}END",${code}`,
        ])
        expect(module.reboots).toBe(0)
        expect(t.linkEvents).toEqual([])
        expect(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com/delta.bin"')).toMatch(/^\r\nOK\r\n/) // may retry
    })

    test("no PDP context for the fota/cid: HTTPEND,708", async () => {
        const { t } = await fresh(quick)
        expect(await exchange(t, 'AT+QCFG="fota/cid",3')).toBe("\r\nOK\r\n")
        expect(lines(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com/delta.bin"', 100)).pop()).toBe(
            '+QIND: "FOTA","HTTPEND",708',
        )
        expect(await exchange(t, 'AT+QICSGP=3,1,"internet"')).toBe("\r\nOK\r\n")
        expect(lines(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com/delta.bin"', 100)).pop()).toBe("RDY")
    })

    test("a delta for another revision: START then END,510, and the old firmware boots", async () => {
        const { t } = await fresh(quick)
        expect(lines(await exchange(t, 'AT+QFOTADL="HTTP://other.com/wrong.bin"', 100))).toEqual([
            "OK",
            '+QIND: "FOTA","HTTPSTART"',
            '+QIND: "FOTA","HTTPEND",0',
            '+QIND: "FOTA","START"',
            '+QIND: "FOTA","END",510',
            "RDY",
        ])
        expect(lines(await exchange(t, "ATI"))[3]).toBe(`Revision: ${OLD}`)
    })

    test("the update fails at 40 %: END,522, old revision", async () => {
        const { t } = await fresh({ ...quick, percents: [20, 40, 60, 80, 100] })
        expect(lines(await exchange(t, 'AT+QFOTADL="HTTP://broken.com/bad.bin"', 100)).slice(3)).toEqual([
            '+QIND: "FOTA","START"',
            '+QIND: "FOTA","UPDATING",20',
            '+QIND: "FOTA","UPDATING",40',
            '+QIND: "FOTA","END",522',
            "RDY",
        ])
        expect(lines(await exchange(t, "ATI"))[3]).toBe(`Revision: ${OLD}`)
    })

    test("URL forms and documented length limits: ERROR", async () => {
        const { t } = await fresh(quick)
        const long = (n: number) => "a".repeat(n)
        for (const url of [
            `"FTP://${long(51)}:p@demo.com/x.bin"`,
            `"FTP://u:${long(51)}@demo.com/x.bin"`,
            `"FTP://u:p@${long(51)}/x.bin"`,
            `"FTP://u:p@demo.com/${long(50)}"`,
            `"HTTP://www.example.com/${long(240)}"`,
            `"UFS:${long(129)}"`,
            '"HTTP://www.example.com:70000/delta.bin"',
            '"TFTP://x/y"',
            '"HTTP://"',
            "HTTP://www.example.com/delta.bin",
        ]) {
            expect(await exchange(t, `AT+QFOTADL=${url}`)).toBe("\r\nERROR\r\n")
        }
        // at the limits: accepted
        expect(await exchange(t, `AT+QFOTADL="FTP://${long(50)}:${long(50)}@${long(46)}.com/${long(49)}"`, 50)).toMatch(
            /^\r\nOK\r\n\r\n\+QIND: "FOTA","FTPSTART"\r\n\r\n\+QIND: "FOTA","FTPEND",604\r\n$/,
        )
        expect(parseFotaUrl(`HTTP://h/${long(246)}`)).not.toBe(null) // 255 bytes
        expect(parseFotaUrl(`HTTP://h/${long(247)}`)).toBe(null)
        expect(parseFotaUrl(`UFS:${long(128)}`)).toMatchObject({ scheme: "UFS", path: long(128) })
    })

    test("a second AT+QFOTADL while one runs: ERROR; commands in the updater get no answer", async () => {
        const { t } = await fresh({ percents: [50, 100], rebootMs: 100, stepMs: 1000, finalBootMs: 0, startMs: 500 })
        expect(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com/delta.bin"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QFOTADL="HTTP://www.example.com/delta.bin"')).toBe("\r\nERROR\r\n")
        await tick(500 + 100 + 10) // download done, rebooted, in the updater
        expect(lines(t.takeText())).toEqual(['+QIND: "FOTA","HTTPSTART"', '+QIND: "FOTA","HTTPEND",0', '+QIND: "FOTA","START"'])
        expect(await exchange(t, "AT", 500)).toBe("")
        await tick(2500)
        expect(lines(t.takeText())).toEqual(['+QIND: "FOTA","UPDATING",50', '+QIND: "FOTA","UPDATING",100', '+QIND: "FOTA","END",0', "RDY"])
        expect(await exchange(t, "AT")).toBe("AT\r\r\nOK\r\n")
    })
})

describe("AT+QCFG and AT+QICSGP", () => {
    test("fota/cid: query, set, range; other items ERROR", async () => {
        const { t } = await fresh()
        expect(await exchange(t, 'AT+QCFG="fota/cid"')).toBe('\r\n+QCFG: "fota/cid",1\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QCFG="fota/cid",2')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QCFG="fota/cid"')).toBe('\r\n+QCFG: "fota/cid",2\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QCFG="fota/cid",17')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QCFG="band"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QCFG=?")).toBe('\r\n+QCFG: "fota/cid",(1-16)\r\n\r\nOK\r\n')
    })

    test("QICSGP: the guide's form, the full form, query", async () => {
        const { t } = await fresh()
        expect(await exchange(t, 'AT+QICSGP=1,1,"UNINET","",1')).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QICSGP=1")).toBe('\r\n+QICSGP: 1,"UNINET","","",1\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QICSGP=2,1,"apn","u","p",2')).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QICSGP=2")).toBe('\r\n+QICSGP: 1,"apn","u","p",2\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QICSGP=17,1,"apn"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QICSGP=1,4,"apn"')).toBe("\r\nERROR\r\n")
    })
})
