// The signature rule of a signed MCUboot image (bootutil_img_validate with an Ed25519 key): the
// plain TLV area holds exactly one KEYHASH (0x01, the SHA-256 of the key's DER SubjectPublicKeyInfo,
// as imgtool writes it) naming one of the device's trusted keys, and exactly one ED25519 (0x24)
// signature of the image's SHA-256 (the 32-byte digest, MCUboot's default, not the whole image).
// Both are outside what the hash covers, so both must be in the plain area, never the protected
// one. The security counter (SEC_CNT 0x50, protected) is check.ts's: compared right after these
// TLVs and the key, for signed and unsigned checks alike (an image without one counts as 0).
//
// Split in two so a refusal costs no hashing: `signatureTlvs` (before the hash: which TLVs, which
// key) here, and the Ed25519 verification after it in check.ts's checkImage (its one caller: a
// function costs 16 B of descriptor). Memory: the 32-byte digest, the 64-byte signature and the
// key; the verification's own ≈ 2 KB (src/crypto).

import { ImageError } from "./errors"
import { TLV_ED25519, TLV_KEYHASH, TlvEntry, onlyTlv, readImageBytes } from "./tlv"
import { ImageReader } from "./reader"

/** A key the device trusts: the raw 32-byte Ed25519 public key and its KEYHASH (SHA-256 of its SPKI DER). */
export interface TrustedKey {
    key: Buffer
    hash: Buffer
}

/** Where an image's signature TLVs are, and which trusted key the KEYHASH names. */
export interface SignatureTlvs {
    /** Index into the trusted keys. */
    key: number
    /** The ED25519 TLV. */
    sig: TlvEntry
}

/**
 * Before the hash: one KEYHASH naming a trusted key and one ED25519 TLV, both plain (lengths are
 * checkTlvRules'; the security counter is compared by checkImage next). Throws ImageError.
 */
export async function signatureTlvs(reader: ImageReader, tlvs: TlvEntry[], keys: TrustedKey[]): Promise<SignatureTlvs> {
    // one of each, both outside the protected area (neither can be covered by the hash)
    const kh = onlyTlv(tlvs, TLV_KEYHASH, false, "KEYHASH")
    const sig = onlyTlv(tlvs, TLV_ED25519, false, "ED25519")
    if (!kh || !sig) throw new ImageError("unsigned", `no ${kh ? "ED25519" : "KEYHASH"} TLV: the image is not signed with Ed25519`)
    const h = await readImageBytes(reader, kh.offset, 32, "KEYHASH")
    let key = -1
    for (let k = 0; k < keys.length && key < 0; k++) {
        let i = 0
        while (i < 32 && keys[k].hash[i] === h[i]) i++
        if (i === 32) key = k
    }
    if (key < 0) throw new ImageError("unknown-key", "the KEYHASH TLV names none of the trusted keys")
    return { key: key, sig: sig }
}

