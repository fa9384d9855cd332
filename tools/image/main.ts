// `npm run image -- pack | sign | keygen | keys | info | verify` (and `diff | compress`, npm run
// delta's): MCUboot images of DeviceScript programs, in Node, with the portable code of src/image
// (the same the device runs) and node:crypto for keys and signatures (keys.ts). Exit codes: 0 ok,
// 1 the image does not check (the typed reason on stdout), 2 bad command line or unreadable file
// (one line on stderr).

import { existsSync, readFileSync, writeFileSync } from "node:fs"
import type { KeyObject } from "node:crypto"
import { readImageLayout } from "../../src/image/check"
import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { IMAGE_MAGIC } from "../../src/image/header"
import { packImage } from "../../src/image/pack"
import type { PackOptions } from "../../src/image/pack"
import { TLV_ED25519, TLV_KEYHASH, TLV_SEC_CNT, TLV_SHA256 } from "../../src/image/tlv"
import { bufferReader } from "../../src/image/reader"
import { formatVersion, quecthingVersion } from "../../src/image/version"
import { parseArgs, PackRequest, SignRequest, USAGE, UsageError } from "./args"
import { describeImage, NODE_HASH } from "./describe"
import { openImageFile, FileReader } from "./file-reader"
import { keygenPem, keysModule, loadPrivateKey, packSigned, readTrustedKeys } from "./keys"


function open(path: string): FileReader {
    try {
        return openImageFile(path)
    } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as Error).message}`)
    }
}

function readInput(path: string): Buffer {
    try {
        return readFileSync(path)
    } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as Error).message}`)
    }
}

function privateKey(path: string): KeyObject {
    try {
        return loadPrivateKey(path)
    } catch (e) {
        throw new UsageError(`--key ${path}: ${(e as Error).message}`)
    }
}

/** What re-packs an existing image: its body, header fields and TLVs but the hash, the signature and (when replaced) the counter. */
async function unpack(image: Buffer, securityCounter?: number): Promise<{ body: Buffer; opts: PackOptions }> {
    const reader = bufferReader(image)
    await checkImage(reader, NODE_HASH) // a signature is added only to an image that checks
    const l = await readImageLayout(reader)
    const h = l.header
    let counter = securityCounter
    const prot = []
    const plain = []
    for (const t of l.tlvs) {
        const value = image.subarray(t.offset, t.offset + t.length)
        if (t.type === TLV_SEC_CNT) counter ??= value.readUInt32LE(0)
        else if (t.protected) prot.push({ type: t.type, value })
        else if (t.type !== TLV_SHA256 && t.type !== TLV_KEYHASH && t.type !== TLV_ED25519) plain.push({ type: t.type, value })
    }
    const opts: PackOptions = {
        version: h.version,
        headerSize: h.hdrSize,
        loadAddr: h.loadAddr,
        flags: h.flags,
        securityCounter: counter,
        protectedTlvs: prot,
        tlvs: plain,
        erasedValue: h.hdrSize > 32 && image[32] === 0 ? 0 : 0xff,
        yielder: NODE_HASH.yielder,
    }
    return { body: image.subarray(h.hdrSize, h.hdrSize + h.imgSize), opts }
}

async function sign(r: SignRequest): Promise<number> {
    const input = readInput(r.input)
    const key = privateKey(r.key)
    const isImage = input.length >= 4 && input.readUInt32LE(0) === IMAGE_MAGIC
    if (isImage && r.version) throw new UsageError(`${r.input} is an image already: --version is for a body to pack`)
    if (!isImage && !r.version) throw new UsageError(`${r.input} is not an MCUboot image: to pack and sign a body, give --version`)
    const { body, opts } = isImage ? await unpack(input, r.securityCounter) : { body: input, opts: packOptions(r as unknown as PackRequest) }
    if (r.padTo !== undefined) opts.padTo = r.padTo
    const p = await packSigned(body, opts, key)
    writeFileSync(r.output, p.image)
    console.log(
        `signed ${r.output}: version ${formatVersion(p.header.version)}, image ${p.size} bytes, security counter ${opts.securityCounter ?? "none"}, ` +
            `sha256 ${p.sha256.toString("hex")}`
    )
    return 0
}

