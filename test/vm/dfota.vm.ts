// DFOTA in DeviceScript's own VM: location checks, +QIND: "FOTA" parsing, the code tables, the
// upgrade lock, and one whole HTTP upgrade over the in-memory pipe against a small scripted
// module (echo off, OK, the URC sequence with the guide's spaces, a dropped line, RDY, the new
// revision), so the driver's dialect (closures, awaits, errors) is proven where it will run.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { LocationError, parseLocation } from "../../src/dfota/location"
import { parseFotaUrc } from "../../src/dfota/urc"
import { ftpCode, httpCode, updateCode, updateErrorCodes } from "../../src/dfota/codes"
import { ModuleUpgrade } from "../../src/dfota/dfota"
import { UpgradeLock } from "../../src/lib/upgrade-lock"
import { AtClient } from "../../src/at/client"
import { createPipe } from "../../src/link/pipe"

function ruleOf(text: string): string {
    const r = parseLocation(text)
    if (r instanceof LocationError) return r.rule
    return "ok"
}

function repeat(c: string, n: number): string {
    let s = ""
    for (let i = 0; i < n; i++) s += c
    return s
}

describe("DFOTA locations in the VM", () => {
    const cases: string[][] = [
        ["HTTP://www.example.com:80/delta.bin", "ok"],
        ["FTP://test:test@demo.com:21/update/delta.bin", "ok"],
        ["UFS:delta.bin", "ok"],
        ["https://h.example/x", "ok"],
        ["HTTP://h/" + repeat("a", 246), "ok"],
        ["HTTP://h/" + repeat("a", 247), "url-too-long"],
        ["UFS:" + repeat("a", 128), "ok"],
        ["UFS:" + repeat("a", 129), "ufs-name-too-long"],
        ["FTP://" + repeat("u", 51) + ":p@h.com/x", "user-too-long"],
        ["FTP://u:" + repeat("p", 51) + "@h.com/x", "password-too-long"],
        ["FTP://u:p@" + repeat("h", 47) + ".com/x", "host-too-long"],
        ["FTP://u:p@h.com/" + repeat("a", 50), "path-too-long"],
        ["FTP://demo.com/x.bin", "credentials-missing"],
        ["HTTP://h:0/x", "port"],
        ["HTTP://h:65536/x", "port"],
        ["HTTP://h:65535/x", "ok"],
        ["HTTP://h/", "path-missing"],
        ["HTTP://a..b/x", "host-bad"],
        ["HTTP://h/a b", "bad-char"],
        ["TFTP://h/x", "scheme"],
        ["", "empty"],
    ]
    cases.forEach(c => {
        test(`${c[1]}: ${c[0].length > 40 ? c[0].slice(0, 40) + "..." : c[0]}`, () => {
            expect(ruleOf(c[0])).toBe(c[1])
        })
    })
    test("fields of an FTP location", () => {
        const r = parseLocation("ftp://me:pw@10.1.2.3:2121/fw/d.bin")
        expect(r instanceof LocationError).toBe(false)
        if (!(r instanceof LocationError)) {
            expect(r.scheme).toBe("ftp")
            expect(r.user).toBe("me")
            expect(r.password).toBe("pw")
            expect(r.host).toBe("10.1.2.3")
            expect(r.port).toBe(2121)
            expect(r.path).toBe("/fw/d.bin")
        }
    })
})

describe("DFOTA URCs and codes in the VM", () => {
    test("spaced and unspaced", () => {
        const a = parseFotaUrc('+QIND: "FOTA", "UPDATING", 2')
        expect(a.kind).toBe("updating")
        expect(a.percent).toBe(2)
        const b = parseFotaUrc('+QIND: "FOTA","HTTPEND",714')
        expect(b.kind).toBe("download-end")
        expect(b.protocol).toBe("http")
        expect(b.code).toBe(714)
        expect(parseFotaUrc('+QIND: "FOTA", "END", 0').code).toBe(0)
        expect(parseFotaUrc('+QIND: "FOTA","UPDATING",101').kind).toBe("malformed")
        expect(parseFotaUrc('+QIND: "FOTA","NEW"').kind).toBe("unknown")
        expect(parseFotaUrc('+QIND: "csq",18,99') === null).toBe(true)
    })
    test("tables", () => {
        expect(ftpCode(625).name).toBe("login-failed")
        expect(httpCode(714).name).toBe("dns-error")
        expect(httpCode(730).reason).toBe("invalid parameter")
        expect(updateCode(511).name).toBe("no-space")
        expect(updateCode(999).documented).toBe(false)
        expect(updateErrorCodes().length).toBe(23)
    })
    test("lock", () => {
        const l = new UpgradeLock()
        expect(l.tryAcquire("sota")).toBe(true)
        expect(l.tryAcquire("dfota")).toBe(false)
        expect(l.release("sota")).toBe(true)
        expect(l.holder() === null).toBe(true)
    })
})

