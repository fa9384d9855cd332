// Streaming digests in the VM: 16 KB fed as 1 KB blocks (as the SOTA engine will), all three
// digests on, must not hit the opcode limit, and must agree with Node (vectors computed with
// node:crypto and zlib) and with DeviceScript's own native one-shot SHA-256.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { digest } from "@devicescript/crypto"
import { DigestSet } from "../../src/verify/digest-set"
import { toHex } from "../../src/lib/bytes"
import { pattern } from "./lib/pattern"

describe("streaming digests in the VM", () => {
    test("16 KB in 1 KB blocks, MD5 + SHA-256 + CRC-32, with a midstate round trip halfway", async () => {
        const b = await pattern(16384)
        const opts = { sha256: true, crc32: true }
        let d = new DigestSet(opts)
        const t0 = ds.millis()
        for (let off = 0; off < b.length; off += 1024) {
            await d.update(b, off, off + 1024)
            if (off === 7 * 1024) d = DigestSet.restore(d.save(), opts)
        }
        const v = d.finish()
        console.log(`16 KB hashed (MD5 + SHA-256 + CRC-32) in ${ds.millis() - t0} ms`)
        expect(v.md5).toBe("403ee5c6a11b3d1368172327cb627a97")
        expect(v.sha256).toBe("9038ac64e659335ccbfdd3f684f35a26a2c9e580d9af6b4807af3adbe2c257e3")
        expect(v.crc32).toBe(98792759)
        expect(v.sha256).toBe(toHex(digest("sha256", b)))
    })
})
