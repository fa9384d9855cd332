// Ed25519 public keys as MCUboot and imgtool handle them. imgtool writes a public key as PEM of the
// DER SubjectPublicKeyInfo (this 12-byte prefix, then the 32-byte key), and the KEYHASH TLV (0x01)
// of a signed image is the SHA-256 of that DER: so a device that holds several keys (rotation)
// picks the one whose hash the image names, then checks the ED25519 TLV (0x24) with it.
import { hex } from "../lib/hex"
import { Sha256 } from "../verify/sha256"

/** The DER SubjectPublicKeyInfo of an Ed25519 key, up to the key itself (RFC 8410). */
const SPKI_PREFIX = hex`302a300506032b6570032100`

/** The 44-byte DER SubjectPublicKeyInfo of a 32-byte public key. */
export function spkiOf(publicKey: Buffer): Buffer {
    const der = Buffer.alloc(44)
    der.set(SPKI_PREFIX, 0)
    der.set(publicKey, 12)
    return der
}

/** The 32-byte key inside a DER SubjectPublicKeyInfo, or null when it is not an Ed25519 key. */
export function publicKeyFromSpki(der: Buffer): Buffer {
    if (der.length !== 44) return null
    for (let i = 0; i < 12; i++) if (der[i] !== SPKI_PREFIX[i]) return null
    return der.slice(12, 44)
}

/** MCUboot's KEYHASH of a public key: SHA-256 of its DER SubjectPublicKeyInfo (imgtool's default). */
export function keyHash(publicKey: Buffer): Buffer {
    const h = new Sha256()
    const der = spkiOf(publicKey)
    h.update(der, 0, der.length)
    return h.digest()
}

/** The key among `keys` whose KEYHASH is hash[off..off+32), or null: a TLV names the key it was signed with. */
export function keyForHash(keys: Buffer[], hash: Buffer, off: number): Buffer {
    for (let k = 0; k < keys.length; k++) {
        const h = keyHash(keys[k])
        let i = 0
        while (i < 32 && h[i] === hash[off + i]) i++
        if (i === 32) return keys[k]
    }
    return null
}
