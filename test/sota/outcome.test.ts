// The last-outcome record (src/sota/outcome.ts): every reason we have maps to one IoTDA result,
// read from the reason unions themselves so that a new reason without a mapping fails here; the
// record's bytes round-trip, stay a few dozen bytes, and anything else decodes to null.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { AtCommandError, AtTimeoutError } from "../../src/at/errors"
import { FlashError } from "../../src/flash/flash"
import { StoreError } from "../../src/flash/store-port"
import { ImageError } from "../../src/image/errors"
import { decodeOutcome, encodeOutcome, Outcome, outcomeReason, RESULT_TABLE, resultOf } from "../../src/sota/outcome"
import { SotaError } from "../../src/sota/reasons"

/** The string members of `export type <name> = | "a" // … | "b"`, as written in the source. */
function unionMembers(file: string, name: string): string[] {
    const src = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8").split("\n")
    const at = src.findIndex(l => l.startsWith(`export type ${name} =`))
    if (at < 0) throw new Error(`no type ${name} in ${file}`)
    const out: string[] = []
    for (let i = at + 1; i < src.length; i++) {
        const l = src[i].trim()
        if (l.startsWith("//")) continue
        if (!l.startsWith("|")) break
        const m = /^\|\s*"([^"]+)"/.exec(l)
        if (!m) throw new Error(`unexpected member line in ${file}: ${l}`)
        out.push(m[1])
    }
    return out
}

const sources: [string, string, string][] = [
    ["src/sota/reasons.ts", "SotaReason", ""],
    ["src/image/errors.ts", "ImageReason", "image:"],
    ["src/flash/store-port.ts", "StoreReason", "store:"],
    ["src/flash/flash.ts", "FlashReason", "flash:"],
]

const tabled = RESULT_TABLE.flatMap(l => l.split(" ").slice(1))

describe("every reason has one IoTDA result", () => {
    for (const [file, type, prefix] of sources) {
        const members = unionMembers(file, type)
        it(`${type} (${members.length} reasons in ${file}) is in the table, each once`, () => {
            expect(members.length).toBeGreaterThan(5)
            const missing = members.map(m => prefix + m).filter(r => !tabled.includes(r))
            expect(missing, `add these to RESULT_TABLE in src/sota/outcome.ts`).toEqual([])
        })
    }

    it("the table names no reason twice and nothing that is not a reason", () => {
        const all = new Set(sources.flatMap(([f, t, p]) => unionMembers(f, t).map(m => p + m)))
        all.add("internal")
        expect(tabled.length).toBe(new Set(tabled).size)
        expect(tabled.filter(r => !all.has(r))).toEqual([])
        expect(tabled.length).toBe(all.size)
    })

    it("the results are IoTDA's codes", () => {
        const codes = RESULT_TABLE.map(l => +l.split(" ")[0])
        for (const c of codes) expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]).toContain(c)
    })

    it("the mapping, reason by reason where it matters", () => {
        const cases: [string, number][] = [
            ["", 0],
            ["busy", 1],
            ["weak-signal", 2],
            ["same-version", 3],
            ["downgrade", 3],
            ["low-battery", 4],
            ["too-large", 5],
            ["timeout", 6],
            ["connection-lost", 6],
            ["md5-mismatch", 7],
            ["sha256-mismatch", 7],
            ["image:hash-mismatch", 7],
            ["unsupported-package", 8],
            ["wrong-source-version", 8],
            ["self-test-failed", 10],
            ["rolled-back", 10],
            ["flash:timeout", 10], // not a download timeout: the flash chip stayed busy
            ["flash:worn-out", 10],
            ["store:bad-state", 255],
            ["internal", 255],
            ["a-reason-from-the-future", 255],
        ]
        for (const [r, code] of cases) expect([r, resultOf(r)]).toEqual([r, code])
    })
})

describe("the reason an error carries", () => {
    it("typed errors keep their reason, qualified by where they came from", () => {
        expect(outcomeReason(new SotaError("md5-mismatch", "x"))).toBe("md5-mismatch")
        expect(outcomeReason(new ImageError("no-hash", "x"))).toBe("image:no-hash")
        expect(outcomeReason(new FlashError("worn-out", 4096, "x"))).toBe("flash:worn-out")
        expect(outcomeReason(new StoreError("not-blank", "x"))).toBe("store:not-blank")
        expect(outcomeReason(new AtTimeoutError("AT+QIOTOTARD=0,1024", 300))).toBe("timeout")
        expect(outcomeReason(new AtCommandError("AT+QIOTUPDATE=1", "ERROR"))).toBe("module-error")
        expect(outcomeReason(new Error("boom"))).toBe("internal")
        expect(outcomeReason("a string")).toBe("internal")
        for (const e of [new ImageError("no-hash", "x"), new FlashError("link", 0, "x"), new StoreError("digest-mismatch", "x")])
            expect(resultOf(outcomeReason(e))).not.toBe(255)
    })
})

describe("the record's bytes", () => {
    const o: Outcome = { from: "1_0_0", to: "2_0_0", result: 7, reason: "sha256-mismatch", when: 1_796_000_000 }

    it("round-trips, in a few dozen bytes", () => {
        const b = encodeOutcome(o)
        expect(b.length).toBe(9 + 5 + 5 + 15)
        expect(decodeOutcome(b)).toEqual(o)
        const ok: Outcome = { from: "1_0_0", to: "2_0_0", result: 0, reason: "", when: 0 }
        expect(decodeOutcome(encodeOutcome(ok))).toEqual(ok)
        expect(encodeOutcome(ok).length).toBe(19)
    })

    it("the layout is fixed: format, result, when (u32 LE), then three length-prefixed strings", () => {
        const b = encodeOutcome({ from: "A", to: "BC", result: 10, reason: "", when: 0x01020304 })
        expect([...b]).toEqual([1, 10, 4, 3, 2, 1, 1, 0x41, 2, 0x42, 0x43, 0])
        expect(decodeOutcome(encodeOutcome({ ...o, when: 0xffffffff }))!.when).toBe(0xffffffff)
    })

    it("out-of-range numbers are stored as unknown / internal; long strings are cut to 32 bytes", () => {
        const d = decodeOutcome(encodeOutcome({ from: "x".repeat(40), to: "2_0_0", result: 300, reason: "r", when: -5 }))!
        expect(d).toEqual({ from: "x".repeat(32), to: "2_0_0", result: 255, reason: "r", when: 0 })
        expect(decodeOutcome(encodeOutcome({ ...o, when: 2 ** 32 }))!.when).toBe(0)
        expect(encodeOutcome({ from: "v".repeat(99), to: "w".repeat(99), result: 0, reason: "z".repeat(99), when: 1 }).length).toBe(105)
    })

    it("anything that is not a record decodes to null", () => {
        const b = encodeOutcome(o)
        expect(decodeOutcome(Buffer.alloc(0))).toBeNull()
        expect(decodeOutcome(null as any)).toBeNull()
        expect(decodeOutcome(b.subarray(0, b.length - 1))).toBeNull() // truncated
        expect(decodeOutcome(Buffer.concat([b, Buffer.from([0])]))).toBeNull() // a byte left over
        const other = Buffer.from(b)
        other[0] = 2 // another format
        expect(decodeOutcome(other)).toBeNull()
        const long = Buffer.from(b)
        long[6] = 33 // a field longer than any we write
        expect(decodeOutcome(long)).toBeNull()
        expect(decodeOutcome(Buffer.alloc(9, 0xff))).toBeNull() // erased flash
    })
})
