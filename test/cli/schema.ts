// A small JSON Schema (2020-12) validator for the subset docs/summary.schema.json uses: type, enum,
// const, required, properties, additionalProperties, items, minimum, pattern, allOf, if/then.
// A keyword outside that subset throws, so the schema cannot rely on something this ignores.

type Schema = Record<string, any>

const ANNOTATIONS = new Set(["$schema", "title", "description"])
const KNOWN = new Set(["type", "enum", "const", "required", "properties", "additionalProperties", "items", "minimum", "pattern", "allOf", "if", "then"])

function typeOf(v: unknown): string {
    if (v === null) return "null"
    if (Array.isArray(v)) return "array"
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number"
    return typeof v
}

function hasType(v: unknown, t: string): boolean {
    const a = typeOf(v)
    return a === t || (t === "number" && a === "integer")
}

/** The errors of `v` against `s` (empty: valid), each as "path: what". */
export function validate(s: Schema, v: unknown, path = "$"): string[] {
    const errs: string[] = []
    for (const k of Object.keys(s)) if (!ANNOTATIONS.has(k) && !KNOWN.has(k)) throw new Error(`${path}: schema keyword ${k} is not supported`)
    if (s.type !== undefined) {
        const types: string[] = Array.isArray(s.type) ? s.type : [s.type]
        if (!types.some(t => hasType(v, t))) return [`${path}: ${typeOf(v)} is not ${types.join(" or ")}`]
    }
    if (s.enum && !s.enum.some((e: unknown) => e === v)) errs.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`)
    if ("const" in s && s.const !== v) errs.push(`${path}: ${JSON.stringify(v)} is not ${JSON.stringify(s.const)}`)
    if (typeof v === "number" && s.minimum !== undefined && v < s.minimum) errs.push(`${path}: ${v} < ${s.minimum}`)
    if (typeof v === "string" && s.pattern && !new RegExp(s.pattern, "u").test(v)) errs.push(`${path}: "${v}" does not match ${s.pattern}`)
    if (Array.isArray(v) && s.items) v.forEach((x, i) => errs.push(...validate(s.items, x, `${path}[${i}]`)))
    if (typeOf(v) === "object") {
        const o = v as Record<string, unknown>
        for (const r of s.required ?? []) if (!(r in o)) errs.push(`${path}: ${r} is missing`)
        for (const [k, x] of Object.entries(o)) {
            if (s.properties && k in s.properties) errs.push(...validate(s.properties[k], x, `${path}.${k}`))
            else if (s.additionalProperties === false) errs.push(`${path}: ${k} is not allowed`)
            else if (typeof s.additionalProperties === "object") errs.push(...validate(s.additionalProperties, x, `${path}.${k}`))
        }
    }
    for (const sub of s.allOf ?? []) errs.push(...validate(sub, v, path))
    if (s.if && s.then && validate(s.if, v, path).length === 0) errs.push(...validate(s.then, v, path))
    return errs
}
