// Why an upgrade did not happen or did not finish: one typed code per cause, in the spirit of
// the platforms' failure vocabularies (Golioth's reasons, Huawei IoTDA's device-side causes).

import { AtError } from "../at/errors"
import { BadWhy, StoreError } from "../flash/store-port"
import { errText } from "../lib/err-text"

export type SotaReason =
    // refused by policy, before anything was downloaded
    | "not-our-component"
    | "same-version"
    | "wrong-source-version" // a delta plan for another version than the one running
    | "base-mismatch" // a delta, and the running image (its base) fails its own checks (SHA-256 TLV): found before anything is written
    | "unsupported-package" // a delta and no applier (SotaConfig.rebuilder), or a patch it cannot apply: another detools type or compression (lzma, in-place, ...), a window above the limit
    | "downgrade"
    | "low-battery"
    | "weak-signal"
    | "too-large" // the package does not fit a slot
    | "failed-before" // the same package (version and size) failed its self-test here; refused until another is offered
    | "busy" // a module firmware upgrade (DFOTA) is in progress
    | "deferred" // the application said later (SotaConfig.consent), or outside the download windows: the platform pushes it again
    | "declined" // the application said never (SotaConfig.consent)
    | "bad-plan" // the 10700/10701/10703 event is malformed or inconsistent (or SHA-256 asked for and not sent)
    // during the download
    | "module-error" // ERROR / +CME ERROR from the module, after retries
    | "timeout" // an expected event or reply never came, after retries
    | "connection-lost" // the line or the module went away and did not come back
    | "platform-failed" // the platform ended the plan (+QIOTEVT: 7,10706)
    | "flash-error" // the image store failed (worn sector, out of range, ...)
    | "bad-patch" // a delta or compressed package the applier refuses: truncated, malformed, reading outside the old image, data after its end
    // verification
    | "md5-mismatch"
    | "sha256-mismatch"
    | "crc-mismatch" // the 10701 CRC field, only when the engine is configured to check it
    | "flash-mismatch" // the slot's bytes differ from the bytes received
    // the image's signature and security counter (SotaConfig.signatures), before the slot is marked ready
    | "unsigned" // signatures are required and the image has no KEYHASH or ED25519 TLV
    | "unknown-key" // its KEYHASH names none of the compiled-in keys
    | "bad-signature" // its ED25519 TLV does not verify over its SHA-256
    | "counter-too-low" // its security counter is below the store's (anti-rollback)
    // after the reboot
    | "self-test-failed" // the new image was rolled back
    | "rolled-back" // the new image was not confirmed in time and the store rolled it back
    | "bad-image" // the image's own check failed (format, SHA-256 TLV, version, not a program): at the boot stage, or a rebuilt image before it is marked ready
    | "version-mismatch" // the program that ran is not the version the store recorded for it
    | "registration-failed"

export class SotaError extends Error {
    reason: SotaReason
    /** The message is `reason: message`, said once: a SotaError's message passed on in another of the same reason is not prefixed again. */
    constructor(reason: SotaReason, message: string) {
        super(message.startsWith(reason + ": ") ? message : `${reason}: ${message}`)
        this.name = "SotaError"
        this.reason = reason
    }
}

/**
 * A store failure (the port's StoreError, a FlashError included) becomes a SOTA reason: the
 * store's own refusals keep their names, anything else is "flash-error". Anything that is not a
 * store failure (a power cut in the simulator) is returned as it is, to be rethrown.
 */
export function storeFailure(err: any): any {
    if (!(err instanceof StoreError)) return err
    const r = err.reason
    return new SotaError(r === "downgrade" ? "downgrade" : r === "too-large" ? "too-large" : "flash-error", errText(err))
}

/** The reason an error carries, or null when it is not ours (a power cut, the platform's reboot unwinding). */
export function reasonOf(err: any): SotaReason {
    if (err instanceof SotaError) return err.reason
    if (err instanceof AtError) {
        if (err.reason === "timeout") return "timeout"
        if (err.reason === "link-lost" || err.reason === "module-reboot" || err.reason === "no-sync") return "connection-lost"
        return "module-error"
    }
    if (err instanceof StoreError) return (storeFailure(err) as SotaError).reason
    return null
}

/** Why the store kept a slot bad (BadWhy), as the reason the agent reports. */
export function whyReason(why: number): SotaReason {
    if (why === BadWhy.SelfTest) return "self-test-failed"
    if (why === BadWhy.ImageCheck) return "bad-image"
    if (why === BadWhy.Crc) return "flash-mismatch"
    if (why === BadWhy.VersionMismatch) return "version-mismatch"
    return "rolled-back"
}
