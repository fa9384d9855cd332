// Check an MCUboot image in bounded memory, through an ImageReader, as MCUboot's
// bootutil_img_validate does for the parts that need no key:
//
//   1. the 32-byte header: magic, header size, flags we can check, sizes against the slot;
//   2. the TLV layout (a few 4-byte reads after the body): the protected info agrees with the
//      header, the plain info has its magic, every entry stays inside its area, the image's bytes
//      reach the end of the TLV area;
//   3. the TLV rules: exactly one SHA-256 TLV of 32 bytes, in the plain area; at most one security
//      counter, in the protected area; fixed-length types have their length. Steps 1-3 come before
//      the hash, so a malformed image fails in a few reads, not after hashing a whole slot;
//   4. SHA-256 over header + body + protected TLVs, read `chunk` bytes at a time and hashed with
//      src/verify's streaming SHA-256 in 256-byte steps, with a real sleep every `budget` bytes,
//      against the SHA-256 TLV. Measured in the VM (test/vm/image.vm.ts): a 512-byte budget
//      panicked (InfiniteLoop) when the caller had done some work since its last sleep; 256
//      bytes, the figure DigestSet's measurements also allow with MD5 beside it, does not.
//
// With `keys`, the image must also be signed (signature.ts): before the hash, one KEYHASH naming a
// trusted key, one ED25519 TLV, the security counter at least `minSecurityCounter`; after it, the
// signature over the SHA-256. Without keys, signature TLVs are listed, not verified, and the
// counter is compared only when `minSecurityCounter` is given. Memory: one chunk, the hash state
// and the TLV list (at most MAX_TLVS entries), whatever the image's size; with keys, the
// verification's ≈ 2 KB.

import { StepBudget, Yielder } from "../lib/step-budget"
import { bytesEqual, getU32, toHex } from "../lib/bytes"
import { Sha256 } from "../verify/sha256"
import { ImageError, hexNum } from "./errors"
import { IMAGE_HEADER_SIZE, ImageHeader, decodeHeader, hashedLength } from "./header"
import { ImageReader } from "./reader"
import { TrustedKey } from "./signature"
import { checkEd25519 } from "../crypto/ed25519"
import {
    TLV_ED25519,
    TLV_KEYHASH,
    TLV_SEC_CNT,
    TLV_SHA256,
    TLV_SHA384,
    TLV_SHA512,
    TlvEntry,
    onlyTlv,
    readImageBytes,
    readTlvLayout,
    tlvFixedLength,
    tlvName,
} from "./tlv"

export interface HashOptions {
    /** Bytes per read while hashing (default 256). */
    chunk?: number
    /** Bytes hashed between real sleeps (default 256: MD5 and SHA-256 together fit that in one 131 072-opcode slice, docs/ARCHITECTURE.md). */
    budget?: number
    /** How to yield between slices (default `ds.sleep(0)`); Node callers may pass a cheaper one. */
    yielder?: Yielder
}

export interface CheckOptions extends HashOptions {
    /** The slot's size: an image whose areas end past it is `too-large`. */
    maxSize?: number
    /** Keys the image must be signed with (one KEYHASH naming one of them, one ED25519 TLV): unsigned images are refused. */
    keys?: TrustedKey[]
    /** The lowest security counter accepted (an image without one counts as 0): lower is `counter-too-low`. */
    minSecurityCounter?: number
}

/** What the header and the TLV infos say, before any rule on the entries or the hash. */
export interface ImageLayout {
    header: ImageHeader
    /** Every TLV of both areas, protected ones first, each area in image order. */
    tlvs: TlvEntry[]
    /** Offset of the plain TLV info. */
    plainStart: number
    /** The image's length: the end of its TLV area (padding and trailer after it are not the image's). */
    size: number
}

export interface CheckedImage extends ImageLayout {
    /** SHA-256 over header + body + protected TLVs, equal to the SHA-256 TLV. */
    sha256: Buffer
    /** The protected SEC_CNT TLV's value, or -1 when there is none. */
    securityCounter: number
    /** Index of the trusted key whose signature verified; -1 when no keys were required. */
    signedBy: number
}

/** Steps 1 and 2: header and TLV layout, a few small reads. Throws ImageError. */
export async function readImageLayout(reader: ImageReader, maxSize?: number): Promise<ImageLayout> {
    const head = await readImageBytes(reader, 0, IMAGE_HEADER_SIZE, "header")
    const header = decodeHeader(head, maxSize)
    // the TLV layout's own object, completed (copying its fields costs bytecode)
    const layout = (await readTlvLayout(reader, header, maxSize)) as ImageLayout
    layout.header = header
    return layout
}

