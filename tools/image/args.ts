// Command line of `npm run image`: parsed into one typed request, or a UsageError with one line
// that says what is wrong.

import { parseVersion } from "../../src/image/version"
import { ImageError } from "../../src/image/errors"
import type { ImageVersion } from "../../src/image/header"
import { TLV_ANY, TLV_VENDOR_MIN } from "../../src/image/tlv"
import type { TlvItem } from "../../src/image/tlv"

export const USAGE = `npm run image -- <command> …

  pack <body> --version V -o <out> [options]   build an MCUboot image around <body> (e.g. a .devs program)
      --version V              QuecThing or imgtool version: 2_0_0, V1.2.3, 1.2.3, 1_2_3+4
      -o, --output FILE        where to write the image
      --header-size N          ih_hdr_size, 32-65535 (default 32; imgtool's --header-size with --pad-header)
      --pad-to N               fill the file with the erased value up to N bytes (a slot; no MCUboot trailer)
      --load-addr N            ih_load_addr (default 0)
      --flags N                ih_flags (default 0; PIC 0x1, NON_BOOTABLE 0x10, RAM_LOAD 0x20, ROM_FIXED 0x100)
      --security-counter N     a protected SEC_CNT TLV (u32), as imgtool -s N
      --custom-tlv TYPE VALUE  a protected vendor TLV (TYPE 0xa0-0xfffe; VALUE 0x-hex bytes or text), as imgtool's
      --erased-value 0|0xff    filler of the header padding and --pad-to (default 0xff)
      --key FILE               sign it: KEYHASH and ED25519 TLVs with this Ed25519 private key (PEM), as imgtool --key
  sign <image|body> --key FILE -o <out> [--security-counter N] [pack's options]
                               sign an existing image (its header, body and protected TLVs kept; --security-counter
                               replaces its counter), or pack and sign a body (then --version is needed)
  keygen -o FILE               a new Ed25519 private key, PKCS#8 PEM (as imgtool keygen -t ed25519 writes it)
  keys <keys.json|key.pem …> -o FILE.ts
                               the firmware's compiled-in key module from the public keys of a keys file
                               ({"keys": [{"name", "pem"}]}, PEM paths relative to it) or PEM files (public or private)
  info <image> [--slot-size N]     the header and the TLVs as a person reads them, then the check's verdict
  verify <image> [--slot-size N] [--keys K …] [--min-security-counter N]
                                   check magic, sizes, TLVs and the SHA-256 TLV: exit 0, or 1 with the reason;
                                   with --keys (a keys file or PEM files, repeatable) the image must be signed by one
  diff | compress …                npm run delta's commands (detools patches): npm run image -- diff --help

  Numbers are decimal or 0x-hex. Exit codes: 0 ok, 1 the image does not check, 2 bad command line or file.`

export class UsageError extends Error {}

export interface PackRequest {
    command: "pack"
    body: string
    output: string
    version: ImageVersion
    versionText: string
    headerSize?: number
    padTo?: number
    loadAddr?: number
    flags?: number
    securityCounter?: number
    erasedValue?: number
    customTlvs: TlvItem[]
    /** sign/pack --key: the private key's PEM file. */
    key?: string
}

/** sign: an existing image, or a body to pack (then `version` is set). */
export interface SignRequest extends Omit<PackRequest, "command" | "version" | "versionText" | "body"> {
    command: "sign"
    input: string
    key: string
    version?: ImageVersion
    versionText?: string
}

export interface ReadRequest {
    command: "info" | "verify"
    image: string
    slotSize?: number
    /** verify --keys: keys files or PEM files. */
    keys: string[]
    minSecurityCounter?: number
}

export interface KeygenRequest {
    command: "keygen"
    output: string
}

export interface KeysRequest {
    command: "keys"
    sources: string[]
    output: string
}

type NumericField = "headerSize" | "padTo" | "loadAddr" | "flags" | "securityCounter"

export type Request = PackRequest | SignRequest | ReadRequest | KeygenRequest | KeysRequest | { command: "help" }

function num(name: string, v: string | undefined, min: number, max: number): number {
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${name} needs a value`)
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) throw new UsageError(`${name} must be a whole number (decimal or 0x-hex), got "${v}"`)
    const n = Number(v)
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${v}`)
    return n
}

function tlvValue(type: number, v: string | undefined): Buffer {
    if (v === undefined) throw new UsageError("--custom-tlv needs a type and a value")
    if (!v.startsWith("0x")) return Buffer.from(v, "utf8")
    const hex = v.slice(2)
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
        throw new UsageError(`--custom-tlv ${type}: "${v}" is not an even number of hex digits after 0x`)
    return Buffer.from(hex, "hex")
}

/** pack's numeric options: the request field each sets, and its range. */
const PACK_NUMBERS: Record<string, [NumericField, number, number]> = {
    "--header-size": ["headerSize", 32, 0xffff],
    "--pad-to": ["padTo", 0, 0xffffffff],
    "--load-addr": ["loadAddr", 0, 0xffffffff],
    "--flags": ["flags", 0, 0xffffffff],
    "--security-counter": ["securityCounter", 0, 0xffffffff],
}

