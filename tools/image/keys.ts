// Ed25519 keys and signing for MCUboot images, in Node with node:crypto (no imgtool needed):
//   - keygen: a private key as PKCS#8 PEM, what `imgtool keygen -t ed25519` writes;
//   - sign: the image re-packed with KEYHASH (0x01, SHA-256 of the key's DER SubjectPublicKeyInfo)
//     and ED25519 (0x24, the signature of the image's 32-byte SHA-256) after the SHA-256 TLV, as
//     imgtool orders them; Ed25519 is deterministic, so the bytes are imgtool's for the same key;
//   - keys: the firmware's compiled-in key module (hex literals) from public keys the user keeps.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from "node:crypto"
import type { KeyObject } from "node:crypto"
import { readFileSync } from "node:fs"
import { dirname, relative, resolve } from "node:path"
import { publicKeyFromSpki } from "../../src/crypto/ed25519-key"
import { packImage } from "../../src/image/pack"
import type { PackOptions, PackedImage } from "../../src/image/pack"
import type { TrustedKey } from "../../src/image/signature"
import { TLV_ED25519, TLV_KEYHASH } from "../../src/image/tlv"

/** A new Ed25519 private key, PKCS#8 PEM (imgtool keygen -t ed25519 writes the same form). */
export function keygenPem(): string {
    return generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }) as string
}

/** The raw 32-byte public key of a KeyObject (private or public), or an error when it is not Ed25519. */
export function rawPublicKey(k: KeyObject): Buffer {
    const pub = k.type === "private" ? createPublicKey(k) : k
    if (pub.asymmetricKeyType !== "ed25519") throw new Error(`not an Ed25519 key (${pub.asymmetricKeyType})`)
    return publicKeyFromSpki(pub.export({ format: "der", type: "spki" }) as Buffer)
}

/** A trusted key from a raw public key: KEYHASH = SHA-256 of its DER SubjectPublicKeyInfo. */
export function trustedKeyOf(raw: Buffer): TrustedKey {
    const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw])
    return { key: raw, hash: createHash("sha256").update(spki).digest() }
}

/** A private key from a PEM file. */
export function loadPrivateKey(path: string): KeyObject {
    const k = createPrivateKey(readFileSync(path))
    if (k.asymmetricKeyType !== "ed25519") throw new Error(`${path}: not an Ed25519 private key (${k.asymmetricKeyType})`)
    return k
}

/** The public keys in a PEM file (a public or a private key; one key a file). */
export function loadPublicKey(path: string): Buffer {
    const text = readFileSync(path, "utf8")
    const k = /PRIVATE KEY/.test(text) ? createPrivateKey(text) : createPublicKey(text)
    return rawPublicKey(k)
}

/** Pack `body` signed with `key` (PackOptions as for an unsigned image; plain `tlvs` go before KEYHASH and ED25519). */
export async function packSigned(body: Buffer, opts: PackOptions, key: KeyObject): Promise<PackedImage> {
    const unsigned = await packImage(body, opts) // the hash covers header, body and protected TLVs only
    const sig = nodeSign(null, unsigned.sha256, key)
    const tk = trustedKeyOf(rawPublicKey(key))
    const tlvs = [...(opts.tlvs ?? []), { type: TLV_KEYHASH, value: tk.hash }, { type: TLV_ED25519, value: sig }]
    return packImage(body, { ...opts, tlvs })
}

/** keys/trusted-keys.json: the public keys the firmware trusts, in order (a key's index is `signedBy`). */
export interface KeysFile {
    keys: { name: string; pem: string }[]
}

/** The trusted keys of a keys file (PEM paths relative to it) or of PEM files: name, raw key, KEYHASH, source. */
export function readTrustedKeys(paths: string[]): { name: string; source: string; key: TrustedKey }[] {
    const out: { name: string; source: string; key: TrustedKey }[] = []
    for (const p of paths) {
        if (p.endsWith(".json")) {
            const f = JSON.parse(readFileSync(p, "utf8")) as KeysFile
            if (!f || !Array.isArray(f.keys) || f.keys.length === 0) throw new Error(`${p}: expected {"keys": [{"name", "pem"}, …]} with at least one key`)
            for (const k of f.keys) {
                if (typeof k.name !== "string" || typeof k.pem !== "string") throw new Error(`${p}: every key needs "name" and "pem"`)
                out.push({ name: k.name, source: k.pem, key: trustedKeyOf(loadPublicKey(resolve(dirname(p), k.pem))) })
            }
        } else out.push({ name: p.replace(/^.*\//, "").replace(/\.pem$/, ""), source: p, key: trustedKeyOf(loadPublicKey(p)) })
    }
    const seen = new Set<string>()
    for (const k of out) {
        const h = k.key.hash.toString("hex")
        if (seen.has(h)) throw new Error(`key "${k.name}" is given twice`)
        seen.add(h)
    }
    return out
}

/** The text of the compiled-in key module: hex literals (in the program image, no heap for the bytes). */
export function keysModule(keys: { name: string; source: string; key: TrustedKey }[], from: string[], outPath: string): string {
    const hexImport = relative(dirname(resolve(outPath)), resolve("src/lib/hex")).replace(/\\/g, "/")
    const sigImport = relative(dirname(resolve(outPath)), resolve("src/image/signature")).replace(/\\/g, "/")
    const dot = (s: string) => (s.startsWith(".") ? s : "./" + s)
    const lines = [
        `// GENERATED by \`npm run image -- keys ${from.join(" ")} -o ${outPath}\`: do not edit, run it again.`,
        `// The Ed25519 public keys this firmware accepts images from, in order (an image's KEYHASH TLV picks one;`,
        `// more than one for rotation). From: ${keys.map(k => `${k.name} (${k.source})`).join(", ")}.`,
        `import { hex } from "${dot(hexImport)}"`,
        `import { TrustedKey } from "${dot(sigImport)}"`,
        ``,
        `export const TRUSTED_KEYS: TrustedKey[] = [`,
    ]
    for (const k of keys) {
        lines.push(`    // ${k.name}`)
        lines.push(`    { key: hex\`${k.key.key.toString("hex")}\`, hash: hex\`${k.key.hash.toString("hex")}\` },`)
    }
    lines.push(`]`, ``)
    return lines.join("\n")
}
