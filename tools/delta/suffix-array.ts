// The suffix array of a byte string, for the patch builder's longest-match search: prefix
// doubling (Manber and Myers) with radix sorts, O(n log n) time and four Int32Arrays of n.
// Suffixes are ordered as byte strings, a proper prefix before any longer string.

export function suffixArray(s: Uint8Array): Int32Array {
    const n = s.length
    const sa = new Int32Array(n)
    if (n === 0) return sa
    let rank = new Int32Array(n)
    let tmp = new Int32Array(n)
    const second = new Int32Array(n)
    // sort by the first byte
    const count = new Int32Array(Math.max(256, n) + 1)
    for (let i = 0; i < n; i++) count[s[i] + 1]++
    for (let c = 1; c <= 256; c++) count[c] += count[c - 1]
    for (let i = 0; i < n; i++) sa[count[s[i]]++] = i
    rank[sa[0]] = 0
    let classes = 1
    for (let j = 1; j < n; j++) {
        if (s[sa[j]] !== s[sa[j - 1]]) classes++
        rank[sa[j]] = classes - 1
    }
    for (let k = 1; classes < n; k *= 2) {
        // order by the second key (rank of i + k; none sorts first), from the previous order
        let m = 0
        for (let i = n - k; i < n; i++) second[m++] = i
        for (let j = 0; j < n; j++) if (sa[j] >= k) second[m++] = sa[j] - k
        // stable counting sort by the first key
        count.fill(0, 0, classes + 1)
        for (let i = 0; i < n; i++) count[rank[i] + 1]++
        for (let c = 1; c <= classes; c++) count[c] += count[c - 1]
        for (let j = 0; j < n; j++) {
            const i = second[j]
            sa[count[rank[i]]++] = i
        }
        // new ranks
        tmp[sa[0]] = 0
        classes = 1
        for (let j = 1; j < n; j++) {
            const a = sa[j - 1]
            const b = sa[j]
            const ra = a + k < n ? rank[a + k] : -1
            const rb = b + k < n ? rank[b + k] : -1
            if (rank[a] !== rank[b] || ra !== rb) classes++
            tmp[b] = classes - 1
        }
        const t = rank
        rank = tmp
        tmp = t
    }
    return sa
}
