// Which package failed for good on this device: read from the store's own state, so that it needs
// no flash of its own and survives every reboot. A slot whose image failed its self-test
// (reject()), the boot stage's image check or its program's version check is "bad" with that why
// in its STATE record, and it keeps its version and size until the next receive reuses the slot.
// So the memory holds one package, bounded by construction, and is forgotten only when a different
// package is downloaded (an agent refuses the same one: src/sota/policy.ts). A trial rolled back
// because it never confirmed is not remembered: power cuts during the trial boots look the same,
// and the package must then be tried again.

import { BadWhy, ImagePlan } from "./store-port"
import { StoreState } from "./store-records"

/** The package in the slot that is not `running` when it failed for good, else null. */
export function failedTrial(st: StoreState, running: number): ImagePlan {
    if (running < 0) return null
    const s = st.slots[1 - running]
    const w = s.why
    if (s.state !== "bad" || !(w === BadWhy.SelfTest || w === BadWhy.ImageCheck || w === BadWhy.VersionMismatch)) return null
    return { version: s.version, size: s.size }
}
