// Every command form the module implements, with its exact reply, including the error paths.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest"
import { createPipe } from "../../src/link/pipe"
import { DevCenter } from "../../sim/module/dev-center"
import { QuecModule } from "../../sim/module/module"
import { exchange, IMEI, PK, PS, Terminal, tick, walkthroughWorld } from "./harness"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

/** A factory-fresh module, no platform, echo off after the first command. */
async function fresh(opts = {}) {
    const [mcu, modem] = createPipe()
    const module = new QuecModule(modem, opts)
    const t = new Terminal(mcu)
    expect(await exchange(t, "ATE0", 50)).toBe("ATE0\r\r\nOK\r\n")
    return { module, t }
}

describe("basic commands", () => {
    test("AT, echo on by default, ATE0 stops it, ATE1 restores it", async () => {
        const [mcu, modem] = createPipe()
        new QuecModule(modem)
        const t = new Terminal(mcu)
        expect(await exchange(t, "AT")).toBe("AT\r\r\nOK\r\n")
        expect(await exchange(t, "ATE0")).toBe("ATE0\r\r\nOK\r\n")
        expect(await exchange(t, "AT")).toBe("\r\nOK\r\n")
        expect(await exchange(t, "ATE1")).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT")).toBe("AT\r\r\nOK\r\n")
        expect(await exchange(t, "ATE2")).toBe("ATE2\r\r\nERROR\r\n")
    })

    test("lower case, LF after CR, backspace, noise before AT", async () => {
        const { t } = await fresh()
        expect(await exchange(t, "at")).toBe("\r\nOK\r\n")
        t.take()
        await t.sendRaw("AT+CSX\bQ\r\n")
        await tick(10)
        expect(t.takeText()).toBe("\r\n+CSQ: 19,99\r\n\r\nOK\r\n")
        expect(await exchange(t, "\x00zzAT")).toBe("\r\nOK\r\n")
    })

    test("a line without AT gets no reply; an unknown command or a malformed one gets ERROR", async () => {
        const { t } = await fresh()
        expect(await exchange(t, "hello")).toBe("")
        expect(await exchange(t, "AT+FOO")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="lifetime')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "ATX1Y")).toBe("\r\nERROR\r\n")
    })

    test("an over-long line is answered ERROR", async () => {
        const { t } = await fresh({ maxLine: 64 })
        expect(await exchange(t, "AT+QIOTMCUVER=" + "x".repeat(80))).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT")).toBe("\r\nOK\r\n")
    })

    test("ATI", async () => {
        const { t } = await fresh({ model: "EC200U-CN", revision: "EC200UCNAAR02A11M08" })
        expect(await exchange(t, "ATI")).toBe("\r\nQuectel\r\nEC200U-CN\r\nRevision: EC200UCNAAR02A11M08\r\n\r\nOK\r\n")
    })

    test("AT+CSQ follows the signal, and its test form", async () => {
        const { module, t } = await fresh({ signalDbm: -75 })
        expect(await exchange(t, "AT+CSQ")).toBe("\r\n+CSQ: 19,99\r\n\r\nOK\r\n")
        module.setSignal(-120)
        expect(await exchange(t, "AT+CSQ")).toBe("\r\n+CSQ: 0,99\r\n\r\nOK\r\n")
        module.setSignal(-40)
        expect(await exchange(t, "AT+CSQ")).toBe("\r\n+CSQ: 31,99\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+CSQ=?")).toBe("\r\n+CSQ: (0-31,99),(0-7,99)\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+CSQ?")).toBe("\r\nERROR\r\n")
    })

    test("commands queue: two lines in one write are answered in order", async () => {
        const { t } = await fresh({ latencyMs: 30 })
        t.take()
        await t.sendRaw("AT+CSQ\rAT+QIOTREG?\r")
        await tick(25)
        expect(t.takeText()).toBe("") // latency: nothing yet
        await tick(10)
        expect(t.takeText()).toBe("\r\n+CSQ: 19,99\r\n\r\nOK\r\n")
        await tick(32)
        expect(t.takeText()).toBe("\r\n+QIOTREG: 0\r\n\r\nOK\r\n")
    })
})

