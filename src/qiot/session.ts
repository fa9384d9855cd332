// The QuecThing session both upgrades stand on: a module that answers, echo off, and a platform
// connection that is subscribed (AT+QIOTSTATE? = 8, or the 1/2/3 events of AT+QIOTREG=1 ending
// in 3,10200). Plain functions over the AT client and an inbox: they hold no state.

import * as ds from "@devicescript/core"
import { AtClient } from "../at/client"
import { AtError } from "../at/errors"
import { qiotState } from "./commands"
import { EVT_AUTH, EVT_SUBSCRIBE, OK_CODE, QiotEvent, QiotState } from "./events"
import { EventInbox } from "./inbox"
import { errText } from "../lib/err-text"

/** While registration events are awaited, the state is asked this often (a lost event must not stall). */
const STATE_POLL_MS = 5000

/** Types 1, 2, 3 (EVT_AUTH, EVT_ACCESS, EVT_SUBSCRIBE), as one range test. */
function isRegistration(e: QiotEvent) {
    return e.type >= EVT_AUTH && e.type <= EVT_SUBSCRIBE
}

/** Is the platform session up? AT errors propagate. */
export async function subscribed(at: AtClient): Promise<boolean> {
    return (await qiotState(at)) === QiotState.Subscribed
}

/**
 * Make sure the module is subscribed: nothing to do when it is, else AT+QIOTREG=1 and its
 * events until 3,10200. Returns "" when subscribed, else why not (an event's code, a timeout,
 * an AT failure). Events queued before the registration are dropped.
 */
export async function subscribe(at: AtClient, inbox: EventInbox, timeoutMs: number): Promise<string> {
    const deadline = ds.millis() + timeoutMs
    try {
        if (await subscribed(at)) return ""
        inbox.clear()
        await at.command("AT+QIOTREG=1") // connect now; the outcome arrives as +QIOTEVT 1/2/3 events
    } catch (err) {
        if (!(err instanceof AtError)) throw err
        return errText(err)
    }
    while (true) {
        const left = deadline - ds.millis()
        if (left <= 0) return `not subscribed within ${timeoutMs} ms`
        const e = await inbox.next(isRegistration, Math.min(left, STATE_POLL_MS))
        if (e) {
            if (e.code !== OK_CODE) return `+QIOTEVT: ${e.type},${e.code}`
            if (e.type === EVT_SUBSCRIBE) return ""
        } else if ((await subscribedIfKnown(at)) === true) return ""
    }
}

/** AT+QIOTSTATE? as an answer that may be missing: true, false, or null when the module did not say. */
async function subscribedIfKnown(at: AtClient): Promise<boolean> {
    try {
        return await subscribed(at)
    } catch (err) {
        if (!(err instanceof AtError)) throw err
        return null
    }
}

/** Did the module lose its platform session? False when it cannot tell (no answer). */
export async function sessionLost(at: AtClient): Promise<boolean> {
    return (await subscribedIfKnown(at)) === false
}

/**
 * Bring the module up, waiting for it while it restarts or the line is down: retried every
 * second until `restartTimeoutMs`. "" when up, else the last reason.
 */
export async function recover(at: AtClient, inbox: EventInbox, registerTimeoutMs: number, restartTimeoutMs: number): Promise<string> {
    const deadline = ds.millis() + restartTimeoutMs
    while (true) {
        let why = ""
        try {
            // bring up: resynchronise the link, echo off (ATE0), subscribe
            await at.resync()
            await at.command("ATE0")
            why = await subscribe(at, inbox, registerTimeoutMs)
            if (why === "") return ""
        } catch (err) {
            if (!(err instanceof AtError)) throw err
            why = errText(err)
        }
        if (ds.millis() >= deadline) return why
        await ds.sleep(1000)
    }
}
