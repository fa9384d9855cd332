// V.250 basics and signal quality: AT, ATE0/ATE1, ATI, AT+CSQ.

import { argInt } from "../at-command"
import type { CommandHandler } from "./types"

/** `AT`: OK. */
export const at: CommandHandler = (m, cmd, r) => {
    r.ok()
}

/** `ATE0` / `ATE1` (`ATE` = ATE0). The echo of ATE0 itself has already gone out. */
export const echo: CommandHandler = (m, cmd, r) => {
    const v = cmd.args.length === 0 ? 0 : argInt(cmd.args[0])
    if (v !== 0 && v !== 1) return void r.error()
    m.echo = v === 1
    r.ok()
}

/** `ATI`: manufacturer, model, revision, as Quectel modules print them. */
export const info: CommandHandler = (m, cmd, r) => {
    if (cmd.args.length > 0 && argInt(cmd.args[0]) !== 0) return void r.error()
    r.info(m.manufacturer).info(m.model).info(`Revision: ${m.nvm.revision}`).ok()
}

/** dBm → the 27.007 <rssi> index: 0 is -113 dBm or less, 31 is -51 dBm or more, 99 unknown. */
export function rssiIndex(dbm: number): number {
    if (!isFinite(dbm)) return 99
    if (dbm <= -113) return 0
    if (dbm >= -51) return 31
    return Math.floor((dbm + 113) / 2)
}

/** `AT+CSQ`: `+CSQ: <rssi>,<ber>` (ber 99: not known). */
export const csq: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info("+CSQ: (0-31,99),(0-7,99)").ok()
    if (cmd.form !== "exec") return void r.error()
    r.info(`+CSQ: ${rssiIndex(m.signalDbm)},99`).ok()
}
