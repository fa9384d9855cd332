// Interop with imgtool (MCUboot's own tool, pinned in tools/requirements.txt), both ways:
//  - images imgtool makes (with and without --pad, with protected TLVs, load address, flags)
//    check in our code, with the header fields, TLVs and digest that `imgtool dumpinfo` and
//    `imgtool verify` report; a corrupted one fails in both;
//  - images our builder makes pass `imgtool verify` with our digest, and `imgtool dumpinfo` shows
//    the fields and TLVs we set; without --pad they are byte for byte imgtool's;
//  - imgtool's own version parser agrees with ours on the dotted form.
// imgtool missing is a failure with the install command in the message, never a skip.
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { checkImage } from "../../src/image/check"
import type { CheckedImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { packImage, PackOptions } from "../../src/image/pack"
import { bufferReader } from "../../src/image/reader"
import { tlvName } from "../../src/image/tlv"
import { formatVersion, parseVersion } from "../../src/image/version"
import { pattern } from "./assemble"
import { DumpInfo, VENV_PYTHON, imgtool, imgtoolCreate, imgtoolDecodeVersions, imgtoolDump, requireImgtool } from "./imgtool"

const fast = { yielder: async () => {} }
let dir = ""
const file = (name: string) => join(dir, name)

// each test runs imgtool (Python) two or three times
vi.setConfig({ testTimeout: 60_000 })

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "image-interop-"))
    writeFileSync(file("body.bin"), pattern(3000, 11))
    writeFileSync(file("small.bin"), pattern(17, 5))
})
afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
})

/** What dumpinfo reports, in our terms, to compare with what our check returns. */
function fromDump(d: DumpInfo) {
    const tlvs = (list: typeof d.tlv_area.tlvs, prot: boolean) => list.map(t => ({ type: t.type, length: t.len, protected: prot, data: t.data }))
    return {
        header: { loadAddr: d.header.load_addr, hdrSize: d.header.hdr_size, protTlvSize: d.header.protected_tlv_size, imgSize: d.header.img_size, flags: d.header.flags, version: d.header.version },
        tlvs: [...tlvs(d.tlv_area.tlvs_prot, true), ...tlvs(d.tlv_area.tlvs, false)],
    }
}

function fromOurs(c: CheckedImage, img: Buffer) {
    const h = c.header
    return {
        header: { loadAddr: h.loadAddr, hdrSize: h.hdrSize, protTlvSize: h.protTlvSize, imgSize: h.imgSize, flags: h.flags, version: formatVersion(h.version) },
        tlvs: c.tlvs.map(t => ({ type: t.type, length: t.length, protected: t.protected, data: img.subarray(t.offset, t.offset + t.length).toString("hex") })),
    }
}

/** The digest `imgtool verify` prints, or its failure. */
function imgtoolVerify(path: string): { ok: boolean; version?: string; digest?: string; out: string } {
    const r = imgtool(["verify", path])
    const version = /Image version: (\S+)/.exec(r.out)?.[1]
    const digest = /Image digest: ([0-9a-f]{64})/.exec(r.out)?.[1]
    return { ok: r.status === 0, version, digest, out: r.out }
}

