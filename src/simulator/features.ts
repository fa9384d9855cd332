// What the simulator firmware (firmware.ts) takes from its profile (profiles/*.ts); types only,
// portable, so tsc checks the profiles too.
import { Rebuilder } from "../sota/rebuilder"
import { ImageVerifier } from "../sota/image-verifier"

/**
 * What a firmware profile (profiles/*.ts) plugs into the agent. Each profile module imports only
 * the ports it passes, so an image compiles only its own profile's code: one DeviceScript image
 * holds less than 65 424 B of function bytecode, and the signature check (≈ 8.7 KB) and the delta
 * rebuilder (≈ 5.8 KB) do not both fit beside the rest.
 */
export interface FirmwareFeatures {
    /** the profile's name, printed in SOTA-BOOT: "signed", "delta" */
    profile: string
    rebuilder?: Rebuilder
    signatures?: ImageVerifier
}

