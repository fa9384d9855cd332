// The first-contact check with a real module (`--modem`), before the engine runs: does anything
// answer AT on this port, echo off, what module and QuecThing SDK this is, is the product
// configured (without it AT+QIOTREG=1 is an ERROR), where it stands with the platform, and the
// largest AT+QIOTOTARD block it allows. Printed as a short report and kept in the JSON summary
// as `module`. Uses the firmware's own AT client, so --trace shows this dialogue too.

import * as ds from "@devicescript/core"
import { AtClient } from "../../src/at/client"
import { AtError } from "../../src/at/errors"
import { lineFields } from "../../src/at/fields"
import type { ByteTransport } from "../../src/link/transport"
import { echoOff, maxBlock, qiotState } from "../../src/qiot/commands"
import { LinkError } from "../link/tcp-transport"

export interface ModuleReport {
    /** What ATI prints: manufacturer, model, "Revision: …". */
    revision: string[]
    /** The QuecThing SDK version from AT+QIOTINFO? ("" when the module does not name it). */
    sdkVersion: string
    /** Every +QIOTINFO line, as sent. */
    info: string[]
    /** AT+QIOTCFG="productinfo" has a ProductKey and a ProductSecret. */
    productInfoConfigured: boolean
    productKey: string
    /** AT+QIOTSTATE? (0..12, 8 = subscribed); -1 when it did not answer. */
    state: number
    /** The largest block AT+QIOTOTARD=? allows; -1 when it did not say. */
    maxBlock: number
    /** The block size the engine will read with: --block, lowered to maxBlock. */
    block: number
    /** Things that worked but look wrong. */
    warnings: string[]
    /** Why the upgrade cannot run on this module as configured (null: it can). */
    fatal: string | null
}

export interface FirstContactOptions {
    /** How long to keep trying AT before "the module does not answer". */
    waitMs: number
    /** --block */
    block: number
    /** Mentioned in the no-answer message (serial ports only). */
    baud?: number
}

/** AT+QIOTSTATE values (quecthing-at.md §2). */
export const QIOT_STATES = [
    "uninitialised",
    "initialised",
    "authenticating",
    "authenticated",
    "authentication failed",
    "registering",
    "registered, not yet subscribed",
    "registration failed",
    "subscribed",
    "subscription failed",
    "deregistering",
    "deregistered",
    "deregistration failed",
]

function text(err: any): string {
    return err && err.message ? err.message : `${err}`
}

/** Wait until the module answers `AT` with OK (the client's resync: quiet line, AT, OK, quiet line). */
async function reach(at: AtClient, where: string, o: FirstContactOptions) {
    const deadline = ds.millis() + o.waitMs
    while (true) {
        try {
            await at.resync()
            return
        } catch (err) {
            if (ds.millis() >= deadline) {
                const baud = o.baud ? `, that it runs at ${o.baud} baud (--modem-baud)` : ""
                throw new LinkError(
                    "no-answer",
                    `${where}: the module does not answer AT (waited ${o.waitMs / 1000} s): check that it is powered${baud}, ` +
                        `and that this is its AT port`
                )
            }
            await ds.sleep(200)
        }
    }
}

/** Run the check. Throws LinkError("no-answer") when nothing answers AT; otherwise reports. */
export async function firstContact(link: ByteTransport, where: string, o: FirstContactOptions): Promise<ModuleReport> {
    const at = new AtClient(link, { syncAttempts: 1, syncTimeoutMs: 1000, feedSlice: 1 << 16 })
    const r: ModuleReport = {
        revision: [],
        sdkVersion: "",
        info: [],
        productInfoConfigured: false,
        productKey: "",
        state: -1,
        maxBlock: -1,
        block: o.block,
        warnings: [],
        fatal: null,
    }
    await reach(at, where, o)

    try {
        await echoOff(at)
    } catch (err) {
        r.warnings.push(`ATE0 failed (${text(err)}): echo stays on (the AT layer copes)`)
    }

    try {
        r.revision = (await at.command("ATI")).lines.slice()
    } catch (err) {
        r.warnings.push(`ATI failed: ${text(err)}`)
    }

    try {
        const res = await at.command("AT+QIOTINFO?", { expect: "+QIOTINFO" })
        r.info = res.lines.slice()
        // the item names are not documented: take the first one that names the SDK
        for (const l of res.lines) {
            const f = lineFields(l)
            if (f.values.length >= 2 && /sdk/i.test(f.str(0))) {
                r.sdkVersion = f.str(1)
                break
            }
        }
        if (!r.sdkVersion) r.warnings.push("AT+QIOTINFO? names no SDK version")
    } catch (err) {
        r.warnings.push(`AT+QIOTINFO? failed (${text(err)}): a QuecThing SDK older than AT+QIOTINFO, or no QuecThing firmware`)
    }

    let cfgError = ""
    try {
        const f = (await at.command('AT+QIOTCFG="productinfo"', { expect: "+QIOTCFG" })).fields("+QIOTCFG")
        r.productKey = f.values.length >= 2 ? f.str(1) : ""
        r.productInfoConfigured = r.productKey.length > 0 && f.values.length >= 3 && f.str(2).length > 0
    } catch (err) {
        cfgError = text(err)
    }
    if (cfgError)
        r.fatal = `AT+QIOTCFG="productinfo" failed (${cfgError}): this module firmware has no QuecThing AT commands, or they are off`
    else if (!r.productInfoConfigured)
        r.fatal =
            'the product is not configured on the module: send AT+QIOTCFG="productinfo","<ProductKey>","<ProductSecret>" ' +
            "with the values of your product on the Developer Center (docs/MODEM.md)"

    try {
        r.state = await qiotState(at)
    } catch (err) {
        r.warnings.push(`AT+QIOTSTATE? failed: ${text(err)}`)
    }

    try {
        r.maxBlock = await maxBlock(at)
        if (r.maxBlock < 0) r.warnings.push("AT+QIOTOTARD=? gave no block range; reading with --block")
    } catch (err) {
        r.warnings.push(`AT+QIOTOTARD=? failed (${text(err)}): SOTA reads need QuecThing SDK 2.3.3 or later`)
    }
    if (r.maxBlock > 0) r.block = Math.min(o.block, r.maxBlock)
    return r
}

/** The report as lines for people. */
export function formatReport(r: ModuleReport, where: string): string[] {
    const out = [`first contact on ${where}: the module answers AT, echo off`]
    const row = (k: string, v: string) => out.push(`  ${k.padEnd(10)} ${v}`)
    row("module", r.revision.length ? r.revision.join(", ") : "(ATI said nothing)")
    row("QuecThing", r.sdkVersion ? `SDK ${r.sdkVersion}` : "SDK version not reported")
    row("product", r.productInfoConfigured ? `${r.productKey} configured (ProductSecret set)` : "NOT configured")
    if (r.state >= 0) row("platform", `state ${r.state} (${QIOT_STATES[r.state] ?? "unknown"})`)
    row("max block", r.maxBlock > 0 ? `${r.maxBlock} bytes (AT+QIOTOTARD=?); reading ${r.block}-byte blocks` : `not reported; reading ${r.block}-byte blocks`)
    for (const w of r.warnings) out.push(`  warning: ${w}`)
    if (r.fatal) out.push(`  cannot upgrade: ${r.fatal}`)
    return out
}