describe("images imgtool makes check in our code", () => {
    const cases: [string, string[], string, number][] = [
        ["2.0.0, 0x200 header, no --pad", ["--version", "2.0.0", "--header-size", "0x200", "--pad-header", "--slot-size", "0x4000"], "body.bin", 0x4000],
        ["2.0.0, 0x200 header, --pad to the slot (MCUboot trailer after the image)", ["--version", "2.0.0", "--header-size", "0x200", "--pad-header", "--slot-size", "0x4000", "--pad"], "body.bin", 0x4000],
        ["1.2.3+4, 32-byte header, --pad with erased value 0", ["--version", "1.2.3+4", "--header-size", "32", "--pad-header", "--slot-size", "0x2000", "--pad", "-R", "0"], "body.bin", 0x2000],
        ["security counter and two custom TLVs (protected area)", ["--version", "3.1.4", "--header-size", "0x40", "--pad-header", "--slot-size", "0x2000", "--security-counter", "0x10203", "--custom-tlv", "0xa0", "0x0102ff", "--custom-tlv", "0x1b5", "hello"], "body.bin", 0x2000],
        ["security counter auto (from the version)", ["--version", "1.2.3+9", "--header-size", "0x20", "--pad-header", "--slot-size", "0x2000", "--security-counter", "auto"], "small.bin", 0x2000],
        ["load address (RAM_LOAD) and --non-bootable", ["--version", "0.0.1", "--header-size", "0x20", "--pad-header", "--slot-size", "0x2000", "-L", "0x20001000", "--non-bootable"], "small.bin", 0x2000],
        ["a 17-byte body, 3-part build 4294967295", ["--version", "255.255.65535+4294967295", "--header-size", "0x20", "--pad-header", "--slot-size", "0x1000"], "small.bin", 0x1000],
    ]
    cases.forEach(([name, args, body, slot], i) =>
        it(name, async () => {
            const out = file(`imgtool-${i}.img`)
            imgtoolCreate([...args, file(body), out])
            const img = readFileSync(out)
            const c = await checkImage(bufferReader(img), { maxSize: slot, ...fast })
            const d = imgtoolDump(out)
            expect(fromOurs(c, img)).toEqual(fromDump(d))
            const v = imgtoolVerify(out)
            expect(v.ok).toBe(true)
            expect(c.sha256.toString("hex")).toBe(v.digest)
            expect(formatVersion(c.header.version)).toBe(v.version)
            expect(c.header.imgSize).toBe(readFileSync(file(body)).length)
            if (args.includes("--pad")) expect(img.length).toBe(slot)
            const sec = d.tlv_area.tlvs_prot.find(t => t.type_name === "SEC_CNT")
            expect(c.securityCounter).toBe(sec ? Buffer.from(sec.data, "hex").readUInt32LE(0) : -1)
            if (args.includes("auto")) expect(c.securityCounter).toBe((1 << 24) + (2 << 16) + 3)
        })
    )

    it("an imgtool image with one body bit flipped: imgtool verify and our check both refuse it", async () => {
        const out = file("flipped.img")
        imgtoolCreate(["--version", "2.0.0", "--header-size", "0x200", "--pad-header", "--slot-size", "0x4000", file("body.bin"), out])
        const img = readFileSync(out)
        img[0x200 + 1234] ^= 0x01
        writeFileSync(out, img)
        const v = imgtoolVerify(out)
        expect(v.ok).toBe(false)
        expect(v.out).toContain("invalid hash")
        await expect(checkImage(bufferReader(img), fast)).rejects.toMatchObject({ reason: "hash-mismatch" })
    })
})

describe("images our builder makes pass imgtool", () => {
    const body = pattern(3000, 11)
    const cases: [string, Omit<PackOptions, "yielder">, string[] | null][] = [
        ["2_0_0, 0x200 header", { version: parseVersion("2_0_0"), headerSize: 0x200 }, ["--version", "2.0.0", "--header-size", "0x200", "--pad-header"]],
        ["V1.2.3, 32-byte header, security counter 7, custom TLVs", { version: parseVersion("V1.2.3"), securityCounter: 7, protectedTlvs: [{ type: 0xa0, value: Buffer.from("0102ff", "hex") }, { type: 0x1b5, value: Buffer.from("hello") }] }, ["--version", "1.2.3", "--header-size", "32", "--pad-header", "--security-counter", "7", "--custom-tlv", "0xa0", "0x0102ff", "--custom-tlv", "0x1b5", "hello"]],
        ["1_2_3+4, erased value 0, RAM_LOAD at 0x20001000", { version: parseVersion("1_2_3+4"), headerSize: 0x100, erasedValue: 0, loadAddr: 0x20001000, flags: 0x20 }, ["--version", "1.2.3+4", "--header-size", "0x100", "--pad-header", "-R", "0", "-L", "0x20001000"]],
        ["padded to a 16 KB slot (no MCUboot trailer)", { version: parseVersion("2_0_1"), headerSize: 0x200, padTo: 0x4000 }, null],
    ]
    cases.forEach(([name, opts, imgtoolArgs], i) =>
        it(name, async () => {
            const p = await packImage(body, { ...opts, ...fast })
            const out = file(`ours-${i}.img`)
            writeFileSync(out, p.image)
            const v = imgtoolVerify(out)
            expect(v.out).toContain("Image was correctly validated")
            expect(v.digest).toBe(p.sha256.toString("hex"))
            expect(v.version).toBe(formatVersion(opts.version))
            const c = await checkImage(bufferReader(p.image), fast)
            expect(fromDump(imgtoolDump(out))).toEqual(fromOurs(c, p.image))
            if (imgtoolArgs) {
                const theirs = file(`theirs-${i}.img`)
                imgtoolCreate([...imgtoolArgs, "--slot-size", "0x10000", file("body.bin"), theirs])
                expect(p.image.equals(readFileSync(theirs))).toBe(true)
            }
        })
    )

    it("one of ours with the SHA-256 TLV's last byte changed: imgtool verify refuses it, and so do we", async () => {
        const p = await packImage(body, { version: parseVersion("2_0_0"), ...fast })
        p.image[p.size - 1] ^= 0xff
        const out = file("ours-bad.img")
        writeFileSync(out, p.image)
        expect(imgtoolVerify(out).ok).toBe(false)
        await expect(checkImage(bufferReader(p.image), fast)).rejects.toBeInstanceOf(ImageError)
    })
})

