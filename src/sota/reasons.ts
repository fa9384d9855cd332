// Why an upgrade did not happen or did not finish: one typed code per cause, in the spirit of
// the platforms' failure vocabularies (Golioth's reasons, Huawei IoTDA's device-side causes).

export type SotaReason =
    // refused by policy, before anything was downloaded
    | "not-our-component"
    | "same-version"
    | "wrong-source-version" // a delta plan for another version than the one running
    | "downgrade"
    | "low-battery"
    | "weak-signal"
    | "too-large" // the package does not fit a slot
    | "busy" // a module firmware upgrade (DFOTA) is in progress
    | "bad-plan" // the 10700/10701/10703 event is malformed or inconsistent
    // during the download
    | "module-error" // ERROR / +CME ERROR from the module, after retries
    | "timeout" // an expected event or reply never came, after retries
    | "connection-lost" // the line or the module went away and did not come back
    | "platform-failed" // the platform ended the plan (+QIOTEVT: 7,10706)
    | "flash-error" // the image store failed (worn sector, out of range, ...)
    // verification
    | "md5-mismatch"
    | "sha256-mismatch"
    | "crc-mismatch" // the 10701 CRC field, only when the engine is configured to check it
    | "flash-mismatch" // the slot's bytes differ from the bytes received
    // after the reboot
    | "self-test-failed" // the new image was rolled back
    | "rolled-back" // the new image was not confirmed in time and the store rolled it back
    | "registration-failed"

export class SotaError extends Error {
    reason: SotaReason
    constructor(reason: SotaReason, message: string) {
        super(`${reason}: ${message}`)
        this.name = "SotaError"
        this.reason = reason
    }
}
