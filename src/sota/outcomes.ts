// The last-outcome record per component (issue 20), plugged into SotaConfig.outcomes: how each
// attempt ended goes into the component's store (the OUTCOME metadata record, survives rollbacks
// and reboots) and to the platform over QuecThing's transparent data channel:
//   AT+QIOTSEND=1,<n>,"SOTA1 <component> <from> <to> <result> <reason> <when>"
// (an empty field is "-"; <result> IoTDA's code, outcome.ts; <when> seconds since 1970 from the
// module's clock, 0 when it has none). The record is marked reported on +QIOTEVT: 4,10200; a
// 4,10300, no event, or an ERROR leaves it unreported and the next start-up sends it again.
// "pending" is written when a plan is accepted (write-ahead: what ran before it) and never sent:
// the confirm after the reboot turns it into the success, a rollback into the failure.

import { AtError } from "../at/errors"
import { StoreError, UpgradeStore } from "../flash/store-port"
import { QiotEvent } from "../qiot/events"
import { moduleTime } from "./clock"
import { orDefault } from "./config"
import { SotaDeps } from "./deps"
import { decodeOutcome, encodeOutcome, resultOf } from "./outcome"
import { OutcomeLog } from "./plan-ports"
import { whyReason } from "./reasons"

export const PENDING = "pending"

function isSendResult(e: QiotEvent) {
    return e.type === 4 && (e.code === 10200 || e.code === 10300)
}

/** A field of the report: "-" when empty, and nothing that would end the quoted argument. */
function word(s: string): string {
    if (s.length === 0) return "-"
    let o = ""
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        o += c <= 0x20 || c > 0x7e || c === 34 ? "?" : s.charAt(i)
    }
    return o
}

export class OutcomeReporter implements OutcomeLog {
    async ended(d: SotaDeps, store: UpgradeStore, component: string, from: string, to: string, reason: string) {
        const k = store.outcomes
        if (!k) return // a store that keeps no outcome record (StoreOptions.outcomes)
        const last = decodeOutcome(k.last())
        const pending = last && last.reason === PENDING && last.to === to
        if (pending && reason === PENDING && last.from === from) return // a resumed plan's, already written
        if (pending && from === "") from = last.from
        const t = await moduleTime(d.at)
        try {
            await k.keep(encodeOutcome({ from, to, result: reason === PENDING ? 255 : resultOf(reason), reason, when: t.now }), false)
        } catch (err) {
            if (!(err instanceof StoreError)) throw err // a power cut
            return // a worn metadata sector: the outcome is lost, not the upgrade
        }
        if (reason !== PENDING) await this.send(d, store, component, "")
    }

    async started(d: SotaDeps, why: number, failed: string, confirmed: boolean) {
        const c = d.cfg.component
        const running = d.running
        if (confirmed) await this.ended(d, d.store, c, "", running, "")
        else if (why) await this.ended(d, d.store, c, running, failed, whyReason(why))
        else await this.send(d, d.store, c, running)
        // every data component's outcome not told yet (a walk that a reboot interrupted)
        const comps = d.cfg.components
        if (comps) for (let i = 0; i < comps.list.length; i++) await this.send(d, comps.list[i].store, comps.list[i].name, comps.versionOf(comps.list[i].name))
    }

    async send(d: SotaDeps, store: UpgradeStore, component: string, running: string) {
        const k = store.outcomes
        if (!k) return
        const b = k.last()
        const o = decodeOutcome(b)
        // a pending plan whose target runs: a cut fell between its confirm and its outcome
        if (o && o.reason === PENDING && o.to === running) return await this.ended(d, store, component, o.from, running, "")
        if (!o || o.reason === PENDING || k.told()) return
        const text = `SOTA1 ${word(component)} ${word(o.from)} ${word(o.to)} ${o.result} ${word(o.reason)} ${o.when}`
        try {
            d.inbox.discard(isSendResult)
            await d.at.command(`AT+QIOTSEND=1,${text.length},"${text}"`)
            const e = await d.inbox.next(isSendResult, orDefault(d.cfg.resultTimeoutMs, 10000))
            if (e && e.code === 10200) await k.keep(b, true)
        } catch (err) {
            if (!(err instanceof AtError) && !(err instanceof StoreError)) throw err
        }
    }
}
