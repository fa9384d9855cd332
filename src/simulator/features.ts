// What the simulator firmware (firmware.ts) takes from its profile (profiles/*.ts); types only,
// portable, so tsc checks the profiles too.
import { Rebuilder } from "../sota/rebuilder"
import { ImageVerifier } from "../sota/image-verifier"
import { Flash } from "../flash/flash"
import { RecordKeeper } from "../flash/store-port"
import { StoreLayout } from "../flash/store-config"
import { ComponentSet, OutcomeLog, PlanGate } from "../sota/plan-ports"
import { AtClient } from "../at/client"

/** Issue 20's ports and the program store's layout they leave (profiles/components.ts). */
export interface PlanPorts {
    /** the program's store (the data component's region is cut off the flash) */
    layout: StoreLayout
    /** the program store's outcome record (unset: none kept) */
    keeper?: RecordKeeper
    components?: ComponentSet
    outcomes?: OutcomeLog
    /** the application's consent (profiles/consent.ts); none: every accepted plan now */
    consent?: PlanGate
}

/**
 * What a firmware profile (profiles/*.ts) plugs into the agent. Each profile module imports only
 * the ports it passes, so an image compiles only its own profile's code: one DeviceScript image
 * holds less than 65 424 B of function bytecode, and the signature check (≈ 8.7 KB) and the delta
 * rebuilder (≈ 5.8 KB) do not both fit beside the rest.
 */
export interface FirmwareFeatures {
    /** the profile's name, printed in SOTA-BOOT: "signed", "delta", "components", "consent" */
    profile: string
    rebuilder?: Rebuilder
    signatures?: ImageVerifier
    /** components and outcomes, wired on the mounted flash (none: the program alone, the whole flash) */
    plan?: (flash: Flash, at: AtClient) => PlanPorts
}

