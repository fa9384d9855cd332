// The boot decision as one pure function over the decoded metadata: state in, action out. It is
// the piece a boot stage outside the VM (the simulator's host, the C stage on a board) ports, so
// it reads no flash and writes none: the caller checks the chosen slot's image when it wants to,
// and asks again with that slot marked bad when the check fails.
//
//   - a trial slot that used its boots without a confirm is marked bad and the confirmed slot
//     becomes active again (rollback);
//   - an active slot that cannot boot (none chosen, receiving, ready, bad) gives way to the
//     confirmed one;
//   - a trial boot is spent before the image runs;
//   - nothing to change (a confirmed active slot): `changed` is false and nothing is written;
//   - a decision the metadata cannot take (a worn-out sector: unrecordedBoot) runs the confirmed
//     slot, which needs no record, and spends no trial boot: a trial image runs unrecorded only
//     when there is no confirmed one to run, so a crashing trial cannot loop without a rollback.

import { BadWhy } from "./store-port"
import { cloneState, SlotInfo, StoreState } from "./store-records"

export interface BootDecision {
    /** The slot to run; -1 when nothing is bootable. */
    slot: number
    /** The state to commit before running it (when `changed`). */
    next: StoreState
    changed: boolean
    /** A trial (or a slot that failed its check) was abandoned for the confirmed slot. */
    rolledBack: boolean
    /** The slot runs on trial (it must confirm itself). */
    trial: boolean
    /** Why nothing is bootable ("" when a slot was chosen). */
    why: string
}

/** `s` becomes bad for `why`, news until reported. */
export function markBadSlot(s: SlotInfo, why: number) {
    s.state = "bad"
    s.why = why
    s.unreported = true
}

export function confirmedSlot(st: StoreState): number {
    if (st.slots[0].state === "confirmed") return 0
    if (st.slots[1].state === "confirmed") return 1
    return -1
}

/**
 * Which slot boots from `st`. `failed`: a slot the caller found failing its image check (its
 * CRC, or its image's hash) in an earlier call on the same state: it becomes bad and the
 * confirmed slot runs instead (-1: none).
 */
export function decideBoot(st: StoreState, failed: number): BootDecision {
    const next = cloneState(st)
    const d: BootDecision = { slot: -1, next, changed: false, rolledBack: false, trial: false, why: "" }
    let cand = next.active
    if (failed >= 0) {
        markBadSlot(next.slots[failed], BadWhy.ImageCheck)
        d.changed = true
        d.rolledBack = true
        if (failed !== cand) cand = -1
    } else if (cand >= 0 && next.slots[cand].state === "trial" && next.slots[cand].bootsLeft === 0) {
        if (next.slots[1 - cand].state === "confirmed") {
            markBadSlot(next.slots[cand], BadWhy.NotConfirmed)
            d.changed = true
            d.rolledBack = true
        }
    }
    // bootable: trial or confirmed (written out: a function costs a 16 B descriptor)
    const cs = cand < 0 ? "empty" : next.slots[cand].state
    if (cs !== "trial" && cs !== "confirmed") {
        const other = cand < 0 ? confirmedSlot(next) : 1 - cand
        if (other < 0 || next.slots[other].state !== "confirmed" || other === failed) {
            d.why = failed >= 0 ? `slot ${failed} fails its check and there is no fallback` : "no bootable slot"
            return d
        }
        next.active = other
        cand = other
        d.changed = true
    }
    const s = next.slots[cand]
    if (s.state === "trial" && s.bootsLeft > 0) {
        s.bootsLeft--
        d.changed = true
    }
    d.slot = cand
    d.trial = s.state === "trial"
    return d
}

/**
 * The boot when decision `d` (made from `st`) could not be recorded: nothing is written, so the
 * state in force stays `st`. The confirmed slot runs (in `d.next`, so a slot found failing its
 * check is not it), unless it is `avoid` (it failed its own check); without one, the slot the
 * decision chose, as `st` has it.
 */
export function unrecordedBoot(st: StoreState, d: BootDecision, avoid: number): BootDecision {
    const c = confirmedSlot(d.next)
    const slot = c >= 0 && c !== avoid ? c : d.slot
    const trial = st.slots[slot].state === "trial"
    return { slot: slot, next: st, changed: false, rolledBack: d.rolledBack || slot !== d.slot, trial: trial, why: "" }
}
