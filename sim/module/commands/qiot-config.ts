// Product configuration and connection: AT+QIOTCFG, AT+QIOTREG, AT+QIOTSTATE, AT+QIOTINFO
// (QuecThing AT manual, "Product Configuration Commands" and AT+QIOTINFO).

import { argInt, argStr, CommandArg } from "../at-command"
import type { QuecModule } from "../module"
import { STATE_INIT, STATE_UNINIT } from "../qiot-connection"
import type { CommandHandler } from "./types"

/** The `=?` answer, as the manual's example prints it for a module with nothing configured. */
const CFG_TEST = [
    '+QIOTCFG: "productinfo",<pk>,<ps>',
    '+QIOTCFG: "server",1,<server_URL>',
    '+QIOTCFG: "lifetime",(1-65535)',
    '+QIOTCFG: "buffer",(0,1)',
    '+QIOTCFG: "act",(1-15)',
    '+QIOTCFG: "session_mode",(0,1)',
    '+QIOTCFG: "tsl",(0,1)',
    '+QIOTCFG: "dk_ds",<dk>,<ds>',
    '+QIOTCFG: "txid_mode",(0,1)',
]

/**
 * The `<ver>` of the productinfo query: "protocol version used for device authentication".
 * Its value is not documented; this one is our choice.
 */
export const AUTH_PROTOCOL_VERSION = "1.0"

type IntItem = "lifetime" | "buffer" | "act" | "session_mode" | "tsl" | "txid_mode"
const INT_ITEMS: Record<IntItem, { min: number; max: number; key: "lifetime" | "bufferMode" | "contextId" | "sessionMode" | "tslMode" | "txidMode" }> = {
    lifetime: { min: 1, max: 65535, key: "lifetime" },
    buffer: { min: 0, max: 1, key: "bufferMode" },
    act: { min: 1, max: 15, key: "contextId" },
    session_mode: { min: 0, max: 1, key: "sessionMode" },
    tsl: { min: 0, max: 1, key: "tslMode" },
    txid_mode: { min: 0, max: 1, key: "txidMode" },
}

function refreshIdleState(m: QuecModule) {
    if (m.conn.state === STATE_UNINIT || m.conn.state === STATE_INIT)
        m.conn.state = m.conn.configured() ? STATE_INIT : STATE_UNINIT
}

function quotedAll(args: CommandArg[], from: number): boolean {
    for (let i = from; i < args.length; i++) if (!args[i].quoted) return false
    return true
}

export const qiotcfg: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") {
        for (const l of CFG_TEST) r.info(l)
        return void r.ok()
    }
    if (cmd.form !== "set") return void r.error()
    const item = argStr(cmd.args[0])
    if (item === null) return void r.error()
    const a = cmd.args
    const n = m.nvm
    switch (item) {
        case "productinfo":
            if (a.length === 1) {
                r.info(`+QIOTCFG: "productinfo","${n.productKey}","${n.productSecret}","${AUTH_PROTOCOL_VERSION}"`)
                return void r.ok()
            }
            if (a.length !== 3 || !quotedAll(a, 1)) return void r.error()
            if (a[1].text.length === 0 || a[1].text.length > 32 || a[2].text.length === 0 || a[2].text.length > 64)
                return void r.error()
            n.productKey = a[1].text
            n.productSecret = a[2].text
            n.deviceSecret = null // another product: the device must authenticate again
            refreshIdleState(m)
            return void r.ok()
        case "server":
            if (a.length === 1) {
                r.info(`+QIOTCFG: "server",${n.serverType},"${n.serverUrl}"`)
                return void r.ok()
            }
            if (a.length !== 3 || argInt(a[1]) !== 1 || !a[2].quoted) return void r.error()
            if (!/^mqtts?:\/\/[A-Za-z0-9.-]+:[0-9]{1,5}$/.test(a[2].text)) return void r.error()
            n.serverType = 1
            n.serverUrl = a[2].text
            refreshIdleState(m)
            return void r.ok()
        case "dk_ds":
            if (a.length === 1) {
                r.info(`+QIOTCFG: "dk_ds","${n.customDk}","${n.customDs}"`)
                return void r.ok()
            }
            if (a.length > 3 || !quotedAll(a, 1)) return void r.error()
            if (a[1].text === "") {
                n.customDk = ""
                n.customDs = ""
                return void r.ok()
            }
            n.customDk = a[1].text
            n.customDs = a.length === 3 ? a[2].text : ""
            return void r.ok()
    }
    const spec = INT_ITEMS[item as IntItem]
    if (!spec) return void r.error()
    if (a.length === 1) {
        r.info(`+QIOTCFG: "${item}",${n[spec.key]}`)
        return void r.ok()
    }
    const v = argInt(a[1])
    if (a.length !== 2 || !(v >= spec.min && v <= spec.max)) return void r.error()
    n[spec.key] = v
    r.ok()
}

export const qiotreg: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info("+QIOTREG: (0-2)").ok()
    if (cmd.form === "query") return void r.info(`+QIOTREG: ${m.nvm.regMode}`).ok()
    if (cmd.form !== "set" || cmd.args.length !== 1) return void r.error()
    const mode = argInt(cmd.args[0])
    if (mode === 0) {
        m.nvm.regMode = 0
        m.conn.stop()
        return void r.ok()
    }
    if (mode !== 1 && mode !== 2) return void r.error()
    if (!m.conn.configured()) return void r.error() // no ProductKey/ProductSecret/server
    m.nvm.regMode = mode
    r.ok()
    m.afterReply(() => m.conn.start())
}

export const qiotstate: CommandHandler = (m, cmd, r) => {
    if (cmd.form !== "query") return void r.error()
    r.info(`+QIOTSTATE: ${m.conn.state}`).ok()
}

/** SDK version reported by AT+QIOTINFO? (the item names are not documented; these are ours). */
export const SDK_VERSION = "2.10.0"

export const qiotinfo: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info('+QIOTINFO: "up"').ok()
    if (cmd.form === "query") {
        r.info(`+QIOTINFO: "sdk_ver","${SDK_VERSION}"`)
        r.info(`+QIOTINFO: "mod_ver","${m.nvm.revision}"`)
        r.info(`+QIOTINFO: "imei","${m.imei}"`)
        r.info(`+QIOTINFO: "csq","${m.signalDbm}"`)
        return void r.ok()
    }
    if (cmd.form === "set" && cmd.args.length === 1 && argStr(cmd.args[0]) === "up") {
        if (!m.conn.connected()) return void r.error()
        return void r.ok()
    }
    r.error()
}

