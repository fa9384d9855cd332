// Location checks (src/dfota/location.ts), the +QIND: "FOTA" parser (src/dfota/urc.ts) and the
// upgrade lock, as pure functions; plus a seeded comparison with the module emulator's own URL
// parser: whatever the MCU lets through, the module must accept.
import { describe, expect, test } from "vitest"
import { FotaLocation, LocationError, parseLocation, requireLocation } from "../../src/dfota/location"
import { parseFotaUrc } from "../../src/dfota/urc"
import { UpgradeLock } from "../../src/lib/upgrade-lock"
import { parseFotaUrl } from "../../sim/module/dfota"
import { Rng } from "../../sim/lib/rng"

const long = (n: number) => "a".repeat(n)

function ok(text: string): FotaLocation {
    const r = parseLocation(text)
    if (r instanceof LocationError) throw new Error(`${text}: ${r.message}`)
    return r
}

function rule(text: string): string {
    const r = parseLocation(text)
    return r instanceof LocationError ? r.rule : "ok"
}

describe("locations", () => {
    test("the guide's three forms", () => {
        expect(ok("HTTP://www.example.com:80/delta.bin")).toEqual({
            scheme: "http",
            url: "HTTP://www.example.com:80/delta.bin",
            host: "www.example.com",
            port: 80,
            path: "/delta.bin",
            user: "",
            password: "",
        })
        expect(ok("FTP://test:test@demo.com:21/update/delta.bin")).toEqual({
            scheme: "ftp",
            url: "FTP://test:test@demo.com:21/update/delta.bin",
            host: "demo.com",
            port: 21,
            path: "/update/delta.bin",
            user: "test",
            password: "test",
        })
        expect(ok("UFS:delta.bin")).toMatchObject({ scheme: "ufs", path: "delta.bin", port: 0, host: "" })
    })

    test("default ports, any case for the scheme, HTTPS, IPv4, empty FTP password", () => {
        expect(ok("http://h.example/x").port).toBe(80)
        expect(ok("https://h.example/x")).toMatchObject({ scheme: "https", port: 443 })
        expect(ok("ftp://u:p@h.example/x").port).toBe(21)
        expect(ok("Ftp://u:@10.0.0.1:2121/fw/x.bin")).toMatchObject({ host: "10.0.0.1", port: 2121, password: "" })
        expect(ok("ufs:fw/delta.bin").path).toBe("fw/delta.bin")
        expect(ok("HTTP://h:65535/x?v=2&k=a_b").port).toBe(65535)
        expect(ok("HTTP://h:1/x").port).toBe(1)
    })

    test("exactly at the documented limits: accepted; one byte over: refused", () => {
        const at255 = `HTTP://h/${long(246)}`
        expect(at255.length).toBe(255)
        expect(rule(at255)).toBe("ok")
        expect(rule(at255 + "a")).toBe("url-too-long")
        expect(rule(`UFS:${long(128)}`)).toBe("ok")
        expect(rule(`UFS:${long(129)}`)).toBe("ufs-name-too-long")
        const ftp = `FTP://${long(50)}:${long(50)}@${long(46)}.com/${long(49)}`
        expect(rule(ftp)).toBe("ok")
        expect(rule(`FTP://${long(51)}:p@h.com/x`)).toBe("user-too-long")
        expect(rule(`FTP://u:${long(51)}@h.com/x`)).toBe("password-too-long")
        expect(rule(`FTP://u:p@${long(47)}.com/x`)).toBe("host-too-long")
        expect(rule(`FTP://u:p@h.com/${long(50)}`)).toBe("path-too-long")
        // HTTP has no per-field limit, only the 255 bytes
        expect(rule(`HTTP://${long(60)}.com/${long(60)}`)).toBe("ok")
    })

    test("every rule has a message naming it; requireLocation throws the same error", () => {
        const r = parseLocation("HTTP://h:99999/x")
        expect(r).toBeInstanceOf(LocationError)
        expect((r as LocationError).message).toContain("(port)")
        expect(() => requireLocation("HTTP://h:99999/x")).toThrow(LocationError)
        expect(requireLocation("UFS:a").path).toBe("a")
        expect(rule(null as any)).toBe("empty")
        expect(rule("HTTP://h/x\r")).toBe("bad-char")
        expect(rule(" HTTP://h/x")).toBe("bad-char")
        expect(rule("UFS:/abs")).toBe("ufs-name-bad")
        expect(rule("UFS:dir/")).toBe("ufs-name-bad")
        expect(rule("HTTP://h./x")).toBe("host-bad")
        expect(rule("HTTP://h-/x")).toBe("host-bad")
        expect(rule("HTTP://[::1]/x")).toBe("host-bad")
        expect(rule("HTTP://h:123456/x")).toBe("port")
    })

    // Pieces that make plausible and implausible URLs; the comparison below needs no oracle of
    // its own: a location the MCU accepts must also be one the module (emulator) accepts.
    const PIECES = ["HTTP://", "http://", "HTTPS://", "FTP://", "ftp://", "UFS:", "u", "user", ":", "@", "/", "//", "h", "host",
        ".com", ".", "-", "_", ":21", ":0", ":65535", ":99999", "x.bin", "?a=1", " ", '"', "\u00e9", long(30), long(50), "1", "%20"]

    test("seeded: whatever parseLocation accepts, the emulator's module accepts, with the same fields", () => {
        const rng = new Rng(2024)
        let accepted = 0
        for (let i = 0; i < 20000; i++) {
            let s = ""
            const n = 1 + rng.int(9)
            for (let k = 0; k < n; k++) s += PIECES[rng.int(PIECES.length)]
            const mine = parseLocation(s)
            if (mine instanceof LocationError) continue
            accepted++
            const sim = parseFotaUrl(s)
            expect(sim, s).not.toBe(null)
            expect(sim!.host, s).toBe(mine.host)
            expect(sim!.port, s).toBe(mine.port)
            expect(sim!.path, s).toBe(mine.path)
            expect(sim!.user, s).toBe(mine.user)
            expect(sim!.password, s).toBe(mine.password)
        }
        expect(accepted).toBeGreaterThan(200)
    })
})

