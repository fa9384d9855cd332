// QuecThing component versions: "1_0_0", "2_0_0", "V1_0", also "1.2.10". Parts are split on "_"
// and "."; numeric parts compare as numbers ("1_10" > "1_9"), missing parts count as 0
// ("1_0" == "1_0_0"), a leading "V"/"v" is ignored. A part that is not all digits is a
// pre-release mark: it compares as text with another text part and sorts BEFORE any numeric part,
// a missing one (0) included, so "2_0_0_rc1" < "2_0_0" < "2_0_0_1" and "1_0_beta" < "1_0_0"
// (semantic versioning's rule: a pre-release precedes its release, and a plan for one while its
// release runs is a downgrade). No RegExp (DeviceScript has none).

import { parseDecimal } from "./decimal"

function parts(v: string): string[] {
    let s = v.trim()
    const c0 = s.charCodeAt(0)
    if (c0 === 86 /* V */ || c0 === 118 /* v */) s = s.slice(1)
    // slices between separators, found by char code (s[i] makes a one-character string per byte)
    const out: string[] = []
    let start = 0
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c === 95 /* _ */ || c === 46 /* . */) {
            out.push(s.slice(start, i))
            start = i + 1
        }
    }
    out.push(s.slice(start))
    return out
}

/** The value of an all-digit part, or -1 when it has a non-digit (or is longer than 15 digits). */
function numericPart(p: string): number {
    if (p.length === 0) return 0
    // parseDecimal's digits-only rule, without its sign: "+1" and "-1" are pre-release marks
    const c0 = p.charCodeAt(0)
    if (c0 === 43 || c0 === 45) return -1
    const n = parseDecimal(p)
    return isNaN(n) ? -1 : n
}

/** -1 when a < b, 0 when equal, 1 when a > b. */
export function compareVersions(a: string, b: string): number {
    const pa = parts(a)
    const pb = parts(b)
    const n = Math.max(pa.length, pb.length)
    for (let i = 0; i < n; i++) {
        const sa = pa[i] || "" // past the end: undefined, a missing part
        const sb = pb[i] || ""
        const na = numericPart(sa)
        const nb = numericPart(sb)
        if (na >= 0 && nb >= 0) {
            if (na !== nb) return na < nb ? -1 : 1
        } else if (na >= 0) return 1 // a's part is a number, b's a pre-release mark
        else if (nb >= 0) return -1
        else if (sa !== sb) return sa < sb ? -1 : 1
    }
    return 0
}
