// AT+CCLK?: the module's real-time clock, as 3GPP TS 27.007 §8.15 words it,
// `+CCLK: "yy/MM/dd,hh:mm:ss±zz"`: local time, zz the offset from UTC in quarters of an hour.
// The time is the platform's clock, Date.now() (a fake clock in tests), shifted by the module's
// `utcOffsetMin` (the network's time zone; default 0). An agent reads it for an outcome's time and
// for maintenance windows (src/sota/consent.ts). The set form is refused (ours: the clock is the
// network's).

import type { CommandHandler } from "./types"

const two = (n: number) => (n < 10 ? "0" : "") + n

/** The `+CCLK:` text for UTC milliseconds `ms` at `offsetMin` minutes east of UTC (a multiple of 15). */
export function cclkText(ms: number, offsetMin: number): string {
    const d = new Date(ms + offsetMin * 60_000)
    const q = Math.round(offsetMin / 15)
    const zone = (q < 0 ? "-" : "+") + two(Math.abs(q))
    const date = `${two(d.getUTCFullYear() % 100)}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}`
    const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
    return `+CCLK: "${date},${time}${zone}"`
}

export const cclk: CommandHandler = (m, cmd, r) => {
    if (cmd.form === "test") return void r.ok()
    if (cmd.form !== "query") return void r.error()
    r.info(cclkText(Date.now(), m.opts.utcOffsetMin)).ok()
}
