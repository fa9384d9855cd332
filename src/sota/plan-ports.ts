// The optional ports of issue 20 (several components, consent, outcomes), as the engine sees
// them: interfaces only, so that a program that plugs none of them in compiles none of their
// code (the SignedImages pattern, image-verifier.ts). Implementations: components.ts,
// consent-gate.ts, outcomes.ts; docs/ARCHITECTURE.md "Components, consent and outcomes".

import { UpgradeStore } from "../flash/store-port"
import { OtaOffer } from "../qiot/events"
import { SotaDeps } from "./deps"
import { SotaReason } from "./reasons"

/** A component besides the program (SotaConfig.component): data or configuration in a store of its own. */
export interface DataComponent {
    /** The name the platform's plans use (AT+QIOTMCUVER's first argument). */
    name: string
    /** Its own ImageStore on the same flash (its own slots and metadata sectors). */
    store: UpgradeStore
    /**
     * The application's check of a received data image in the ready slot (`slot`), before it is
     * activated (confirmed at once: data needs no reboot). False: the slot is marked bad
     * (self-test-failed) and the old data stays active. Default: accepted.
     */
    check?: (slot: number) => Promise<boolean>
}

/** The data components (components.ts's Components), as the engine walks them. */
export interface ComponentSet {
    readonly list: DataComponent[]
    /** The data component a plan names, or null. */
    named(name: string): DataComponent
    /** Its running version ("" before its first image). */
    versionOf(name: string): string
    /** A data receive that was never activated (its plan may still be open in the module); `started`: one the module had started (10701's digests held, or verified). */
    interrupted(started: boolean): boolean
    /** Start-up, after the program's version report: mount and boot every store, AT+QIOTMCUVER for each. */
    bootAll(d: SotaDeps): Promise<void>
    /** After its 10704: the application's check, activation (confirmed), the version report and the platform's verdict. */
    apply(d: SotaDeps, c: DataComponent, target: string): Promise<void>
}

/** The application's say on an accepted plan, and its windows (consent-gate.ts). */
export interface PlanGate {
    /**
     * Null: go ahead now. Otherwise the plan is refused (AT+QIOTUPDATE=0) with the verdict's reason
     * (deferred, declined) and, when `againMs` ≥ 0, the agent asks for a plan again that much later.
     */
    decide(d: SotaDeps, offer: OtaOffer, running: string): Promise<GateVerdict>
    /**
     * After a program's 10704 (verified; the module waits for the new version): returns when the
     * image may be activated (an activation window opens, or the application says so). The agent
     * waits in the plan meanwhile, so it asks for no plan (a request would end the module's).
     */
    activation(d: SotaDeps, target: string): Promise<void>
}

export interface GateVerdict {
    reason: SotaReason
    detail: string
    /** Ask again after this many ms (a "later until T"); -1: wait for the platform's push. */
    againMs: number
}

/** The last-outcome record per component (outcomes.ts): kept in the component's store, told to the platform. */
export interface OutcomeLog {
    /**
     * An attempt of `component` ended: record it in `store` and tell the platform (reason "" is
     * success; "pending" is recorded before activation and not told). `from` "": the pending
     * record's own (what ran before the image that has just been confirmed).
     */
    ended(d: SotaDeps, store: UpgradeStore, component: string, from: string, to: string, reason: string): Promise<void>
    /**
     * Start-up, after the version reports: a confirmed trial is its pending plan's success, a failure
     * the program's store kept (boot's `why`, the `failed` version) its failure; every component's
     * outcome not told yet is sent again.
     */
    started(d: SotaDeps, why: number, failed: string, confirmed: boolean): Promise<void>
}
