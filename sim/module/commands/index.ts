// Command name → handler. A name not here gets ERROR.
import { at, csq, echo, info } from "./basic"
import { cclk } from "./clock"
import { qcfg, qfotadl, qicsgp } from "./dfota"
import { qiotcfg, qiotinfo, qiotreg, qiotstate } from "./qiot-config"
import { qiotmcuver } from "./qiot-mcuver"
import { qiototard, qiototareq, qiotupdate } from "./qiot-ota"
import { qiotsend } from "./qiot-send"
import type { CommandHandler } from "./types"

export const commandTable: Record<string, CommandHandler> = {
    "": at,
    E: echo,
    I: info,
    "+CSQ": csq,
    "+CCLK": cclk,
    "+QIOTCFG": qiotcfg,
    "+QIOTREG": qiotreg,
    "+QIOTSTATE": qiotstate,
    "+QIOTINFO": qiotinfo,
    "+QIOTMCUVER": qiotmcuver,
    "+QIOTOTAREQ": qiototareq,
    "+QIOTUPDATE": qiotupdate,
    "+QIOTOTARD": qiototard,
    "+QIOTSEND": qiotsend,
    "+QCFG": qcfg,
    "+QICSGP": qicsgp,
    "+QFOTADL": qfotadl,
}

export type { CommandHandler }