describe("AT+QIOTCFG", () => {
    test("test form lists the items as the manual prints them", async () => {
        const { t } = await fresh()
        expect(await exchange(t, "AT+QIOTCFG=?")).toBe(
            "\r\n" +
                [
                    '+QIOTCFG: "productinfo",<pk>,<ps>',
                    '+QIOTCFG: "server",1,<server_URL>',
                    '+QIOTCFG: "lifetime",(1-65535)',
                    '+QIOTCFG: "buffer",(0,1)',
                    '+QIOTCFG: "act",(1-15)',
                    '+QIOTCFG: "session_mode",(0,1)',
                    '+QIOTCFG: "tsl",(0,1)',
                    '+QIOTCFG: "dk_ds",<dk>,<ds>',
                    '+QIOTCFG: "txid_mode",(0,1)',
                ].join("\r\n") +
                "\r\n\r\nOK\r\n",
        )
    })

    test("productinfo: set, query; bad forms", async () => {
        const { t } = await fresh()
        expect(await exchange(t, 'AT+QIOTCFG="productinfo","p11tst","RMWdemoSecretDlt"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="productinfo"')).toBe(
            '\r\n+QIOTCFG: "productinfo","p11tst","RMWdemoSecretDlt","1.0"\r\n\r\nOK\r\n',
        )
        expect(await exchange(t, 'AT+QIOTCFG="productinfo",p11tst,"x"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="productinfo","p11tst"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="productinfo","","x"')).toBe("\r\nERROR\r\n")
    })

    test("server: default, set, bad type or URL", async () => {
        const { t } = await fresh()
        expect(await exchange(t, 'AT+QIOTCFG="server"')).toBe(
            '\r\n+QIOTCFG: "server",1,"mqtt://iot-south.quectelcn.com:1883"\r\n\r\nOK\r\n',
        )
        expect(await exchange(t, 'AT+QIOTCFG="server",1,"mqtts://iot-south.acceleronix.io:8883"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="server"')).toBe(
            '\r\n+QIOTCFG: "server",1,"mqtts://iot-south.acceleronix.io:8883"\r\n\r\nOK\r\n',
        )
        expect(await exchange(t, 'AT+QIOTCFG="server",2,"mqtt://iot-south.acceleronix.io:1883"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="server",1,"http://x:80"')).toBe("\r\nERROR\r\n")
    })

    test("lifetime: default 120, range 1-65535", async () => {
        const { t } = await fresh()
        expect(await exchange(t, 'AT+QIOTCFG="lifetime"')).toBe('\r\n+QIOTCFG: "lifetime",120\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTCFG="lifetime",65535')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="lifetime"')).toBe('\r\n+QIOTCFG: "lifetime",65535\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTCFG="lifetime",0')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="lifetime",65536')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="lifetime","60"')).toBe("\r\nERROR\r\n")
    })

    test("the other items, dk_ds, unknown items, unsupported forms", async () => {
        const { t } = await fresh()
        expect(await exchange(t, 'AT+QIOTCFG="act",15')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="act"')).toBe('\r\n+QIOTCFG: "act",15\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTCFG="act",16')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="buffer",1')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="tsl",2')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="dk_ds","12345678"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="dk_ds"')).toBe('\r\n+QIOTCFG: "dk_ds","12345678",""\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTCFG="dk_ds",""')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="dk_ds"')).toBe('\r\n+QIOTCFG: "dk_ds","",""\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTCFG="colour",1')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTCFG?")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTCFG")).toBe("\r\nERROR\r\n")
    })

    test("the configuration survives a reboot; echo does not", async () => {
        const { module, t } = await fresh({ bootMs: 100 })
        await exchange(t, 'AT+QIOTCFG="lifetime",300')
        module.reboot()
        await tick(105)
        expect(t.takeText()).toBe("\r\nRDY\r\n")
        expect(await exchange(t, 'AT+QIOTCFG="lifetime"')).toBe(
            'AT+QIOTCFG="lifetime"\r\r\n+QIOTCFG: "lifetime",300\r\n\r\nOK\r\n',
        )
    })
})