describe("DFOTA driver in the VM", () => {
    test("HTTP upgrade against a scripted module: reboot, RDY, new revision, registered", async () => {
        const ends = createPipe()
        const mcu = ends[0]
        const modem = ends[1]
        let revision = "OLD01"
        let updating = false
        let rx = ""
        const sent: string[] = []
        const urcs = [
            '+QIND: "FOTA", "START"',
            '+QIND: "FOTA", "UPDATING", 50',
            '+QIND: "FOTA", "UPDATING", 100',
            '+QIND: "FOTA", "END", 0',
        ]
        const line = (t: string) => modem.send(Buffer.from("\r\n" + t + "\r\n"))
        const reply = (cmd: string) => {
            if (cmd === "ATI") line(`Quectel\r\nBG95\r\nRevision: ${revision}\r\n\r\nOK`)
            else if (cmd === "AT+QIOTSTATE?") line("+QIOTSTATE: 8\r\n\r\nOK")
            else if (cmd.indexOf("AT+QFOTADL=") === 0) {
                line("OK")
                setTimeout(() => line('+QIND: "FOTA","HTTPSTART"'), 50)
                setTimeout(() => line('+QIND: "FOTA","HTTPEND",0'), 100)
                setTimeout(() => {
                    updating = true
                    modem.setLink(false)
                }, 150)
                setTimeout(() => modem.setLink(true), 400)
                urcs.forEach((u, i) => {
                    setTimeout(() => line(u), 450 + 50 * i)
                })
                setTimeout(() => {
                    revision = "NEW02"
                    updating = false
                    line("RDY")
                }, 800)
            } else line("OK")
        }
        modem.listen({
            data: (chunk: Buffer) => {
                if (updating) return
                rx += chunk.toString("utf-8")
                let cr = rx.indexOf("\r")
                while (cr >= 0) {
                    const cmd = rx.slice(0, cr)
                    rx = rx.slice(cr + 1)
                    sent.push(cmd)
                    reply(cmd)
                    cr = rx.indexOf("\r")
                }
            },
            link: (up: boolean) => {},
        })
        const at = new AtClient(mcu)
        const up = new ModuleUpgrade(at, new UpgradeLock())
        const stages: string[] = []
        up.onProgress(p => {
            stages.push(`${p.stage}:${p.percent}`)
        })
        const t0 = ds.millis()
        const res = await up.run("HTTP://www.example.com:80/delta.bin", { bootTimeoutMs: 5000, returnTimeoutMs: 5000 })
        expect(res.ok).toBe(true)
        expect(res.revisionBefore).toBe("OLD01")
        expect(res.revisionAfter).toBe("NEW02")
        expect(res.registered).toBe(true)
        expect(res.percent).toBe(100)
        expect(sent.join("|")).toBe('ATI|AT+QCFG="fota/cid",1|AT+QFOTADL="HTTP://www.example.com:80/delta.bin"|AT|ATE0|ATI|AT+QIOTSTATE?')
        expect(stages.join(" ")).toBe(
            "checking:-1 configuring:-1 requesting:-1 waiting:-1 downloading:-1 rebooting:-1 updating:0 updating:50 updating:100 restarting:-1 reconnecting:-1 registering:-1 done:100"
        )
        expect(JSON.parse(JSON.stringify(res)).revisionAfter).toBe("NEW02")
        expect(ds.millis() - t0 < 5000).toBe(true)
    })

    test("a bad location sends nothing", async () => {
        const ends = createPipe()
        const at = new AtClient(ends[0])
        const res = await new ModuleUpgrade(at, new UpgradeLock()).run("FTP://demo.com/x.bin")
        expect(res.reason).toBe("bad-location")
        expect(res.rule).toBe("credentials-missing")
        expect(ends[0].bytesOut).toBe(0)
    })
})
