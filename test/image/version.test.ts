// QuecThing version strings ↔ the header's version: the documented mapping (src/image/version.ts)
// both ways, the refusals, and the order. imgtool's own parser is the oracle for the dotted form
// in imgtool.test.ts.
import { describe, expect, it } from "vitest"
import { ImageError } from "../../src/image/errors"
import { compareImageVersions, formatVersion, parseVersion, quecthingVersion, sameVersion } from "../../src/image/version"

const V = (major: number, minor: number, revision: number, build = 0) => ({ major, minor, revision, build })

describe("QuecThing version → header version", () => {
    const cases: [string, ReturnType<typeof V>][] = [
        ["2_0_0", V(2, 0, 0)],
        ["1_0_0", V(1, 0, 0)],
        ["V1.2.3", V(1, 2, 3)],
        ["v1_2_3", V(1, 2, 3)],
        ["1.2.3", V(1, 2, 3)],
        ["V1_0", V(1, 0, 0)],
        ["2", V(2, 0, 0)],
        ["1_2_3+4", V(1, 2, 3, 4)],
        ["1.2.3+4", V(1, 2, 3, 4)],
        ["0_0_0", V(0, 0, 0)],
        ["255_255_65535+4294967295", V(255, 255, 65535, 4294967295)],
        ["10.20.300", V(10, 20, 300)],
    ]
    for (const [s, v] of cases) it(`"${s}" → ${formatVersion(v)}`, () => expect(parseVersion(s)).toEqual(v))
})

describe("strings that do not map are refused with bad-version", () => {
    const refused = [
        "", "V", "v.", "_", "1_", "1__0", ".1", "1.", "1_2_3_4", "1.2.3.4", "1_2.3", "01_0_0", "1_00_0", "1_0_0+01",
        "+1", "1+2", "1.2+3", "1_0_0+", "1_0_0++1", "-1_0_0", "1_-1_0", " 1_0_0", "1_0_0 ", "1_0_0a", "V1_0_0-beta",
        "VV1", "x1_0_0", "256_0_0", "0_256_0", "0_0_65536", "1_0_0+4294967296", "99999999999", "1e3", "0x10",
    ]
    for (const s of refused)
        it(JSON.stringify(s), () => {
            let err: unknown
            try {
                parseVersion(s)
            } catch (e) {
                err = e
            }
            expect(err).toBeInstanceOf(ImageError)
            expect((err as ImageError).reason).toBe("bad-version")
            expect((err as ImageError).message).toContain(JSON.stringify(s))
        })
})

describe("header version → string, and back", () => {
    it("formats imgtool's and QuecThing's forms", () => {
        expect(formatVersion(V(2, 0, 0))).toBe("2.0.0+0")
        expect(quecthingVersion(V(2, 0, 0))).toBe("2_0_0")
        expect(quecthingVersion(V(1, 2, 3, 4))).toBe("1_2_3+4")
        expect(quecthingVersion(V(1, 2, 3), ".", "V")).toBe("V1.2.3")
        expect(() => quecthingVersion(V(1, 2, 3), "-")).toThrow(ImageError)
        expect(() => quecthingVersion(V(1, 2, 3), "_", "ver")).toThrow(ImageError)
    })

    it("every form parses back to the same version", () => {
        const versions = [V(0, 0, 0), V(2, 0, 0), V(1, 2, 3, 4), V(255, 255, 65535, 4294967295), V(9, 10, 11)]
        for (const v of versions) {
            expect(parseVersion(quecthingVersion(v))).toEqual(v)
            expect(parseVersion(quecthingVersion(v, ".", "V"))).toEqual(v)
            expect(parseVersion(formatVersion(v))).toEqual(v)
        }
    })

    it("sameVersion: spellings of one version agree; others do not; unmappable strings throw", () => {
        expect(sameVersion("V2.0.0", V(2, 0, 0))).toBe(true)
        expect(sameVersion("2_0", V(2, 0, 0))).toBe(true)
        expect(sameVersion("2_0_1", V(2, 0, 0))).toBe(false)
        expect(sameVersion("2_0_0+1", V(2, 0, 0))).toBe(false)
        expect(() => sameVersion("2_0_0-rc1", V(2, 0, 0))).toThrow(ImageError)
    })

    it("orders by major, minor, revision, then build", () => {
        const sorted = ["0_0_1", "0_1_0", "0_1_0+1", "0_1_1", "1_0_0", "1_2_10", "1_10_0", "2_0_0"].map(parseVersion)
        for (let i = 0; i < sorted.length; i++)
            for (let j = 0; j < sorted.length; j++) expect(compareImageVersions(sorted[i], sorted[j])).toBe(Math.sign(i - j))
    })
})
