// Build an MCUboot image: the header (its padding up to `headerSize` filled with the erased value,
// as `imgtool create --pad-header` does), the body, the protected TLV area when there are
// protected TLVs (the security counter first, then the others in the order given), then the TLV
// area with the SHA-256 TLV over header + body + protected TLVs and any further plain TLVs (a key
// hash and a signature made elsewhere). Byte for byte what `imgtool create --pad-header` makes
// from the same inputs without a key and without --pad (test/image checks that).
//
// `padTo` fills the file up to a slot's size with the erased value. Unlike imgtool's --pad it
// writes no MCUboot trailer (swap status, boot magic): our image store keeps that state in its
// metadata log, so `imgtool dumpinfo` warns that the trailer magic of such a file is invalid.
//
// The whole image is built in memory: meant for Node (the image tool, tests) and for small images
// in the VM (the fill and the hash yield, so a few KB fit the opcode budget).

import { putU32 } from "../lib/bytes"
import { StepBudget, Yielder } from "../lib/step-budget"
import { hashImage } from "./check"
import { ImageError, hexNum } from "./errors"
import { IMAGE_HEADER_SIZE, ImageHeader, ImageVersion, encodeHeader, isUint } from "./header"
import { bufferReader } from "./reader"
import {
    MAX_TLVS,
    TLV_INFO_MAGIC,
    TLV_PROT_INFO_MAGIC,
    TLV_SEC_CNT,
    TLV_SHA256,
    TLV_SHA384,
    TLV_SHA512,
    TlvItem,
    encodeTlvArea,
    tlvFixedLength,
    tlvName,
} from "./tlv"

export interface PackOptions {
    version: ImageVersion
    /** ih_hdr_size (default 32): the body starts here. */
    headerSize?: number
    /** ih_load_addr (default 0). imgtool's -L also sets IMAGE_F_RAM_LOAD; here flags are explicit. */
    loadAddr?: number
    /** ih_flags (default 0). */
    flags?: number
    /** The security counter (u32), written as the first protected TLV (SEC_CNT 0x50), as imgtool -s does. */
    securityCounter?: number
    /** Further protected TLVs, in this order (vendor TLVs 0xa0-0xfffe, as imgtool's --custom-tlv). */
    protectedTlvs?: TlvItem[]
    /** TLVs in the plain area after the SHA-256 TLV (KEYHASH 0x01, ED25519 0x24, … made elsewhere). */
    tlvs?: TlvItem[]
    /** Fill the file to exactly this many bytes (a slot's size); the image must fit. */
    padTo?: number
    /** The header padding's and padTo's filler: 0xff (NOR erased, default) or 0, as imgtool's -R. */
    erasedValue?: number
    /** Yield between slices of the fill and the hash (default ds.sleep(0)); Node callers may pass a cheaper one. */
    yielder?: Yielder
}

export interface PackedImage {
    /** The file: the image, then the padding up to padTo. */
    image: Buffer
    header: ImageHeader
    /** The image's length without padding (the end of the TLV area). */
    size: number
    sha256: Buffer
}

function checkItems(items: TlvItem[], prot: boolean) {
    for (const t of items) {
        if (t.type === TLV_SHA256 || t.type === TLV_SHA384 || t.type === TLV_SHA512)
            throw new ImageError("bad-argument", `TLV ${hexNum(t.type, 2)}: the image hash is added by the builder`)
        if (t.type === TLV_SEC_CNT)
            throw new ImageError("bad-argument", "the security counter TLV is written from the securityCounter option")
        const fixed = tlvFixedLength(t.type)
        if (fixed >= 0 && t.value && t.value.length !== fixed)
            throw new ImageError("bad-argument", `${tlvName(t.type)} TLV of ${t.value.length} bytes, expected ${fixed}`)
    }
}

async function fill(b: Buffer, start: number, end: number, v: number, budget: StepBudget) {
    for (let i = start; i < end; i += 1024) {
        const e = Math.min(end, i + 1024)
        for (let j = i; j < e; j++) b[j] = v
        await budget.spend(e - i)
    }
}

export async function packImage(body: Buffer, opts: PackOptions): Promise<PackedImage> {
    const headerSize = opts.headerSize === undefined ? IMAGE_HEADER_SIZE : opts.headerSize
    const erased = opts.erasedValue === undefined ? 0xff : opts.erasedValue
    if (erased !== 0xff && erased !== 0) throw new ImageError("bad-argument", `erased value ${erased}: must be 0xff or 0`)
    const prot: TlvItem[] = []
    if (opts.securityCounter !== undefined) {
        if (!isUint(opts.securityCounter, 0xffffffff))
            throw new ImageError("bad-argument", `security counter ${opts.securityCounter}: not a u32`)
        const v = Buffer.alloc(4)
        putU32(v, 0, opts.securityCounter)
        prot.push({ type: TLV_SEC_CNT, value: v })
    }
    const extraProt = opts.protectedTlvs || []
    const extraPlain = opts.tlvs || []
    checkItems(extraProt, true)
    checkItems(extraPlain, false)
    for (const t of extraProt) prot.push(t)
    const hashItem: TlvItem = { type: TLV_SHA256, value: Buffer.alloc(32) }
    const plain: TlvItem[] = [hashItem]
    for (const t of extraPlain) plain.push(t)
    if (prot.length + plain.length > MAX_TLVS)
        throw new ImageError("bad-argument", `${prot.length + plain.length} TLVs: the checker reads at most ${MAX_TLVS}`)
    const protArea = prot.length > 0 ? encodeTlvArea(TLV_PROT_INFO_MAGIC, prot) : null
    const plainSize = encodeTlvArea(TLV_INFO_MAGIC, plain).length // checks the plain TLVs before any work

    const header: ImageHeader = {
        loadAddr: opts.loadAddr || 0,
        hdrSize: headerSize,
        protTlvSize: protArea ? protArea.length : 0,
        imgSize: body.length,
        flags: opts.flags || 0,
        version: opts.version,
    }
    const head = encodeHeader(header) // checks header size, version, load address, flags
    const hashed = headerSize + body.length + header.protTlvSize
    const size = hashed + plainSize
    let fileSize = size
    if (opts.padTo !== undefined) {
        if (!isUint(opts.padTo, 0xffffffff)) throw new ImageError("bad-argument", `pad-to ${opts.padTo}: not a size`)
        if (opts.padTo < size) throw new ImageError("too-large", `the image is ${size} bytes, over pad-to ${opts.padTo}`)
        fileSize = opts.padTo
    }

    const budget = new StepBudget(4096, opts.yielder)
    const img = Buffer.alloc(fileSize)
    img.set(head, 0)
    await fill(img, IMAGE_HEADER_SIZE, headerSize, erased, budget)
    img.set(body, headerSize)
    if (protArea) img.set(protArea, headerSize + body.length)
    const digest = await hashImage(bufferReader(img), hashed, { chunk: 1024, yielder: opts.yielder })
    hashItem.value.set(digest, 0)
    img.set(encodeTlvArea(TLV_INFO_MAGIC, plain), hashed)
    await fill(img, size, fileSize, erased, budget)
    return { image: img, header: header, size: size, sha256: digest }
}
