// The signature rule of a signed MCUboot image (bootutil_img_validate with an Ed25519 key): the
// plain TLV area holds exactly one KEYHASH (0x01, the SHA-256 of the key's DER SubjectPublicKeyInfo,
// as imgtool writes it) naming one of the device's trusted keys, and exactly one ED25519 (0x24)
// signature of the image's SHA-256 (the 32-byte digest, MCUboot's default, not the whole image).
// Both are outside what the hash covers, so both must be in the plain area, never the protected
// one. The security counter (SEC_CNT 0x50, protected) is check.ts's: compared right after these
// TLVs and the key, for signed and unsigned checks alike (an image without one counts as 0).
//
// checkImage (check.ts) applies the rule in two parts, so a refusal costs no hashing: before the
// hash, which TLVs and which key; after it, the Ed25519 verification (both written out there, its
// only caller: each function costs 16 B of descriptor against the VM's bytecode limit). Memory: the
// 32-byte digest, the 64-byte signature and the key; the verification's own ≈ 2 KB (src/crypto).

/** A key the device trusts: the raw 32-byte Ed25519 public key and its KEYHASH (SHA-256 of its SPKI DER). */
export interface TrustedKey {
    key: Buffer
    hash: Buffer
}
