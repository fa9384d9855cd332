// Typed failures of the image format. Like AtError and StoreError, every error carries a
// machine-readable `reason`, so the store, the boot stage and the SOTA engine can map a bad image
// onto a recorded outcome without parsing text.

export type ImageReason =
    | "bad-magic" // the first word is not MCUboot's image magic 0x96f3b83d
    | "bad-header-size" // ih_hdr_size below the 32-byte header
    | "unsupported-flags" // encrypted, compressed or unknown flags: the slot's bytes are not what we can check
    | "too-large" // the areas the header and TLV infos announce do not fit the slot (MCUboot: boot_check_header_valid)
    | "truncated" // the image's bytes end before the sizes in its header and TLV infos say they do
    | "bad-tlv-magic" // where a TLV info belongs there is neither 0x6907 nor 0x6908
    | "bad-protected-size" // ih_protect_tlv_size disagrees with the protected TLV area
    | "bad-tlv" // a TLV info total below 4, an entry that runs past the end of its area, too many entries
    | "bad-tlv-length" // a TLV whose length its type fixes (SHA-256 32, security counter 4, …) has another
    | "misplaced-tlv" // a TLV in the wrong area (the security counter must be protected; the hash, KEYHASH and signature must not be)
    | "duplicate-tlv" // a second SHA-256, security-counter, KEYHASH or ED25519 TLV
    | "no-hash" // no SHA-256 TLV: MCUboot refuses such an image
    | "unsupported-hash" // only a SHA-384 or SHA-512 TLV: this checker hashes with SHA-256
    | "hash-mismatch" // the SHA-256 TLV does not match header + body + protected TLVs
    | "bad-version" // a version string that does not map onto major.minor.revision+build
    | "bad-argument" // a builder option out of range (header size, TLV type or size, pad-to, …)
    | "unsigned" // keys are required and the image has no KEYHASH or no ED25519 TLV
    | "unknown-key" // the KEYHASH TLV names none of the trusted keys
    | "bad-signature" // the ED25519 TLV does not verify over the image's SHA-256 with the named key
    | "counter-too-low" // the security counter (0 without one) is below the device's
    | "read-failed" // the reader threw (flash error, file error); the message says what it said

export class ImageError extends Error {
    reason: ImageReason
    /** What is wrong, without the "image: <reason>: " the message starts with. */
    detail: string
    constructor(reason: ImageReason, message: string) {
        super(`image: ${reason}: ${message}`)
        this.name = "ImageError"
        this.reason = reason
        this.detail = message
    }
}

/** `0x`-prefixed lower-case hex of a non-negative integer, at least `digits` digits (no toString(16) in DeviceScript). */
export function hexNum(n: number, digits: number): string {
    const H = "0123456789abcdef"
    let s = ""
    let v = n
    for (let i = 0; i < digits || v > 0; i++) {
        const q = Math.floor(v / 16)
        s = H[v - q * 16] + s
        v = q
    }
    return "0x" + s
}

/** The i-th word of a space-separated table (`""` past its end or between two spaces): tables in one string, and no split() in the image. */
export function nthWord(s: string, i: number): string {
    let a = 0
    for (let k = 0; k < i; k++) {
        a = s.indexOf(" ", a) + 1
        if (a === 0) return ""
    }
    const e = s.indexOf(" ", a)
    return s.slice(a, e < 0 ? s.length : e)
}