function packOptions(r: PackRequest): PackOptions {
    return {
        version: r.version,
        headerSize: r.headerSize,
        padTo: r.padTo,
        loadAddr: r.loadAddr,
        flags: r.flags,
        securityCounter: r.securityCounter,
        protectedTlvs: r.customTlvs,
        erasedValue: r.erasedValue,
        yielder: NODE_HASH.yielder,
    }
}

async function pack(r: PackRequest): Promise<number> {
    const body = readInput(r.body)
    const p = r.key ? await packSigned(body, packOptions(r), privateKey(r.key)) : await packImage(body, packOptions(r))
    writeFileSync(r.output, p.image)
    const h = p.header
    console.log(
        `packed ${r.output}${r.key ? " (signed)" : ""}: version ${formatVersion(h.version)} (from "${r.versionText}"), header ${h.hdrSize}, body ${h.imgSize}, ` +
            `protected TLVs ${h.protTlvSize}, image ${p.size} bytes, file ${p.image.length} bytes, sha256 ${p.sha256.toString("hex")}`
    )
    return 0
}

function keys(sources: string[]) {
    try {
        return readTrustedKeys(sources)
    } catch (e) {
        throw new UsageError(`keys: ${(e as Error).message}`)
    }
}

async function main(argv: string[]): Promise<number> {
    if (argv[0] === "diff" || argv[0] === "compress") {
        const delta = await import("../delta/cli")
        try {
            return await delta.deltaMain(argv)
        } catch (e) {
            throw e instanceof delta.UsageError ? new UsageError(e.message) : e
        }
    }
    const r = parseArgs(argv)
    if (r.command === "help") {
        console.log(USAGE)
        return 0
    }
    if (r.command === "pack") return pack(r)
    if (r.command === "sign") return sign(r)
    if (r.command === "keygen") {
        if (existsSync(r.output)) throw new UsageError(`${r.output} exists: keygen never overwrites a key`)
        writeFileSync(r.output, keygenPem(), { mode: 0o600 })
        console.log(`wrote ${r.output}: a new Ed25519 private key (PKCS#8 PEM); keep it secret, give the firmware its public key (npm run image -- keys)`)
        return 0
    }
    if (r.command === "keys") {
        const k = keys(r.sources)
        writeFileSync(r.output, keysModule(k, r.sources, r.output))
        console.log(`wrote ${r.output}: ${k.length} trusted key${k.length === 1 ? "" : "s"} (${k.map(x => x.name).join(", ")})`)
        return 0
    }
    const trusted = r.command === "verify" && r.keys.length > 0 ? keys(r.keys) : null
    const f = open(r.image)
    try {
        if (r.command === "info") {
            console.log(`image ${r.image}: ${f.size} bytes`)
            const d = await describeImage(f, f.size, r.slotSize)
            for (const l of d.lines) console.log(l)
            return d.error ? 1 : 0
        }
        try {
            const c = await checkImage(f, {
                maxSize: r.slotSize,
                keys: trusted ? trusted.map(k => k.key) : undefined,
                minSecurityCounter: r.minSecurityCounter,
                ...NODE_HASH,
            })
            const v = c.header.version
            const signed = trusted ? `, signed by ${trusted[c.signedBy].name}` : ""
            const counter = c.securityCounter >= 0 ? `, security counter ${c.securityCounter}` : ""
            console.log(
                `ok: ${r.image}: version ${formatVersion(v)} (QuecThing ${quecthingVersion(v)}), image ${c.size} bytes${counter}${signed}, sha256 ${c.sha256.toString("hex")}`
            )
            return 0
        } catch (e) {
            if (!(e instanceof ImageError)) throw e
            console.log(`invalid: ${r.image}: ${e.reason}: ${e.message.replace(/^image: [a-z-]+: /, "")}`)
            return 1
        }
    } finally {
        f.close()
    }
}

main(process.argv.slice(2)).then(
    code => process.exit(code),
    err => {
        if (err instanceof UsageError || err instanceof ImageError) {
            process.stderr.write(`image: ${err instanceof ImageError ? err.message.replace(/^image: /, "") : err.message}\n`)
            process.exit(2)
        }
        process.stderr.write(`image: ${err && err.stack ? err.stack : err}\n`)
        process.exit(1)
    }
)
