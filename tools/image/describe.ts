// `npm run image -- info`: an image's header and TLVs as a person reads them, then the check's
// verdict. What cannot be decoded ends the listing with the reason, after what could be.

import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { IMAGE_HEADER_SIZE, IMAGE_MAGIC, decodeHeader, flagNames } from "../../src/image/header"
import type { ImageHeader } from "../../src/image/header"
import type { ImageReader } from "../../src/image/reader"
import { TLV_INFO_MAGIC, TLV_INFO_SIZE, TLV_PROT_INFO_MAGIC, TLV_SEC_CNT, readImageBytes, readTlvLayout, tlvName } from "../../src/image/tlv"
import type { TlvEntry } from "../../src/image/tlv"
import { formatVersion, quecthingVersion } from "../../src/image/version"

/** Node needs no opcode budget: big reads, and a yield to the event loop only now and then. */
export const NODE_HASH = { chunk: 4096, budget: 1 << 20, yielder: () => Promise.resolve() }

const hex = (n: number, digits = 1) => "0x" + n.toString(16).padStart(digits, "0")
const sized = (n: number) => `${n} (${hex(n)})`
const row = (label: string, value: string) => `  ${label.padEnd(20)} ${value}`
const range = (start: number, end: number) => `[${start}, ${end}): ${end - start} bytes`

function headerLines(h: ImageHeader): string[] {
    const flags = flagNames(h.flags)
    return [
        "header",
        row("magic", `${hex(IMAGE_MAGIC, 8)} (MCUboot)`),
        row("load address", hex(h.loadAddr, 8)),
        row("header size", sized(h.hdrSize)),
        row("protected TLVs", sized(h.protTlvSize)),
        row("body size", sized(h.imgSize)),
        row("flags", `${hex(h.flags, 8)}${flags.length > 0 ? " " + flags.join(" | ") : " (none)"}`),
        row("version", `${formatVersion(h.version)} (QuecThing ${quecthingVersion(h.version)})`),
    ]
}

function valueText(t: TlvEntry, v: Buffer): string {
    if (t.type === TLV_SEC_CNT && v.length === 4) return `${v.readUInt32LE(0)}`
    const shown = v.length > 48 ? v.subarray(0, 48).toString("hex") + "…" : v.toString("hex")
    const printable = v.length > 0 && [...v].every(c => c >= 0x20 && c < 0x7f)
    return printable ? `${shown} ("${v.toString("latin1")}")` : shown
}

async function tlvLines(reader: ImageReader, tlvs: TlvEntry[], prot: boolean): Promise<string[]> {
    const out: string[] = []
    for (const t of tlvs.filter(t => t.protected === prot)) {
        const v = await readImageBytes(reader, t.offset, t.length, "TLV value")
        out.push(row(`${tlvName(t.type)} (${hex(t.type, 2)})`, `${t.length} bytes at ${t.offset}: ${valueText(t, v)}`))
    }
    return out
}

/** The listing of the image behind `reader` (the file holds `fileSize` bytes), and the check's error or null. */
export async function describeImage(
    reader: ImageReader,
    fileSize: number,
    slotSize?: number
): Promise<{ lines: string[]; error: ImageError | null }> {
    const lines: string[] = []
    try {
        const h = decodeHeader(await readImageBytes(reader, 0, IMAGE_HEADER_SIZE, "header"), slotSize)
        lines.push(...headerLines(h))
        lines.push(`body                   ${range(h.hdrSize, h.hdrSize + h.imgSize)}`)
        const layout = await readTlvLayout(reader, h, slotSize)
        const at = h.hdrSize + h.imgSize
        if (h.protTlvSize > 0) {
            lines.push(`protected TLV area     ${range(at, at + h.protTlvSize)}, info ${hex(TLV_PROT_INFO_MAGIC, 4)} (hashed)`)
            lines.push(...(await tlvLines(reader, layout.tlvs, true)))
        }
        lines.push(`TLV area               ${range(layout.plainStart, layout.size)}, info ${hex(TLV_INFO_MAGIC, 4)}`)
        lines.push(...(await tlvLines(reader, layout.tlvs, false)))
        if (layout.size - layout.plainStart === TLV_INFO_SIZE) lines.push("  (no entries)")
        if (fileSize > layout.size) lines.push(`after the image        ${range(layout.size, fileSize)} (padding, trailer)`)
        const ok = await checkImage(reader, { maxSize: slotSize, ...NODE_HASH })
        lines.push(`check                  ok: SHA-256 ${ok.sha256.toString("hex")} matches`)
        return { lines, error: null }
    } catch (e) {
        if (!(e instanceof ImageError)) throw e
        lines.push(`check                  failed: ${e.reason}: ${e.message.replace(/^image: [a-z-]+: /, "")}`)
        return { lines, error: e }
    }
}
