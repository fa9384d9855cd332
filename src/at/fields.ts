// Parsing of AT information text: `+PREFIX: a,"b", c,,"d,e"`.
// Tolerates what real modules and Quectel's own transcripts do: a space or none after the
// colon and after commas, quoted and unquoted fields, empty fields, commas inside quotes.
// No RegExp: DeviceScript has none.

import { parseDecimal } from "../lib/decimal"

/** The fields of one AT line, after its `+PREFIX:` part. */
export class AtFields {
    /** Field texts, unquoted and trimmed; `values.length` is the field count (no count() method: one costs every image). */
    values: string[]
    /** Whether each field was quoted (an empty quoted field "" differs from an absent one). */
    quoted: boolean[]

    constructor(values: string[], quoted: boolean[]) {
        this.values = values
        this.quoted = quoted
    }

    /** Field i as text; "" when absent. */
    str(i: number): string {
        return i < this.values.length ? this.values[i] : ""
    }

    /** Field i as a strict decimal integer, or NaN (absent, empty, quoted or not a number). */
    int(i: number): number {
        if (i >= this.values.length || this.quoted[i]) return NaN
        return parseDecimal(this.values[i])
    }
}

/** The prefix of an information line: `+QIOTEVT: 7,10700` → "+QIOTEVT"; "" when there is no colon. */
export function linePrefix(line: string): string {
    const c = line.indexOf(":")
    if (c <= 0) return ""
    return line.slice(0, c)
}

/** Fields after the first colon (or of the whole line when it has none), split as FieldScan walks them. */
export function lineFields(line: string): AtFields {
    const c = line.indexOf(":")
    const text = c < 0 ? line : line.slice(c + 1)
    const values: string[] = []
    const quoted: boolean[] = []
    const scan = new FieldScan(text, 0)
    while (scan.next()) {
        values.push(text.slice(scan.from, scan.to))
        quoted.push(scan.quoted)
    }
    return new AtFields(values, quoted)
}

const SPACE = 32
const QUOTE = 34
const COMMA = 44

/**
 * Walks a parameter list one field at a time, splitting on commas outside double quotes (an
 * unterminated quote runs to the end): `from`/`to` bound the current field's text, unquoted and
 * trimmed. Nothing is allocated per field, so a caller that needs one number of a long URC need
 * not split it. Scans with charCodeAt, since indexing a string in DeviceScript allocates a
 * one-character string per access (measured 1.5 ms per 10700 line before, in the VM).
 */
export class FieldScan {
    // from, to, quoted: set by each next() that returns true, read only after one (no
    // initialisers: each is a store in the constructor's bytecode)
    from: number
    to: number
    quoted: boolean
    private text: string
    /** Start of the next field; -1 when there is none. */
    private i: number

    /** The fields of text[start..]; text that is empty or only spaces has none. */
    constructor(text: string, start: number) {
        this.text = text
        let i = start
        while (i < text.length && text.charCodeAt(i) === SPACE) i++
        this.i = i < text.length ? i : -1
    }

    /** Advance to the next field; false when there is none. A trailing comma yields a final empty field. */
    next(): boolean {
        const text = this.text
        const n = text.length
        let i = this.i
        if (i < 0) return false
        while (i < n && text.charCodeAt(i) === SPACE) i++
        // locals, stored once at the end: each this.x access in these loops was bytecode
        const quoted = i < n && text.charCodeAt(i) === QUOTE
        let from = i
        let to = i
        if (quoted) {
            from = i + 1
            i = from
            while (i < n && text.charCodeAt(i) !== QUOTE) i++
            to = i
            // anything between the closing quote and the comma is ignored (tolerance)
            while (i < n && text.charCodeAt(i) !== COMMA) i++
        } else {
            while (i < n && text.charCodeAt(i) !== COMMA) i++
            to = i
            while (to > from && text.charCodeAt(to - 1) === SPACE) to--
        }
        this.quoted = quoted
        this.from = from
        this.to = to
        this.i = i >= n ? -1 : i + 1
        return true
    }
}

/**
 * lineFields(line).int(i) without splitting the line: every URC is read for its type and code,
 * and split, a long one (a 10701 with both digests) costs about three times its size on the
 * VM heap.
 */
export function lineInt(line: string, i: number): number {
    const c = line.indexOf(":")
    const scan = new FieldScan(line, c < 0 ? 0 : c + 1)
    for (let k = 0; k <= i; k++) if (!scan.next()) return NaN
    return scan.quoted ? NaN : parseDecimal(line.slice(scan.from, scan.to))
}
