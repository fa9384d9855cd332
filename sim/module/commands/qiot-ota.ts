// SOTA commands: AT+QIOTOTAREQ, AT+QIOTUPDATE, AT+QIOTOTARD. The rules of what is allowed
// when are in ota-session.ts; these only parse and answer.
//
// `AT+QIOTOTARD=?` answers `+QIOTOTARD: <start>,(1-<max>)`: the manual gives the form
// `<start>,(range of supported <max_length>s)` but no example; <start> here is the start of the
// piece in RAM (0 without one: none fetched yet, or lost with the RAM in a reboot) and <max> the
// largest block (1024 by default). An MCU that missed a 10703 asks it where the module is.

import { argInt } from "../at-command"
import type { CommandHandler } from "./types"

export const qiototareq: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info("+QIOTOTAREQ: (0,1)").ok()
    let info = 0
    if (cmd.form === "set") {
        info = cmd.args.length === 1 ? argInt(cmd.args[0]) : NaN
        if (info !== 0 && info !== 1) return void r.error()
    } else if (cmd.form !== "exec") return void r.error()
    if (!m.conn.connected()) return void r.error()
    m.ota.request(info)
    r.ok()
}

export const qiotupdate: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info("+QIOTUPDATE: (0-3)").ok()
    if (cmd.form !== "set" || cmd.args.length !== 1) return void r.error()
    const action = argInt(cmd.args[0])
    // every action is a message to the platform
    if (!m.conn.connected()) return void r.error()
    let ok = false
    if (action === 0) ok = m.ota.refuse()
    else if (action === 1) ok = m.ota.confirm()
    else if (action === 2) ok = m.ota.next()
    else if (action === 3) ok = m.ota.updating()
    if (ok) r.ok()
    else r.error()
}

export const qiototard: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") {
        const s = m.ota.session
        const start = s && !s.needsRefetch && (s.state === "piece" || s.state === "updating") ? s.pieceStart() : 0
        return void r.info(`+QIOTOTARD: ${start},(1-${m.opts.maxRead})`).ok()
    }
    if (cmd.form !== "set" || cmd.args.length !== 2) return void r.error()
    const start = argInt(cmd.args[0])
    const length = argInt(cmd.args[1])
    if (!(start >= 0) || !(length >= 1)) return void r.error()
    const data = m.ota.read(start, length)
    if (data === null) return void r.error()
    r.payload(n => `+QIOTOTARD: ${start},${n}`, Buffer.from(data)).ok()
}
