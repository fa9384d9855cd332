// Module firmware upgrade commands: AT+QICSGP (the PDP context the download uses),
// AT+QCFG="fota/cid", AT+QFOTADL. The upgrade itself is in ../dfota.ts.

import { argInt, argStr } from "../at-command"
import type { CommandHandler } from "./types"

export const qcfg: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info('+QCFG: "fota/cid",(1-16)').ok()
    if (cmd.form !== "set" || argStr(cmd.args[0]) !== "fota/cid") return void r.error()
    if (cmd.args.length === 1) return void r.info(`+QCFG: "fota/cid",${m.nvm.fotaCid}`).ok()
    const cid = argInt(cmd.args[1])
    if (cmd.args.length !== 2 || !(cid >= 1 && cid <= 16)) return void r.error()
    m.nvm.fotaCid = cid
    r.ok()
}

/**
 * AT+QICSGP=<cid>[,<type>,<APN>[,<user>,<password>[,<auth>]]]. The DFOTA walk-through sends
 * `AT+QICSGP=1,1,"UNINET","",1`: an unquoted fifth parameter is taken as <auth> with an empty
 * password, so the documented example works.
 */
export const qicsgp: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info('+QICSGP: (1-16),(1-3),<APN>,<username>,<password>,(0-3)').ok()
    if (cmd.form !== "set" || cmd.args.length === 0) return void r.error()
    const a = cmd.args
    const cid = argInt(a[0])
    if (!(cid >= 1 && cid <= 16)) return void r.error()
    if (a.length === 1) {
        const c = m.nvm.pdpContexts.get(cid) || { type: 1, apn: "", user: "", password: "", auth: 0 }
        return void r.info(`+QICSGP: ${c.type},"${c.apn}","${c.user}","${c.password}",${c.auth}`).ok()
    }
    const type = argInt(a[1])
    const apn = argStr(a[2])
    if (!(type >= 1 && type <= 3) || apn === null || apn.length > 62) return void r.error()
    let user = ""
    let password = ""
    let auth = 0
    if (a.length >= 4) {
        const u = argStr(a[3])
        if (u === null) return void r.error()
        user = u
    }
    if (a.length === 5 && !a[4].quoted) auth = argInt(a[4])
    else if (a.length >= 5) {
        const p = argStr(a[4])
        if (p === null) return void r.error()
        password = p
        if (a.length === 6) auth = argInt(a[5])
        else if (a.length > 6) return void r.error()
    }
    if (!(auth >= 0 && auth <= 3)) return void r.error()
    m.nvm.pdpContexts.set(cid, { type, apn, user, password, auth })
    r.ok()
}

export const qfotadl: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info("+QFOTADL: <URL>").ok()
    const url = cmd.form === "set" && cmd.args.length === 1 ? argStr(cmd.args[0]) : null
    if (url === null || !m.dfota.start(url)) return void r.error()
    r.ok()
}
