// The image format in DeviceScript's own VM (GC stress on): build a 4 KB image with the portable
// builder, check it through an ImageReader in bounded chunks, refuse malformed ones with their
// reasons, and map versions. The expected values come from imgtool 2.5.0, made from the same body:
//   imgtool create --version 2.0.0 --header-size 0x200 --pad-header --slot-size 0x2000 \
//       --security-counter 5 body.bin vm.img      (body: 4000 bytes, byte i = (31 i + 7) & 0xff)
//   imgtool verify vm.img → "Image digest: 32022b0c…48e0"; sha256sum vm.img → 64aad50c…4c2b
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { digest } from "@devicescript/crypto"
import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { packImage } from "../../src/image/pack"
import { ImageReader, bufferReader } from "../../src/image/reader"
import { parseVersion, quecthingVersion } from "../../src/image/version"
import { toHex } from "../../src/lib/bytes"
import { pattern } from "./lib/pattern"

const IMGTOOL_DIGEST = "32022b0c31c24da0cf900d30dd22bfac5465fae19ee40410394ffd83603d48e0"
const IMGTOOL_FILE_SHA256 = "64aad50c958be58e06fe22549890ea6ef4925f27e017f26ded7e8e11ed2d4c2b"

async function reasonOf(img: Buffer): Promise<string> {
    try {
        await checkImage(bufferReader(img))
    } catch (e) {
        if (e instanceof ImageError) return (e as ImageError).reason
        throw e
    }
    return "ok"
}

describe("MCUboot images in the VM", () => {
    test("pack 4 KB as imgtool does, byte for byte, then check it in 256-byte reads", async () => {
        const t0 = ds.millis()
        const p = await packImage(await pattern(4000), { version: parseVersion("2_0_0"), headerSize: 0x200, securityCounter: 5 })
        const t1 = ds.millis()
        expect(p.image.length).toBe(4564)
        expect(toHex(p.sha256)).toBe(IMGTOOL_DIGEST)
        expect(toHex(digest("sha256", p.image))).toBe(IMGTOOL_FILE_SHA256)

        let maxRead = 0
        let reads = 0
        const inner = bufferReader(p.image)
        const counting: ImageReader = {
            read: async (offset: number, len: number) => {
                reads++
                if (len > maxRead) maxRead = len
                return await inner.read(offset, len)
            },
        }
        const c = await checkImage(counting, { maxSize: 0x2000 })
        console.log(`4 KB image: packed in ${t1 - t0} ms, checked in ${ds.millis() - t1} ms, ${reads} reads`)
        expect(maxRead).toBe(256)
        expect(toHex(c.sha256)).toBe(IMGTOOL_DIGEST)
        expect(c.securityCounter).toBe(5)
        expect(quecthingVersion(c.header.version)).toBe("2_0_0")
        expect(c.header.hdrSize).toBe(0x200)
        expect(c.header.imgSize).toBe(4000)
        expect(c.size).toBe(4564)
    })

    test("malformed images are refused with their reasons", async () => {
        const p = await packImage(await pattern(300), { version: parseVersion("V1.2.3"), securityCounter: 1 })
        const img = p.image
        const flipped = img.slice(0, img.length)
        flipped[100] = flipped[100] ^ 1
        expect(await reasonOf(flipped)).toBe("hash-mismatch")
        const magic = img.slice(0, img.length)
        magic[0] = 0
        expect(await reasonOf(magic)).toBe("bad-magic")
        expect(await reasonOf(img.slice(0, img.length - 1))).toBe("truncated")
        const prot = img.slice(0, img.length)
        prot[10] = prot[10] + 1 // ih_protect_tlv_size
        expect(await reasonOf(prot)).toBe("bad-protected-size")
        const flags = img.slice(0, img.length)
        flags[16] = 0x08 // encrypted
        expect(await reasonOf(flags)).toBe("unsupported-flags")
        expect(await reasonOf(img)).toBe("ok")
    })

    test("version strings map and refuse as in Node", async () => {
        expect(quecthingVersion(parseVersion("V2.0.1"))).toBe("2_0_1")
        expect(quecthingVersion(parseVersion("1_2_3+4"))).toBe("1_2_3+4")
        let reason = ""
        try {
            parseVersion("2_0_0-beta")
        } catch (e) {
            reason = (e as ImageError).reason
        }
        expect(reason).toBe("bad-version")
    })
})