describe('+QIND: "FOTA" URCs', () => {
    test.each([
        ['+QIND: "FOTA","HTTPSTART"', { kind: "download-start", protocol: "http" }],
        ['+QIND: "FOTA","FTPSTART"', { kind: "download-start", protocol: "ftp" }],
        ['+QIND: "FOTA","HTTPEND",0', { kind: "download-end", protocol: "http", code: 0 }],
        ['+QIND: "FOTA","FTPEND",625', { kind: "download-end", protocol: "ftp", code: 625 }],
        ['+QIND: "FOTA", "HTTPEND", 714', { kind: "download-end", protocol: "http", code: 714 }],
        ['+QIND: "FOTA", "START"', { kind: "start", protocol: "" }],
        ['+QIND: "FOTA","UPDATING",1', { kind: "updating", percent: 1 }],
        ['+QIND: "FOTA", "UPDATING",1', { kind: "updating", percent: 1 }],
        ['+QIND: "FOTA", "UPDATING", 2', { kind: "updating", percent: 2 }],
        ['+QIND: "FOTA","UPDATING",100', { kind: "updating", percent: 100 }],
        ['+QIND: "FOTA","DOWNLOADING",37', { kind: "downloading", percent: 37 }],
        ['+QIND: "FOTA", "END", 0', { kind: "end", code: 0 }],
        ['+QIND:"FOTA","END",522', { kind: "end", code: 522 }],
        ['+QIND: FOTA,END,0', { kind: "end", code: 0 }],
        ['+QIND: "fota","updating",5', { kind: "updating", percent: 5 }],
        ['+QIND: "FOTA","UPDATING",101', { kind: "malformed" }],
        ['+QIND: "FOTA","UPDATING",-1', { kind: "malformed" }],
        ['+QIND: "FOTA","UPDATING"', { kind: "malformed" }],
        ['+QIND: "FOTA","END"', { kind: "malformed" }],
        ['+QIND: "FOTA","END",0,1', { kind: "malformed" }],
        ['+QIND: "FOTA","END",12abc', { kind: "malformed" }],
        ['+QIND: "FOTA","END","0"', { kind: "malformed" }],
        ['+QIND: "FOTA","START",1', { kind: "malformed" }],
        ['+QIND: "FOTA","REBOOTING"', { kind: "unknown", stage: "REBOOTING" }],
    ])("%s", (line, want) => {
        expect(parseFotaUrc(line)).toMatchObject(want)
    })

    test("not FOTA: null", () => {
        for (const l of ['+QIND: "csq",18,99', "+QIND: SMS DONE", "+QIOTEVT: 7,10705", "RDY", "", '+QIND: "FOTA"'])
            expect(parseFotaUrc(l), l).toBe(null)
    })
})

describe("upgrade lock", () => {
    test("exclusive, released only by its holder", () => {
        const l = new UpgradeLock()
        expect(l.holder()).toBe(null)
        expect(l.tryAcquire("sota")).toBe(true)
        expect(l.tryAcquire("dfota")).toBe(false)
        expect(l.tryAcquire("sota")).toBe(false) // not re-entrant
        expect(l.release("dfota")).toBe(false)
        expect(l.holder()).toBe("sota")
        expect(l.release("sota")).toBe(true)
        expect(l.release("sota")).toBe(false)
        expect(l.tryAcquire("dfota")).toBe(true)
        expect(l.holder()).toBe("dfota")
    })
})
