// One command line as the module sees it: `AT+QIOTCFG="lifetime",120` → name "+QIOTCFG",
// form "set", args [{text:"lifetime",quoted:true},{text:"120",quoted:false}].
// Forms follow V.250: test `=?`, query `?`, set `=...`, exec (nothing after the name).
// Basic commands (`ATE0`, `ATI`) are a letter and an optional number: name "E", arg "0".
// Names are case-insensitive (a real module accepts `at+csq`); argument text keeps its case.

export type CommandForm = "exec" | "set" | "query" | "test"

export interface CommandArg {
    text: string
    quoted: boolean
}

export interface AtCommand {
    /** The line as received, without CR. */
    raw: string
    /** "+QIOTCFG", "E", "I", or "" for a bare `AT`. Upper case. */
    name: string
    form: CommandForm
    args: CommandArg[]
}

/** Parse a command line; null when it is not a well-formed AT command (the module answers ERROR). */
export function parseCommand(raw: string): AtCommand | null {
    if (raw.length < 2 || raw.slice(0, 2).toUpperCase() !== "AT") return null
    const body = raw.slice(2)
    if (body.length === 0) return { raw, name: "", form: "exec", args: [] }
    const c0 = body[0]
    if (c0 === "+" || c0 === "&" || c0 === "$") {
        let end = 1
        while (end < body.length && body[end] !== "=" && body[end] !== "?") end++
        const name = body.slice(0, end).toUpperCase()
        if (name.length < 2 || !/^[+&$][A-Z0-9_]+$/.test(name)) return null
        const rest = body.slice(end)
        if (rest === "") return { raw, name, form: "exec", args: [] }
        if (rest === "?") return { raw, name, form: "query", args: [] }
        if (rest === "=?") return { raw, name, form: "test", args: [] }
        if (rest[0] !== "=") return null
        const args = splitArgs(rest.slice(1))
        if (args === null) return null
        return { raw, name, form: "set", args }
    }
    // basic command: one letter, optional decimal number (ATE0, ATE1, ATI, ATI0)
    const m = /^([A-Za-z])([0-9]*)$/.exec(body)
    if (!m) return null
    const args = m[2].length > 0 ? [{ text: m[2], quoted: false }] : []
    return { raw, name: m[1].toUpperCase(), form: "exec", args }
}

/** Split a parameter list on commas outside quotes. null for an unterminated quote or text glued to a quote. */
export function splitArgs(text: string): CommandArg[] | null {
    const out: CommandArg[] = []
    let i = 0
    const n = text.length
    while (true) {
        while (i < n && text[i] === " ") i++
        if (i < n && text[i] === '"') {
            const close = text.indexOf('"', i + 1)
            if (close < 0) return null
            out.push({ text: text.slice(i + 1, close), quoted: true })
            i = close + 1
            while (i < n && text[i] === " ") i++
            if (i < n && text[i] !== ",") return null
        } else {
            const comma = text.indexOf(",", i)
            const end = comma < 0 ? n : comma
            const value = text.slice(i, end).trim()
            if (value.indexOf('"') >= 0) return null
            out.push({ text: value, quoted: false })
            i = end
        }
        if (i >= n) break
        i++ // the comma
    }
    return out
}

/** Strict non-negative decimal integer from an unquoted argument; NaN otherwise. */
export function argInt(arg: CommandArg | undefined): number {
    if (!arg || arg.quoted || !/^-?[0-9]{1,10}$/.test(arg.text)) return NaN
    return parseInt(arg.text, 10)
}

/** A quoted string argument's text, or null when absent or unquoted. */
export function argStr(arg: CommandArg | undefined): string | null {
    if (!arg || !arg.quoted) return null
    return arg.text
}
