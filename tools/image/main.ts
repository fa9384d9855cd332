// `npm run image -- pack | info | verify`: MCUboot images of DeviceScript programs, in Node, with
// the portable code of src/image (the same the device runs). Exit codes: 0 ok, 1 the image does
// not check (the typed reason on stdout), 2 bad command line or unreadable file (one line on stderr).

import { readFileSync, writeFileSync } from "node:fs"
import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { packImage } from "../../src/image/pack"
import { formatVersion, quecthingVersion } from "../../src/image/version"
import { parseArgs, PackRequest, USAGE, UsageError } from "./args"
import { describeImage, NODE_HASH } from "./describe"
import { openImageFile, FileReader } from "./file-reader"


function open(path: string): FileReader {
    try {
        return openImageFile(path)
    } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as Error).message}`)
    }
}

async function pack(r: PackRequest): Promise<number> {
    let body: Buffer
    try {
        body = readFileSync(r.body)
    } catch (e) {
        throw new UsageError(`cannot read ${r.body}: ${(e as Error).message}`)
    }
    const p = await packImage(body, {
        version: r.version,
        headerSize: r.headerSize,
        padTo: r.padTo,
        loadAddr: r.loadAddr,
        flags: r.flags,
        securityCounter: r.securityCounter,
        protectedTlvs: r.customTlvs,
        erasedValue: r.erasedValue,
        yielder: NODE_HASH.yielder,
    })
    writeFileSync(r.output, p.image)
    const h = p.header
    console.log(
        `packed ${r.output}: version ${formatVersion(h.version)} (from "${r.versionText}"), header ${h.hdrSize}, body ${h.imgSize}, ` +
            `protected TLVs ${h.protTlvSize}, image ${p.size} bytes, file ${p.image.length} bytes, sha256 ${p.sha256.toString("hex")}`
    )
    return 0
}

async function main(argv: string[]): Promise<number> {
    const r = parseArgs(argv)
    if (r.command === "help") {
        console.log(USAGE)
        return 0
    }
    if (r.command === "pack") return pack(r)
    const f = open(r.image)
    try {
        if (r.command === "info") {
            console.log(`image ${r.image}: ${f.size} bytes`)
            const d = await describeImage(f, f.size, r.slotSize)
            for (const l of d.lines) console.log(l)
            return d.error ? 1 : 0
        }
        try {
            const c = await checkImage(f, { maxSize: r.slotSize, ...NODE_HASH })
            const v = c.header.version
            console.log(
                `ok: ${r.image}: version ${formatVersion(v)} (QuecThing ${quecthingVersion(v)}), image ${c.size} bytes, sha256 ${c.sha256.toString("hex")}`
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