describe("AT+QIOTREG and AT+QIOTSTATE", () => {
    test("forms; ERROR without product info", async () => {
        const { t } = await fresh()
        expect(await exchange(t, "AT+QIOTREG=?")).toBe("\r\n+QIOTREG: (0-2)\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTREG?")).toBe("\r\n+QIOTREG: 0\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 0\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTREG=2")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTREG=3")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTSTATE=?")).toBe("\r\nERROR\r\n")
    })

    test("connect, state 8, deregister with 6,10200, state 11", async () => {
        const w = walkthroughWorld({ registerMs: 200 })
        const t = w.term
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 1\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 5\r\n\r\nOK\r\n")
        await tick(200)
        expect(t.takeText()).toBe("\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n")
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 8\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTREG?")).toBe("\r\n+QIOTREG: 1\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTREG=0")).toBe("\r\nOK\r\n\r\n+QIOTEVT: 6,10200\r\n")
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 11\r\n\r\nOK\r\n")
        expect(w.dc.devices.get(IMEI).online).toBe(false)
    })

    test("first connection authenticates (1,10200) and the DeviceSecret is kept", async () => {
        const dc = new DevCenter().addProduct({ productKey: PK, productSecret: PS })
        const [mcu, modem] = createPipe()
        const module = new QuecModule(modem, { devCenter: dc, imei: IMEI, bootMs: 10, nvm: { productKey: PK, productSecret: PS } })
        const t = new Terminal(mcu)
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe(
            "\r\nOK\r\n\r\n+QIOTEVT: 1,10200\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n",
        )
        expect(module.nvm.deviceSecret).toBe(dc.devices.get(IMEI).deviceSecret)
        module.reboot()
        await tick(15)
        t.take()
        expect(await exchange(t, "AT+QIOTREG=1")).toBe(
            "AT+QIOTREG=1\r\r\nOK\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n",
        )
    })

    test("unknown product key: 1,10423 and state 4; wrong secret: 1,10424", async () => {
        const dc = new DevCenter().addProduct({ productKey: PK, productSecret: PS })
        const [mcu, modem] = createPipe()
        new QuecModule(modem, { devCenter: dc, nvm: { productKey: "nosuch", productSecret: PS } })
        const t = new Terminal(mcu)
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe("\r\nOK\r\n\r\n+QIOTEVT: 1,10423\r\n")
        expect(await exchange(t, "AT+QIOTSTATE?")).toBe("\r\n+QIOTSTATE: 4\r\n\r\nOK\r\n")
        expect(await exchange(t, `AT+QIOTCFG="productinfo","${PK}","wrong"`)).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTREG=1")).toBe("\r\nOK\r\n\r\n+QIOTEVT: 1,10424\r\n")
    })

    test("mode 2 is saved and connects at power-on", async () => {
        const w = walkthroughWorld({ bootMs: 50 })
        const t = w.term
        await exchange(t, "AT+QIOTREG=2")
        w.module.reboot()
        await tick(55)
        expect(t.takeText()).toBe("\r\nRDY\r\n\r\n+QIOTEVT: 2,10200\r\n\r\n+QIOTEVT: 3,10200\r\n")
    })
})

