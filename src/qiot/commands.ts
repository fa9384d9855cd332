// QuecThing's AT commands as typed calls (quecthing-at.md §1-2). Each one knows its command
// text and its answer's shape; failures stay the AT layer's typed errors, and an answer that
// does not parse is an AtMalformedError. Plain functions over the AT client, not a class: they
// hold no state, and in DeviceScript every method of a class is an entry in its prototype on
// the VM heap for the whole run.

import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { CommandOptions, PayloadSink } from "../at/client-types"
import { AtError, AtMalformedError } from "../at/errors"
import { lineInt } from "../at/fields"
import { parseDecimal } from "../lib/decimal"
import { OtaAction } from "./events"

export interface BlockReply {
    start: number
    length: number
}

/** Text that may go inside a quoted AT parameter: printable ASCII without quotes. */
export function quotable(s: string): boolean {
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c < 0x20 || c > 0x7e || c === 34) return false
    }
    return true
}

export async function echoOff(at: AtClient) {
    await at.command("ATE0")
}

/** AT+QIOTSTATE? → 0..12 (QiotState.Subscribed: data can flow). */
export async function qiotState(at: AtClient): Promise<number> {
    const r = await at.command("AT+QIOTSTATE?", { expect: "+QIOTSTATE" })
    const s = r.fields("+QIOTSTATE").int(0)
    if (isNaN(s)) throw new AtMalformedError("AT+QIOTSTATE?", "no state")
    return s
}

export async function reportMcuVersion(at: AtClient, component: string, version: string) {
    if (!quotable(component) || !quotable(version))
        throw new AtError("bad-command", "AT+QIOTMCUVER", "component or version not quotable")
    await at.command(`AT+QIOTMCUVER="${component}","${version}"`)
}

/** AT+QIOTOTAREQ[=1]: ask for a plan; with SHA-256 in 10701 when `withSha`. */
export async function requestPlan(at: AtClient, withSha: boolean) {
    await at.command(withSha ? "AT+QIOTOTAREQ=1" : "AT+QIOTOTAREQ")
}

/** The largest block AT+QIOTOTARD=? allows: `+QIOTOTARD: <start>,(1-1024)`; -1 if the form is unknown. */
export async function maxBlock(at: AtClient): Promise<number> {
    const r = await at.command("AT+QIOTOTARD=?", { expect: "+QIOTOTARD" })
    const text = r.line("+QIOTOTARD")
    const open = text.indexOf("(")
    const close = text.indexOf(")", open + 1)
    if (open < 0 || close < 0) return -1
    // the upper bound: after the range's first "-", else the whole range
    const dash = text.indexOf("-", open + 1)
    const n = parseDecimal(text.slice(dash >= 0 && dash < close ? dash + 1 : open + 1, close).trim())
    return n > 0 ? n : -1
}

/** The options of every block read of a download, made once (not an object per block). */
export function blockReadOptions(sink: PayloadSink, timeoutMs: number): CommandOptions {
    return { sink, timeoutMs, expect: "+QIOTOTARD" }
}

/** AT+QIOTOTARD=<start>,<length>: the payload goes to the sink of `opts` (blockReadOptions); the header's numbers come back. */
export async function readBlock(at: AtClient, start: number, length: number, opts: CommandOptions): Promise<BlockReply> {
    const cmd = `AT+QIOTOTARD=${start},${length}`
    const r = await at.command(cmd, opts)
    if (r.payloadLength < 0) throw new AtMalformedError(cmd, "no payload")
    return { start: lineInt(r.payloadHeader, 0), length: r.payloadLength }
}

/** AT+CSQ → <rssi> (0..31, 99 unknown). */
export async function csq(at: AtClient): Promise<number> {
    const r = await at.command("AT+CSQ", { expect: "+CSQ" })
    const n = r.fields("+CSQ").int(0)
    if (isNaN(n)) throw new AtMalformedError("AT+CSQ", "no rssi")
    return n
}

/**
 * AT+QIOTUPDATE=<action> on a plan: refuse, accept, next piece, or installing (all read). An ERROR is retried after a pause (`retries` times); a
 * timeout is not: the module may have acted, and repeating "next piece" could skip one. A
 * download's stall handling repeats the action when the expected event does not come.
 */
export async function planAction(at: AtClient, action: OtaAction, retries: number) {
    for (let attempt = 0; ; attempt++) {
        try {
            await at.command(`AT+QIOTUPDATE=${action}`)
            return
        } catch (err) {
            if (!(err instanceof AtError)) throw err
            if (err.reason === "timeout") return
            if (err.reason === "module-reboot" || err.reason === "link-lost" || attempt >= retries) throw err
            await ds.sleep(500)
        }
    }
}

/** Best effort (refusals, aborts): an AT failure here changes nothing. True when the module answered OK. */
export async function tryPlanAction(at: AtClient, action: OtaAction): Promise<boolean> {
    try {
        await at.command(`AT+QIOTUPDATE=${action}`)
        return true
    } catch (err) {
        if (!(err instanceof AtError)) throw err
        return false
    }
}
