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
  info <image> [--slot-size N]     the header and the TLVs as a person reads them, then the check's verdict
  verify <image> [--slot-size N]   check magic, sizes, TLVs and the SHA-256 TLV: exit 0, or 1 with the reason

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
}

export interface ReadRequest {
    command: "info" | "verify"
    image: string
    slotSize?: number
}

type NumericField = "headerSize" | "padTo" | "loadAddr" | "flags" | "securityCounter"

export type Request = PackRequest | ReadRequest | { command: "help" }

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
    if (command !== "pack" && command !== "info" && command !== "verify")
        throw new UsageError(`unknown command "${command}": pack, info or verify (--help for the options)`)
    const positional: string[] = []
    const o: Partial<PackRequest> & { slotSize?: number } = { customTlvs: [] }
    const packOnly = (a: string) => {
        if (command !== "pack") throw new UsageError(`${a} is an option of pack, not of ${command}`)
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
                packOnly(a)
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
            case "--slot-size":
                if (command === "pack") throw new UsageError("--slot-size is an option of info and verify; pack takes --pad-to")
                o.slotSize = num(a, next(), 1, 0xffffffff)
                break
            default:
                if (a.startsWith("-")) throw new UsageError(`unknown option ${a} for ${command} (--help for the options)`)
                positional.push(a)
        }
    }
    if (positional.length !== 1)
        throw new UsageError(`${command} takes one ${command === "pack" ? "body" : "image"} file, got ${positional.length}`)
    if (command !== "pack") return { command, image: positional[0], slotSize: o.slotSize }
    if (!o.version) throw new UsageError("pack needs --version (e.g. --version 2_0_0)")
    if (!o.output) throw new UsageError("pack needs -o <out>")
    return { ...(o as PackRequest), command: "pack", body: positional[0] }
}
