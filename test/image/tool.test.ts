// `npm run image` as a user runs it (vite-node, a child process): pack, info, verify, exit codes
// and one-line errors on bad input; what the tool packs passes `imgtool verify` and `imgtool
// dumpinfo` shows the fields given on the command line.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { pattern } from "./assemble"
import { imgtool, imgtoolDump } from "./imgtool"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
const VITE_NODE = join(ROOT, "node_modules", "vite-node", "vite-node.mjs")
let dir = ""
const file = (name: string) => join(dir, name)

function run(...args: string[]): { code: number | null; out: string; err: string } {
    const r = spawnSync(process.execPath, [VITE_NODE, "--config", "vitest.config.ts", "tools/image/main.ts", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60000 })
    return { code: r.status, out: r.stdout, err: r.stderr }
}

// each test runs the tool (vite-node) up to four times: seconds each on a loaded machine
vi.setConfig({ testTimeout: 60_000 })

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "image-tool-"))
    writeFileSync(file("prog.devs"), pattern(2500, 3))
})
afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
})

describe("npm run image", () => {
    it("pack → a file imgtool verifies, with the fields given; info lists them; verify says ok", () => {
        const out = file("prog.img")
        const p = run("pack", file("prog.devs"), "--version", "V2_1_3", "--header-size", "0x200", "--security-counter", "9", "--custom-tlv", "0xa0", "0xcafe", "--pad-to", "8192", "-o", out)
        expect(p.err).toBe("")
        expect(p.code).toBe(0)
        expect(p.out).toMatch(/^packed .*prog\.img: version 2\.1\.3\+0 \(from "V2_1_3"\), header 512, body 2500, protected TLVs 18, image 3070 bytes, file 8192 bytes, sha256 [0-9a-f]{64}\n$/)
        const sha = /sha256 ([0-9a-f]{64})/.exec(p.out)![1]

        const v = imgtool(["verify", out])
        expect(v.status).toBe(0)
        expect(v.out).toContain("Image version: 2.1.3+0")
        expect(v.out).toContain(`Image digest: ${sha}`)
        const d = imgtoolDump(out)
        expect(d.header).toMatchObject({ hdr_size: 0x200, img_size: 2500, protected_tlv_size: 18, version: "2.1.3+0", flags: 0, load_addr: 0 })
        expect(d.tlv_area.tlvs_prot.map(t => [t.type, t.data])).toEqual([[0x50, "09000000"], [0xa0, "cafe"]])
        expect(readFileSync(out).length).toBe(8192)

        const info = run("info", out, "--slot-size", "8192")
        expect(info.code).toBe(0)
        for (const line of [
            "  header size          512 (0x200)",
            "  body size            2500 (0x9c4)",
            "  version              2.1.3+0 (QuecThing 2_1_3)",
            "protected TLV area     [3012, 3030): 18 bytes, info 0x6908 (hashed)",
            "  SEC_CNT (0x50)       4 bytes at 3020: 9",
            "  VENDOR (0xa0)        2 bytes at 3028: cafe",
            `  SHA256 (0x10)        32 bytes at 3038: ${sha}`,
            "after the image        [3070, 8192): 5122 bytes (padding, trailer)",
            `check                  ok: SHA-256 ${sha} matches`,
        ])
            expect(info.out.split("\n")).toContain(line)

        const ok = run("verify", out, "--slot-size", "0x2000")
        expect(ok.code).toBe(0)
        expect(ok.out).toContain(`ok: ${out}: version 2.1.3+0 (QuecThing 2_1_3), image 3070 bytes, security counter 9, sha256 ${sha}`)
    })

    it("keygen → sign (a body, then an existing image with a new counter) → imgtool verify --key; keys → the module; verify --keys", () => {
        const key = file("k.pem")
        const g = run("keygen", "-o", key)
        expect(g.code, g.err).toBe(0)
        expect(readFileSync(key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]{64}\n-----END PRIVATE KEY-----\n$/)
        expect(run("keygen", "-o", key).err).toMatch(/exists: keygen never overwrites a key/)
        const signed = file("signed.img")
        const s = run("sign", file("prog.devs"), "--version", "3_1_0", "--key", key, "--security-counter", "4", "-o", signed)
        expect(s.code, s.err).toBe(0)
        expect(s.out).toMatch(/^signed .*signed\.img: version 3\.1\.0\+0, image \d+ bytes, security counter 4, sha256 [0-9a-f]{64}\n$/)
        const v = imgtool(["verify", "--key", key, signed])
        expect(v.status, v.out).toBe(0)
        expect(v.out).toContain("Image was correctly validated")
        expect(imgtoolDump(signed).tlv_area.tlvs.map(t => t.type)).toEqual([0x10, 0x01, 0x24])

        const unsignedFile = file("plain.img")
        expect(run("pack", file("prog.devs"), "--version", "3_1_0", "--header-size", "0x80", "-o", unsignedFile).code).toBe(0)
        const resigned = file("resigned.img")
        const r = run("sign", unsignedFile, "--key", key, "--security-counter", "5", "-o", resigned)
        expect(r.code, r.err).toBe(0)
        expect(imgtool(["verify", "--key", key, resigned]).status).toBe(0)
        expect(imgtoolDump(resigned).header).toMatchObject({ hdr_size: 0x80, img_size: 2500, version: "3.1.0+0" })
        expect(run("sign", unsignedFile, "--key", key, "--version", "1", "-o", resigned).err).toMatch(/is an image already/)
        expect(run("sign", file("prog.devs"), "--key", key, "-o", resigned).err).toMatch(/not an MCUboot image: .* give --version/)

        const mod = file("keys.ts")
        const k = run("keys", key, "keys/dev-ed25519.TEST-KEY.pub.pem", "-o", mod)
        expect(k.code, k.err).toBe(0)
        const text = readFileSync(mod, "utf8")
        expect(text).toMatch(/^\/\/ GENERATED by `npm run image -- keys /)
        expect(text.match(/\{ key: hex`[0-9a-f]{64}`, hash: hex`[0-9a-f]{64}` \}/g)).toHaveLength(2)
        expect(run("keys", key, key, "-o", mod).err).toMatch(/given twice/)

        const ok = run("verify", resigned, "--keys", "keys/trusted-keys.json", "--keys", key, "--min-security-counter", "5")
        expect(ok.code, ok.err).toBe(0)
        expect(ok.out).toMatch(/security counter 5, signed by k, sha256/)
        const wrong = run("verify", resigned, "--keys", "keys/trusted-keys.json")
        expect(wrong.code).toBe(1)
        expect(wrong.out).toMatch(/: unknown-key: /)
        const low = run("verify", resigned, "--keys", key, "--min-security-counter", "6")
        expect(low.out).toMatch(/: counter-too-low: security counter 5, the device is at 6/)
        const unsigned = run("verify", unsignedFile, "--keys", key)
        expect(unsigned.out).toMatch(/: unsigned: /)
    })

    it("diff and compress are npm run delta's", () => {
        const a = file("a.bin")
        const b = file("b.bin")
        writeFileSync(a, pattern(4000, 1))
        const nb = pattern(4000, 1)
        nb[100] ^= 0xff
        writeFileSync(b, nb)
        const d = run("diff", a, b, "-o", file("p.patch"))
        expect(d.code, d.err).toBe(0)
        expect(readFileSync(file("p.patch")).length).toBeGreaterThan(0)
        expect(readFileSync(file("p.patch")).length).toBeLessThan(400)
        expect(run("compress", b, "-o", file("c.patch")).code).toBe(0)
        expect(run("diff", a).code).toBe(2)
    })

    it("verify and info of bad images: exit 1 with the typed reason", () => {
        const good = run("pack", file("prog.devs"), "--version", "1_0_0", "-o", file("a.img"))
        expect(good.code).toBe(0)
        const img = readFileSync(file("a.img"))
        const flipped = Buffer.from(img)
        flipped[100] ^= 1
        writeFileSync(file("flipped.img"), flipped)
        writeFileSync(file("cut.img"), img.subarray(0, 1000))
        const bad = run("verify", file("flipped.img"))
        expect(bad.code).toBe(1)
        expect(bad.out).toMatch(/^invalid: .*flipped\.img: hash-mismatch: SHA-256 is [0-9a-f]{64}, the TLV says [0-9a-f]{64}\n$/)
        const cut = run("info", file("cut.img"))
        expect(cut.code).toBe(1)
        expect(cut.out).toContain("  version              1.0.0+0 (QuecThing 1_0_0)")
        expect(cut.out).toContain("check                  failed: truncated: TLV info at 2532")
        const small = run("verify", file("a.img"), "--slot-size", "2048")
        expect(small.code).toBe(1)
        expect(small.out).toContain(": too-large: ")
    })

    const usage: [string, string[], RegExp][] = [
        ["an unknown command", ["frobnicate", "x"], /unknown command "frobnicate"/],
        ["sign without a key", ["sign", "x", "-o", "y"], /sign needs --key/],
        ["a key that is not one", ["sign", "/nonexistent/body", "--key", "package.json", "-o", "y"], /cannot read|--key package\.json/],
        ["keygen without -o", ["keygen"], /keygen needs -o/],
        ["verify with a keys file that is not one", ["verify", "package.json", "--keys", "package.json"], /keys: package\.json: expected/],
        ["pack without --version", ["pack", "body", "-o", "x"], /pack needs --version/],
        ["a version that does not map", ["pack", "body", "--version", "2_0_0-beta", "-o", "x"], /--version: image: bad-version: "2_0_0-beta"/],
        ["a header size below 32", ["pack", "body", "--version", "1", "--header-size", "16", "-o", "x"], /--header-size must be between 32 and 65535/],
        ["a custom TLV of a type MCUboot defines", ["pack", "body", "--version", "1", "--custom-tlv", "0x10", "0x00", "-o", "x"], /--custom-tlv TYPE must be between 160 and 65534/],
        ["a body that does not exist", ["pack", "/nonexistent/body", "--version", "1", "-o", "x"], /cannot read \/nonexistent\/body/],
        ["an image that does not exist", ["verify", "/nonexistent/image"], /cannot read \/nonexistent\/image/],
        ["an option of another command", ["verify", "x", "--version", "1"], /--version is an option of pack and sign/],
    ]
    for (const [name, args, message] of usage)
        it(`${name}: exit 2, one line on stderr`, () => {
            const r = run(...args)
            expect(r.code).toBe(2)
            expect(r.err).toMatch(message)
            expect(r.err.trim().split("\n")).toHaveLength(1)
        })

    it("--help prints the usage", () => {
        const r = run("--help")
        expect(r.code).toBe(0)
        expect(r.out).toContain("pack <body> --version V -o <out>")
    })
})
