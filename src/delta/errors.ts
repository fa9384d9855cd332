// Typed failures of a delta apply. Like ImageError and StoreError, every error carries a
// machine-readable `reason`, so the SOTA engine can map a refused patch onto a recorded outcome
// without parsing text. Errors of the caller's reader and sink (a FlashError, a link failure) are
// not wrapped: they pass through as they were thrown.

export type DeltaReason =
    | "truncated" // the patch ended (finish) before its data did: header, a size, a chunk, or the end
    | "bad-header" // the first byte is no detools header (padding bit set), or a heatshrink header heatshrink refuses
    | "unsupported" // a detools patch this applier does not take: in-place or hdiffpatch type, a compression other than none or heatshrink, a data-format section, a window above the limit
    | "bad-size" // a size field that lies: negative where a count is due, or longer than any size can be
    | "diff-too-long" // a diff count that runs past the target size the header announced
    | "extra-too-long" // an extra count that runs past the target size
    | "from-out-of-range" // a diff that reads the old image before its start or past its end
    | "too-large" // the target size is above the caller's maximum (the slot)
    | "trailing-data" // bytes after the end of the patch's data
    | "bad-checkpoint" // a checkpoint that does not decode, fails its CRC, or needs a reader the caller did not give
    | "read-failed" // the old (or new) image reader returned fewer bytes than asked
    | "closed" // feed or finish after the apply failed or finished

export class DeltaError extends Error {
    reason: DeltaReason
    constructor(reason: DeltaReason, message: string) {
        super(`delta: ${reason}: ${message}`)
        this.name = "DeltaError"
        this.reason = reason
    }
}
