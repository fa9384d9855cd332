// Strict decimal integers, for AT fields (src/at/fields.ts) and version parts (version.ts): one
// parser in the image for both. No RegExp: DeviceScript has none.

/** Strict decimal integer: optional sign, digits only, at most 15 digits (exact in a double). Else NaN. */
export function parseDecimal(s: string): number {
    const n = s.length
    let i = 0
    let neg = false
    const c0 = s.charCodeAt(0) // NaN for "", which is then refused below
    if (c0 === 45 /* - */ || c0 === 43 /* + */) {
        neg = c0 === 45
        i = 1
    }
    if (i >= n || n - i > 15) return NaN
    let v = 0
    for (; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c < 48 || c > 57) return NaN
        v = v * 10 + (c - 48)
    }
    return neg ? -v : v
}
