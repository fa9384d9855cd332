// The module's clock, AT+CCLK? (3GPP TS 27.007 §8.15): `+CCLK: "yy/MM/dd,hh:mm:ss±zz"`, local
// time with zz the offset from UTC in quarters of an hour. The agent's time for outcomes and
// maintenance windows: seconds since 1970 (UTC) and the local offset in minutes.

import { AtClient } from "../at/client"
import { AtError } from "../at/errors"

export interface ModuleTime {
    /** Seconds since 1970-01-01 UTC; 0 when the module has no time. */
    now: number
    /** Minutes east of UTC. */
    utcOffset: number
}

/** Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
function days(y: number, m: number, d: number): number {
    if (m <= 2) y -= 1
    const era = Math.floor(y / 400)
    const yoe = y - era * 400
    const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
    return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468
}

function num(s: string, at: number): number {
    const a = s.charCodeAt(at) - 48
    const b = s.charCodeAt(at + 1) - 48
    return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN
}

/** The `+CCLK:` text's quoted value "yy/MM/dd,hh:mm:ss±zz" as a time; null when malformed. */
export function parseCclk(v: string): ModuleTime {
    if (v.length !== 20) return null
    const sign = v.charAt(17) === "-" ? -1 : v.charAt(17) === "+" ? 1 : 0
    const f = [num(v, 0), num(v, 3), num(v, 6), num(v, 9), num(v, 12), num(v, 15), num(v, 18)]
    for (let i = 0; i < 7; i++) if (isNaN(f[i])) return null
    if (!sign || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59) return null
    const offset = sign * f[6] * 15
    const local = days(2000 + f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5]
    return { now: local - offset * 60, utcOffset: offset }
}

/** AT+CCLK?; { now: 0 } when the module has no clock or answers nonsense (a time is never worth failing for). */
export async function moduleTime(at: AtClient): Promise<ModuleTime> {
    try {
        const r = await at.command("AT+CCLK?", { expect: "+CCLK" })
        const t = parseCclk(r.fields("+CCLK").str(0))
        if (t) return t
    } catch (e) {
        if (!(e instanceof AtError)) throw e
    }
    return { now: 0, utcOffset: 0 }
}