/** Step 4's hash: SHA-256 of the reader's bytes [0, length), in bounded memory and opcode slices. */
export async function hashImage(reader: ImageReader, length: number, opts?: HashOptions): Promise<Buffer> {
    const o = opts || {}
    const chunk = o.chunk || 256
    const sha = new Sha256()
    const budget = new StepBudget(o.budget || 256, o.yielder)
    let off = 0
    while (off < length) {
        const len = Math.min(chunk, length - off)
        const b = await readImageBytes(reader, off, len, "hashed bytes")
        for (let s = 0; s < len; s += 256) {
            const e = Math.min(len, s + 256)
            sha.update(b, s, e)
            await budget.spend(e - s)
        }
        off += len
    }
    return sha.digest()
}

/** Steps 1-4. Returns what the image holds; throws ImageError with a reason on anything wrong. */
export async function checkImage(reader: ImageReader, opts?: CheckOptions): Promise<CheckedImage> {
    const o = opts || {}
    const layout = await readImageLayout(reader, o.maxSize)
    const tlvs = layout.tlvs
    // Step 3 (written out here, its one caller: a function costs 16 B of descriptor): fixed
    // lengths, then one SHA-256 TLV outside the protected area (SHA-384 or SHA-512 alone is
    // unsupported-hash), at most one security counter, in the protected area (what the hash, and
    // so the signature, covers)
    let otherHash: TlvEntry = null
    for (const t of tlvs) {
        const fixed = tlvFixedLength(t.type)
        if (fixed >= 0 && t.length !== fixed)
            throw new ImageError("bad-tlv-length", `${tlvName(t.type)} (${hexNum(t.type, 2)}) TLV of ${t.length} bytes, expected ${fixed}`)
        if (t.type === TLV_SHA384 || t.type === TLV_SHA512) otherHash = t
    }
    const hashTlv = onlyTlv(tlvs, TLV_SHA256, false, "SHA-256")
    if (!hashTlv)
        throw otherHash
            ? new ImageError("unsupported-hash", `a ${tlvName(otherHash.type)} TLV but no SHA-256 TLV (0x10): only SHA-256 images are checked`)
            : new ImageError("no-hash", "no SHA-256 TLV (0x10)")
    const cnt = onlyTlv(tlvs, TLV_SEC_CNT, true, "security counter")
    const securityCounter = cnt ? getU32(await readImageBytes(reader, cnt.offset, 4, "security counter"), 0) : -1
    // with keys, signature.ts's rule before the hash: one KEYHASH naming a trusted key and one
    // ED25519 TLV, both plain (neither can be covered by the hash; their lengths are checked above)
    const keys = o.keys
    let key = -1
    let sigTlv: TlvEntry = null
    if (keys) {
        const kh = onlyTlv(tlvs, TLV_KEYHASH, false, "KEYHASH")
        sigTlv = onlyTlv(tlvs, TLV_ED25519, false, "ED25519")
        if (!kh || !sigTlv) throw new ImageError("unsigned", `no ${kh ? "ED25519" : "KEYHASH"} TLV: the image is not signed with Ed25519`)
        const h = await readImageBytes(reader, kh.offset, 32, "KEYHASH")
        // a trusted key's hash is 32 bytes (a SHA-256), as h is
        for (let k = 0; k < keys.length && key < 0; k++) if (bytesEqual(keys[k].hash, h)) key = k
        if (key < 0) throw new ImageError("unknown-key", "the KEYHASH TLV names none of the trusted keys")
    }
    // after the signature TLVs and the key (an unsigned image is unsigned whatever its counter); none counts as 0
    const c = Math.max(securityCounter, 0)
    const min = o.minSecurityCounter || 0
    if (c < min) throw new ImageError("counter-too-low", `security counter ${c}, the device is at ${min}`)
    const expected = await readImageBytes(reader, hashTlv.offset, hashTlv.length, "SHA-256 TLV")
    const got = await hashImage(reader, hashedLength(layout.header), o)
    if (!bytesEqual(got, expected))
        throw new ImageError("hash-mismatch", `SHA-256 is ${toHex(got)}, the TLV says ${toHex(expected)}`)
    if (keys) {
        // after the hash: the ED25519 TLV verifies over it with the key the KEYHASH named
        const signature = await readImageBytes(reader, sigTlv.offset, 64, "ED25519")
        const v = await checkEd25519(keys[key].key, got, signature, o.yielder)
        if (!v.ok) throw new ImageError("bad-signature", `the ED25519 TLV does not verify (${v.reason})`)
    }
    // the layout's own object, completed (copying its fields costs bytecode)
    const r = layout as CheckedImage
    r.sha256 = got
    r.securityCounter = securityCounter
    r.signedBy = key
    return r
}