describe("AT+QIOTMCUVER", () => {
    test("set one, query one, list all, delete with an empty version", async () => {
        const { t } = await fresh()
        expect(await exchange(t, "AT+QIOTMCUVER=?")).toBe("\r\n+QIOTMCUVER: <MCU_number>,<MCU_version>\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTMCUVER?")).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="MCU1","V1_0"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32"')).toBe('\r\n+QIOTMCUVER: "STM32","1_0_0"\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_1"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTMCUVER?")).toBe(
            '\r\n+QIOTMCUVER: "STM32","1_0_1"\r\n+QIOTMCUVER: "MCU1","V1_0"\r\n\r\nOK\r\n',
        )
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32",""')).toBe("\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTMCUVER?")).toBe('\r\n+QIOTMCUVER: "MCU1","V1_0"\r\n\r\nOK\r\n')
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32"')).toBe("\r\nERROR\r\n")
    })

    test("bad forms", async () => {
        const { t } = await fresh()
        expect(await exchange(t, "AT+QIOTMCUVER=STM32,1_0_0")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="","1"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, 'AT+QIOTMCUVER="A","1","2"')).toBe("\r\nERROR\r\n")
        expect(await exchange(t, `AT+QIOTMCUVER="A","${"9".repeat(33)}"`)).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTMCUVER")).toBe("\r\nERROR\r\n")
    })

    test("versions are saved, and reported to the platform when connected", async () => {
        const w = walkthroughWorld({ bootMs: 10 })
        const t = w.term
        await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_0"')
        expect(w.dc.devices.get(IMEI).versions.size).toBe(0) // not connected yet
        await exchange(t, "AT+QIOTREG=1")
        expect(w.dc.devices.get(IMEI).versions.get("STM32")).toBe("1_0_0")
        await exchange(t, 'AT+QIOTMCUVER="STM32","1_0_7"')
        expect(w.dc.devices.get(IMEI).versions.get("STM32")).toBe("1_0_7")
        w.module.reboot()
        await tick(15)
        t.take()
        expect(await exchange(t, 'AT+QIOTMCUVER="STM32"')).toBe(
            'AT+QIOTMCUVER="STM32"\r\r\n+QIOTMCUVER: "STM32","1_0_7"\r\n\r\nOK\r\n',
        )
    })
})

describe("OTA command forms and errors", () => {
    test("AT+QIOTOTAREQ, AT+QIOTUPDATE, AT+QIOTOTARD forms without a plan", async () => {
        const w = walkthroughWorld()
        const t = w.term
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTOTAREQ=?")).toBe("\r\n+QIOTOTAREQ: (0,1)\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTOTAREQ")).toBe("\r\nERROR\r\n") // not connected
        expect(await exchange(t, "AT+QIOTUPDATE=?")).toBe("\r\n+QIOTUPDATE: (0-3)\r\n\r\nOK\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=?")).toBe("\r\n+QIOTOTARD: 0,(1-1024)\r\n\r\nOK\r\n")
        await exchange(t, "AT+QIOTREG=1")
        expect(await exchange(t, "AT+QIOTOTAREQ")).toBe("\r\nOK\r\n") // no version reported: no plan
        expect(await exchange(t, "AT+QIOTOTAREQ=2")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTAREQ?")).toBe("\r\nERROR\r\n")
        for (const a of ["0", "1", "2", "3"]) expect(await exchange(t, `AT+QIOTUPDATE=${a}`)).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTUPDATE=4")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTUPDATE")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=0,1024")).toBe("\r\nERROR\r\n")
        expect(await exchange(t, "AT+QIOTOTARD=0")).toBe("\r\nERROR\r\n")
    })

    test("AT+QIOTINFO", async () => {
        const w = walkthroughWorld()
        const t = w.term
        await exchange(t, "ATE0")
        expect(await exchange(t, "AT+QIOTINFO=?")).toBe('\r\n+QIOTINFO: "up"\r\n\r\nOK\r\n')
        expect(await exchange(t, "AT+QIOTINFO?")).toBe(
            '\r\n+QIOTINFO: "sdk_ver","2.10.0"\r\n+QIOTINFO: "mod_ver","BG95M3LAR02A03"\r\n+QIOTINFO: "imei","866123456789012"\r\n+QIOTINFO: "csq","-75"\r\n\r\nOK\r\n',
        )
        expect(await exchange(t, 'AT+QIOTINFO="up"')).toBe("\r\nERROR\r\n") // not connected
        await exchange(t, "AT+QIOTREG=1")
        expect(await exchange(t, 'AT+QIOTINFO="up"')).toBe("\r\nOK\r\n")
        expect(await exchange(t, 'AT+QIOTINFO="down"')).toBe("\r\nERROR\r\n")
    })
})
