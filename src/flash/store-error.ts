// Typed failures of the image store. Like AtError, every error carries a machine-readable
// `reason` for the SOTA engine to map onto QuecThing failure codes without parsing text.

export type StoreReason =
    | "no-image" // nothing bootable: no confirmed or trial slot
    | "bad-layout" // slots and metadata overlap, are unaligned or do not fit the device
    | "bad-state" // the operation does not apply to the slot's state (e.g. activate a receiving slot)
    | "trial-pending" // the running image is on trial: confirm or reject it before a new download
    | "reboot-required" // the running image was rejected or rolled back; boot again first
    | "downgrade" // the new version is lower than the running one and downgrades were not allowed
    | "too-large" // the image does not fit a slot, or a write goes past the announced size
    | "unaligned" // a write offset or length is not on the program unit (only the last write may be short)
    | "not-blank" // resuming mid-sector, but the flash after the offset is not erased
    | "digest-mismatch" // the received bytes do not match the expected CRC-32
    | "bad-argument" // a malformed version, digest or journal field

export class StoreError extends Error {
    reason: StoreReason
    constructor(reason: StoreReason, message: string) {
        super(`image store: ${reason}: ${message}`)
        this.name = "StoreError"
        this.reason = reason
    }
}
