// The application's consent and the download windows (issue 20), plugged into SotaConfig.consent:
// asked after the policy accepts a plan. A ConsentHook (consent.ts) says now, later (until T) or
// never; outside every download window the plan is "later until the next opening". Later and
// never refuse the plan on the wire (QuecThing has no "defer": the platform pushes it again after
// its rejection period); "later until T" also asks for a plan by itself at T. Nothing is persisted
// for a deferral: after a reboot the hook is asked again.

import * as ds from "@devicescript/core"
import { Signal } from "../lib/signal"
import { OtaOffer } from "../qiot/events"
import { moduleTime, ModuleTime } from "./clock"
import { ConsentHook, ConsentKind, inWindow, MaintenanceWindows, nextOpening } from "./consent"
import { SotaDeps } from "./deps"
import { GateVerdict, PlanGate } from "./plan-ports"

export class ConsentGate implements PlanGate {
    hook: ConsentHook
    windows: MaintenanceWindows
    /** The application activates a verified image itself (activate()): download now, reboot later. */
    byApplication: boolean
    private released = false
    private signal = new Signal()
    /**
     * `hook`: the application's say (none: now); `windows`: when downloads may start and when a
     * verified image may be activated (none: any time); `byApplication`: activation waits for the
     * application's activate().
     */
    constructor(hook?: ConsentHook, windows?: MaintenanceWindows, byApplication?: boolean) {
        this.hook = hook || null
        this.windows = windows || null
        this.byApplication = !!byApplication
    }

    /** The application's moment: the verified image the agent holds is activated now (and the MCU reboots into it). */
    activate() {
        this.released = true
        this.signal.notify()
    }

    async activation(d: SotaDeps, target: string) {
        const w = this.windows
        let ms = 0
        if (w && w.activate.length > 0) {
            const t = await moduleTime(d.at)
            // no network time: the window cannot hold the image back
            if (t.now > 0) ms = (nextOpening(w.activate, t.now, w.utcOffset) - t.now) * 1000
        }
        if (!ms && !this.byApplication) return
        d.progress("ready", target, 0, 0)
        if (this.byApplication) while (!this.released) await this.signal.wait()
        else await ds.sleep(ms)
        this.released = false
    }

    async decide(d: SotaDeps, offer: OtaOffer, running: string): Promise<GateVerdict> {
        let t: ModuleTime = null
        const w = this.windows
        if (w && w.download.length > 0) {
            t = await moduleTime(d.at)
            // a module without network time cannot tell: the window does not hold the plan back
            if (t.now > 0 && !inWindow(w.download, t.now, w.utcOffset)) {
                const at = nextOpening(w.download, t.now, w.utcOffset)
                return { reason: "deferred", detail: `outside the download windows until ${at}`, againMs: (at - t.now) * 1000 }
            }
        }
        if (!this.hook) return null
        const c = await this.hook({
            component: offer.component,
            from: running,
            to: offer.target,
            source: offer.source,
            size: offer.size,
            minBattery: offer.minBattery,
            minSignal: offer.minSignal,
        })
        if (!c || c.kind === ConsentKind.Now) return null
        if (c.kind !== ConsentKind.Later) return { reason: "declined", detail: c.reason || "declined", againMs: -1 }
        let again = -1
        if (c.until > 0) {
            if (!t) t = await moduleTime(d.at)
            if (t.now > 0) again = Math.max(0, c.until - t.now) * 1000
        }
        return { reason: "deferred", detail: c.reason || "deferred", againMs: again }
    }
}
