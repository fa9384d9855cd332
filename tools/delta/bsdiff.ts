// The diff of the patch builder: Colin Percival's bsdiff algorithm, as detools' sequential patches
// carry it. A suffix array of the old image gives, for each position of the new one, the longest
// match anywhere in the old; a match is taken once it beats, by more than 8 bytes, what simply
// continuing the previous alignment would give. Between two matches, the previous alignment is
// extended forward and the next one backward as long as at least half the bytes agree (an
// approximate match costs little as a diff, whose bytes are mostly zeros and compress well), the
// two extensions are split where they overlap, and what lies between is extra (new) data.
//
// Each step gives one chunk triple: `diff` bytes (new − old, byte-wise, over the aligned
// stretch), `extra` bytes (copied from the new image), and `adjust`, the jump of the old offset
// to the next alignment. A diff never reads outside the old image.

import { suffixArray } from "./suffix-array"

export interface Triple {
    /** New offset and old offset where the diff starts. */
    to: number
    from: number
    diff: number
    extra: number
    adjust: number
}

/** Length of the common prefix of a[i..] and b[j..]. */
function common(a: Uint8Array, i: number, b: Uint8Array, j: number): number {
    let n = 0
    const m = Math.min(a.length - i, b.length - j)
    while (n < m && a[i + n] === b[j + n]) n++
    return n
}

/** -1, 0 or 1: the suffix old[i..] against the query nw[j..] (compared up to the shorter). */
function compare(old: Uint8Array, i: number, nw: Uint8Array, j: number): number {
    const m = Math.min(old.length - i, nw.length - j)
    for (let n = 0; n < m; n++) {
        const d = old[i + n] - nw[j + n]
        if (d !== 0) return d < 0 ? -1 : 1
    }
    return old.length - i < nw.length - j ? -1 : 0
}

/** The chunk triples that turn `old` into `nw`. */
export function bsdiffTriples(old: Uint8Array, nw: Uint8Array): Triple[] {
    const sa = suffixArray(old)
    const oldSize = old.length
    const newSize = nw.length
    const out: Triple[] = []
    let matchPos = 0
    /** Longest match of nw[scan..] in old (its length; its offset in matchPos). */
    const search = (scan: number): number => {
        if (oldSize === 0) return 0
        let lo = 0
        let hi = oldSize
        while (lo < hi) {
            const mid = (lo + hi) >> 1
            if (compare(old, sa[mid], nw, scan) < 0) lo = mid + 1
            else hi = mid
        }
        let best = 0
        for (const k of [lo - 1, lo]) {
            if (k < 0 || k >= oldSize) continue
            const n = common(old, sa[k], nw, scan)
            if (n > best || (n === best && best === 0)) {
                best = n
                matchPos = sa[k]
            }
        }
        return best
    }

    let scan = 0
    let len = 0
    let pos = 0
    let lastScan = 0
    let lastPos = 0
    let lastOffset = 0
    while (scan < newSize) {
        let oldScore = 0
        scan += len
        let scsc = scan
        for (; scan < newSize; scan++) {
            len = search(scan)
            pos = matchPos
            for (; scsc < scan + len; scsc++) if (scsc + lastOffset < oldSize && old[scsc + lastOffset] === nw[scsc]) oldScore++
            if ((len === oldScore && len !== 0) || len > oldScore + 8) break
            if (scan + lastOffset < oldSize && old[scan + lastOffset] === nw[scan]) oldScore--
        }
        if (len === oldScore && scan !== newSize) continue
        // extend the previous alignment forward while at least half the bytes agree
        let agree = 0
        let bestF = 0
        let lenF = 0
        for (let i = 0; lastScan + i < scan && lastPos + i < oldSize; ) {
            if (old[lastPos + i] === nw[lastScan + i]) agree++
            i++
            if (agree * 2 - i > bestF * 2 - lenF) {
                bestF = agree
                lenF = i
            }
        }
        // and the new one backward
        let lenB = 0
        if (scan < newSize) {
            agree = 0
            let bestB = 0
            for (let i = 1; scan >= lastScan + i && pos >= i; i++) {
                if (old[pos - i] === nw[scan - i]) agree++
                if (agree * 2 - i > bestB * 2 - lenB) {
                    bestB = agree
                    lenB = i
                }
            }
        }
        // where they overlap, split at the best point
        const overlap = lastScan + lenF - (scan - lenB)
        if (overlap > 0) {
            let s = 0
            let best = 0
            let cut = 0
            for (let i = 0; i < overlap; i++) {
                if (nw[lastScan + lenF - overlap + i] === old[lastPos + lenF - overlap + i]) s++
                if (nw[scan - lenB + i] === old[pos - lenB + i]) s--
                if (s > best) {
                    best = s
                    cut = i + 1
                }
            }
            lenF += cut - overlap
            lenB -= cut
        }
        out.push({
            to: lastScan,
            from: lastPos,
            diff: lenF,
            extra: scan - lenB - (lastScan + lenF),
            adjust: pos - lenB - (lastPos + lenF),
        })
        lastScan = scan - lenB
        lastPos = pos - lenB
        lastOffset = pos - scan
    }
    return out
}