describe("version strings: imgtool's parser is the oracle for the dotted form", () => {
    it("accepts and refuses the same strings, with the same values (ours also refuses what the header cannot hold)", () => {
        const texts = [
            "0", "2", "2.0", "2.0.0", "1.2.3", "1.2.3+4", "10.20.300+4000", "255.255.65535+4294967295",
            "", "1.", ".1", "01.0.0", "1.00.0", "1.2.3+04", "1.2+3", "1.2.3.4", "1.2.3+", "a.b.c", "1.2.3-rc1", " 1.2.3", "+1",
            "256.0.0", "1.0.65536", "1.0.0+4294967296",
        ]
        const theirs = imgtoolDecodeVersions(texts)
        texts.forEach((t, i) => {
            let ours: number[] | null = null
            try {
                const v = parseVersion(t)
                ours = [v.major, v.minor, v.revision, v.build]
            } catch (e) {
                if (!(e instanceof ImageError)) throw e
            }
            const fits = theirs[i] !== null && theirs[i]![0] <= 255 && theirs[i]![1] <= 255 && theirs[i]![2] <= 65535 && theirs[i]![3] <= 4294967295
            expect({ text: t, ours }).toEqual({ text: t, ours: fits ? theirs[i] : null })
        })
    })

    it("QuecThing spellings give the header imgtool writes for the dotted form", async () => {
        for (const [q, dotted] of [["2_0_0", "2.0.0"], ["V1_2_3", "1.2.3"], ["v7.8.9+10", "7.8.9+10"]]) {
            const out = file(`v-${dotted}.img`)
            imgtoolCreate(["--version", dotted, "--header-size", "32", "--pad-header", "--slot-size", "0x1000", file("small.bin"), out])
            const p = await packImage(readFileSync(file("small.bin")), { version: parseVersion(q), ...fast })
            expect(p.image.subarray(20, 28).toString("hex")).toBe(readFileSync(out).subarray(20, 28).toString("hex"))
            expect(tlvName(0x10)).toBe(imgtoolDump(out).tlv_area.tlvs[0].type_name)
        }
    })

    it("tlvName gives imgtool's name (image.py TLV_VALUES) for every type imgtool knows", () => {
        requireImgtool()
        const values: Record<string, number> = JSON.parse(
            execFileSync(VENV_PYTHON, ["-c", "import json; from imgtool.image import TLV_VALUES; print(json.dumps(TLV_VALUES))"], { encoding: "utf8" })
        )
        expect(Object.keys(values).length).toBeGreaterThan(20)
        for (const [name, type] of Object.entries(values)) expect(tlvName(type)).toBe(name)
        expect([tlvName(0xa0), tlvName(0x99), tlvName(0x21)]).toEqual(["VENDOR", "UNKNOWN", "ECDSA224"])
    })
})