export function parseArgs(argv: string[]): Request {
    const [command, ...rest] = argv
    if (command === undefined || command === "--help" || command === "-h" || command === "help") return { command: "help" }
    if (!["pack", "sign", "keygen", "keys", "info", "verify"].includes(command))
        throw new UsageError(`unknown command "${command}": pack, sign, keygen, keys, info or verify (--help for the options)`)
    const positional: string[] = []
    const o: Partial<PackRequest> & { slotSize?: number; keys: string[]; minSecurityCounter?: number } = { customTlvs: [], keys: [] }
    const packOnly = (a: string) => {
        if (command !== "pack" && command !== "sign") throw new UsageError(`${a} is an option of pack and sign, not of ${command}`)
    }
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i]
        const next = () => rest[++i]
        const numeric = Object.hasOwn(PACK_NUMBERS, a) ? PACK_NUMBERS[a] : undefined
        if (numeric) {
            packOnly(a)
            o[numeric[0]] = num(a, next(), numeric[1], numeric[2])
            continue
        }
        switch (a) {
            case "--version": {
                packOnly(a)
                const v = next()
                if (v === undefined) throw new UsageError("--version needs a value")
                try {
                    o.version = parseVersion(v)
                } catch (e) {
                    if (e instanceof ImageError) throw new UsageError(`--version: ${e.message}`)
                    throw e
                }
                o.versionText = v
                break
            }
            case "-o":
            case "--output":
                if (command === "info" || command === "verify") throw new UsageError(`${a} is not an option of ${command}`)
                o.output = next()
                if (!o.output) throw new UsageError(`${a} needs a file`)
                break
            case "--erased-value": {
                packOnly(a)
                const v = next()
                if (v !== "0" && v !== "0xff") throw new UsageError(`--erased-value must be 0 or 0xff, got "${v ?? ""}"`)
                o.erasedValue = Number(v)
                break
            }
            case "--custom-tlv": {
                packOnly(a)
                const type = num("--custom-tlv TYPE", next(), TLV_VENDOR_MIN, TLV_ANY - 1)
                if (o.customTlvs!.some(t => t.type === type)) throw new UsageError(`--custom-tlv 0x${type.toString(16)} given twice`)
                o.customTlvs!.push({ type, value: tlvValue(type, next()) })
                break
            }
            case "--key":
                packOnly(a)
                o.key = next()
                if (!o.key || o.key.startsWith("--")) throw new UsageError("--key needs a PEM file")
                break
            case "--keys": {
                if (command !== "verify") throw new UsageError(`--keys is an option of verify, not of ${command}`)
                const k = next()
                if (!k || k.startsWith("--")) throw new UsageError("--keys needs a keys file or a PEM file")
                o.keys.push(k)
                break
            }
            case "--min-security-counter":
                if (command !== "verify") throw new UsageError(`--min-security-counter is an option of verify, not of ${command}`)
                o.minSecurityCounter = num(a, next(), 0, 0xffffffff)
                break
            case "--slot-size":
                if (command !== "info" && command !== "verify") throw new UsageError(`--slot-size is an option of info and verify; ${command} takes --pad-to`)
                o.slotSize = num(a, next(), 1, 0xffffffff)
                break
            default:
                if (a.startsWith("-")) throw new UsageError(`unknown option ${a} for ${command} (--help for the options)`)
                positional.push(a)
        }
    }
    if (command === "keygen") {
        if (positional.length !== 0) throw new UsageError(`keygen takes no file but -o, got ${positional.join(" ")}`)
        if (!o.output) throw new UsageError("keygen needs -o <key.pem>")
        return { command, output: o.output }
    }
    if (command === "keys") {
        if (positional.length === 0) throw new UsageError("keys needs a keys file or PEM files")
        if (!o.output) throw new UsageError("keys needs -o <module.ts>")
        return { command, sources: positional, output: o.output }
    }
    if (positional.length !== 1)
        throw new UsageError(`${command} takes one ${command === "pack" ? "body" : "image"} file, got ${positional.length}`)
    if (command === "info" || command === "verify")
        return { command, image: positional[0], slotSize: o.slotSize, keys: o.keys, minSecurityCounter: o.minSecurityCounter }
    if (command === "sign") {
        if (!o.key) throw new UsageError("sign needs --key <private.pem>")
        if (!o.output) throw new UsageError("sign needs -o <out>")
        const { keys: _k, slotSize: _s, minSecurityCounter: _m, ...fields } = o
        return { ...(fields as Omit<SignRequest, "command" | "input">), command: "sign", input: positional[0], key: o.key, output: o.output }
    }
    if (!o.version) throw new UsageError("pack needs --version (e.g. --version 2_0_0)")
    if (!o.output) throw new UsageError("pack needs -o <out>")
    const { keys: _k, slotSize: _s, minSecurityCounter: _m, ...fields } = o
    return { ...(fields as PackRequest), command: "pack", body: positional[0] }
}
