// Parsing of AT information text: `+PREFIX: a,"b", c,,"d,e"`.
// Tolerates what real modules and Quectel's own transcripts do: a space or none after the
// colon and after commas, quoted and unquoted fields, empty fields, commas inside quotes.
// No RegExp: DeviceScript has none.

/** The fields of one AT line, after its `+PREFIX:` part. */
export class AtFields {
    /** Field texts, unquoted and trimmed. */
    values: string[]
    /** Whether each field was quoted (an empty quoted field "" differs from an absent one). */
    quoted: boolean[]

    constructor(values: string[], quoted: boolean[]) {
        this.values = values
        this.quoted = quoted
    }

    count(): number {
        return this.values.length
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

/** Strict decimal integer: optional sign, digits only, at most 15 digits (exact in a double). Else NaN. */
export function parseDecimal(s: string): number {
    const n = s.length
    let i = 0
    let neg = false
    if (n > 0 && (s[0] === "-" || s[0] === "+")) {
        neg = s[0] === "-"
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

/** The prefix of an information line: `+QIOTEVT: 7,10700` → "+QIOTEVT"; "" when there is no colon. */
export function linePrefix(line: string): string {
    const c = line.indexOf(":")
    if (c <= 0) return ""
    return line.slice(0, c)
}

/** Fields after the first colon (or of the whole line when it has none). */
export function lineFields(line: string): AtFields {
    const c = line.indexOf(":")
    return splitFields(c < 0 ? line : line.slice(c + 1))
}

/** Split a parameter list on commas outside double quotes. An unterminated quote runs to the end. */
export function splitFields(text: string): AtFields {
    const values: string[] = []
    const quoted: boolean[] = []
    const n = text.length
    if (text.trim().length === 0) return new AtFields(values, quoted)
    let i = 0
    while (true) {
        while (i < n && text[i] === " ") i++
        let value = ""
        let q = false
        if (i < n && text[i] === '"') {
            q = true
            const close = text.indexOf('"', i + 1)
            const end = close < 0 ? n : close
            value = text.slice(i + 1, end)
            i = close < 0 ? n : close + 1
            // anything between the closing quote and the comma is ignored (tolerance)
            const comma = text.indexOf(",", i)
            i = comma < 0 ? n : comma
        } else {
            const comma = text.indexOf(",", i)
            const end = comma < 0 ? n : comma
            value = text.slice(i, end).trim()
            i = end
        }
        values.push(value)
        quoted.push(q)
        if (i >= n) break
        i++ // skip the comma; a trailing comma yields a final empty field
        if (i >= n) {
            values.push("")
            quoted.push(false)
            break
        }
    }
    return new AtFields(values, quoted)
}
