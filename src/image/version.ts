// QuecThing version strings ↔ MCUboot's image version (major.minor.revision+build).
//
// String → header (parseVersion):
//   [V|v] MAJOR [SEP MINOR [SEP REVISION [+BUILD]]]
//   - SEP is "_" (QuecThing's usual `2_0_0`) or "." (`1.2.3`, imgtool's), the same one throughout;
//   - every part is decimal digits without leading zeros ("0" itself is fine), as imgtool's
//     decode_version wants them, so that one version has one spelling per separator;
//   - missing parts are 0: `2` and `2_0` are 2.0.0+0 (src/lib/version.ts compares them equal too);
//     a build only follows all three parts (`1.2+3` is refused, as imgtool refuses it);
//   - MAJOR and MINOR 0-255, REVISION 0-65535, BUILD 0-4294967295 (the header's u8, u8, u16, u32).
//   Examples: `2_0_0` → 2.0.0+0, `V1.2.3` → 1.2.3+0, `1.2.3` → 1.2.3+0, `1_2_3+4` → 1.2.3+4.
//   Refused with ImageError "bad-version": an empty string or part (`1__0`, `1.`), a fourth part
//   (`1_2_3_4`), mixed separators (`1_2.3`), leading zeros (`01_0_0`), signs, spaces, any letter
//   but the leading V (`1_0_0a`, `V1_0_0-beta`), a value out of range (`256_0_0`, `1_0_65536`).
//
// Header → string: quecthingVersion gives `MAJOR_MINOR_REVISION`, with `+BUILD` only when the build
// is not 0 (or the prefix and separator asked for), and formatVersion gives imgtool's
// `MAJOR.MINOR.REVISION+BUILD`. Both parse back to the same version. The header keeps numbers, not
// spelling: `V1.2.3`, `1.2.3` and `1_2_3` are one version, and the string a device reports is the
// one its program was built with, which must parse to its image's version (sameVersion).

import { ImageError } from "./errors"
import { ImageVersion, versionInRange } from "./header"

/** The value of s[start..end) when it is 1-10 decimal digits without a leading zero, else -1. */
function decimal(s: string, start: number, end: number): number {
    if (end <= start || end - start > 10) return -1
    if (s.charCodeAt(start) === 48 && end - start > 1) return -1
    let n = 0
    for (let i = start; i < end; i++) {
        const c = s.charCodeAt(i)
        if (c < 48 || c > 57) return -1
        n = n * 10 + (c - 48)
    }
    return n
}

function refuse(s: string, why: string): ImageError {
    return new ImageError("bad-version", `"${s}": ${why}`)
}

/** Parse a QuecThing (or imgtool) version string; throws ImageError "bad-version". */
export function parseVersion(s: string): ImageVersion {
    if (typeof s !== "string" || s.length === 0) throw refuse(`${s}`, "empty")
    const c0 = s.charCodeAt(0)
    const start = c0 === 86 || c0 === 118 ? 1 : 0 // V, v
    let end = s.length
    let build = 0
    const plus = s.indexOf("+")
    if (plus >= 0) {
        build = decimal(s, plus + 1, s.length)
        if (build < 0) throw refuse(s, "the build after '+' must be decimal digits without leading zeros")
        end = plus
    }
    let sep = 0
    const parts: number[] = []
    let p = start
    for (let i = start; i <= end; i++) {
        const c = i < end ? s.charCodeAt(i) : -1
        if (c !== 95 && c !== 46 && c !== -1) continue // not "_", "." or the end
        if (c !== -1) {
            if (sep !== 0 && c !== sep) throw refuse(s, "mixed separators ('_' and '.')")
            sep = c
        }
        const v = decimal(s, p, i)
        if (v < 0) throw refuse(s, "each part must be decimal digits without leading zeros")
        parts.push(v)
        if (parts.length > 3) throw refuse(s, "more than three parts (major, minor, revision)")
        p = i + 1
    }
    const v: ImageVersion = {
        major: parts[0],
        minor: parts.length > 1 ? parts[1] : 0,
        revision: parts.length > 2 ? parts[2] : 0,
        build: build,
    }
    if (plus >= 0 && parts.length < 3) throw refuse(s, "a build ('+') only after major, minor and revision")
    if (!versionInRange(v)) throw refuse(s, "out of range: major and minor 0-255, revision 0-65535, build 0-4294967295")
    return v
}

/** imgtool's form: `1.2.3+4`, the build always shown (as `imgtool verify` and `dumpinfo` print it). */
export function formatVersion(v: ImageVersion): string {
    return `${v.major}.${v.minor}.${v.revision}+${v.build}`
}

/** QuecThing's form: `1_2_3` by default (`prefix` "V" and `sep` "." give `V1.2.3`), `+build` only when the build is not 0. */
export function quecthingVersion(v: ImageVersion, sep?: string, prefix?: string): string {
    const d = sep === undefined ? "_" : sep
    if (d !== "_" && d !== ".") throw new ImageError("bad-argument", `separator "${d}": "_" or "."`)
    const p = prefix === undefined ? "" : prefix
    if (p !== "" && p !== "V" && p !== "v") throw new ImageError("bad-argument", `prefix "${p}": "", "V" or "v"`)
    return `${p}${v.major}${d}${v.minor}${d}${v.revision}` + (v.build !== 0 ? `+${v.build}` : "")
}

/** -1, 0 or 1, comparing major, minor, revision, then build (as MCUboot does with build numbers on). */
export function compareImageVersions(a: ImageVersion, b: ImageVersion): number {
    if (a.major !== b.major) return a.major < b.major ? -1 : 1
    if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1
    if (a.revision !== b.revision) return a.revision < b.revision ? -1 : 1
    if (a.build !== b.build) return a.build < b.build ? -1 : 1
    return 0
}

/** True when the string maps onto exactly v; false when it maps elsewhere. Throws bad-version when it does not map. */
export function sameVersion(s: string, v: ImageVersion): boolean {
    return compareImageVersions(parseVersion(s), v) === 0
}
