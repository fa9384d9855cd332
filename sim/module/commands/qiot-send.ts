// AT+QIOTSEND: transparent data to the Developer Center (QuecThing AT manual, "Data Interaction
// Commands"; the cellular example "Transparent Transmission Data Interaction"). The platform keeps
// what arrives in its uplink log (dev-center.ts), where a test reads, say, an outcome report.
//   =<mode>,<length>,"<data>"  the inline form: OK, then `+QIOTEVT: 4,10200` for mode 1 and 2
//                              (QoS 1 and 2; mode 0, QoS 0, raises no event), as the example shows
//   =?                         `+QIOTSEND: (0-2),(1-<max>),<data>`
// Ours where the manual is silent: <length> must equal the data's length (ERROR otherwise); at most
// MAX_SEND bytes; not connected: ERROR. The form without <data> (a `>` prompt, then <length> raw
// bytes) is not emulated: the command reader is line-based; an agent sends its reports as text.

import { argInt, argStr } from "../at-command"
import type { CommandHandler } from "./types"

export const MAX_SEND = 1024

export const qiotsend: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.info(`+QIOTSEND: (0-2),(1-${MAX_SEND}),<data>`).ok()
    if (cmd.form !== "set" || cmd.args.length !== 3) return void r.error()
    const mode = argInt(cmd.args[0])
    const length = argInt(cmd.args[1])
    const data = argStr(cmd.args[2])
    if (!(mode >= 0 && mode <= 2) || data === null) return void r.error()
    const bytes = Buffer.from(data, "latin1")
    if (!(length >= 1 && length <= MAX_SEND) || bytes.length !== length) return void r.error()
    if (!m.conn.connected()) return void r.error()
    if (m.devCenter) m.devCenter.uplink(m.conn.deviceKey(), bytes)
    r.ok()
    if (mode > 0) m.afterReply(() => m.timer(m.opts.cloudMs, () => m.urc("+QIOTEVT: 4,10200")))
}
