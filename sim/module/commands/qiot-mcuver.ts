// AT+QIOTMCUVER: the MCU component versions the module reports to the platform.
//   ="<no>","<ver>" sets (saved), ="<no>" queries one, ? lists all, ="<no>","" deletes
//   (the form Quectel's MCU simulator uses). Limits (ours; the manual gives none): a component
//   number of 1–32 characters, a version of at most 32, at most 16 components.
// Setting a version is also how the MCU reports the result of an upgrade: see ota-session.ts.

import { argStr } from "../at-command"
import type { CommandHandler } from "./types"

export const MAX_COMPONENTS = 16

export const qiotmcuver: CommandHandler = (m, cmd, r) => {
    const list = m.nvm.mcuVersions
    if (cmd.form === "test") return void r.info("+QIOTMCUVER: <MCU_number>,<MCU_version>").ok()
    if (cmd.form === "query") {
        for (const [no, ver] of list) r.info(`+QIOTMCUVER: "${no}","${ver}"`)
        return void r.ok()
    }
    if (cmd.form !== "set" || cmd.args.length < 1 || cmd.args.length > 2) return void r.error()
    const no = argStr(cmd.args[0])
    if (no === null || no.length === 0 || no.length > 32) return void r.error()
    const at = list.findIndex(e => e[0] === no)
    if (cmd.args.length === 1) {
        if (at < 0) return void r.error()
        return void r.info(`+QIOTMCUVER: "${no}","${list[at][1]}"`).ok()
    }
    const ver = argStr(cmd.args[1])
    if (ver === null || ver.length > 32) return void r.error()
    if (ver === "") {
        if (at >= 0) list.splice(at, 1)
    } else if (at >= 0) list[at] = [no, ver]
    else {
        if (list.length >= MAX_COMPONENTS) return void r.error()
        list.push([no, ver])
    }
    r.ok()
    m.reportVersions()
    if (ver !== "") m.ota.versionReported(no, ver)
}
