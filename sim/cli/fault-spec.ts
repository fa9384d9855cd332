// `--fault SPEC`: one fault per spec, parsed into where it acts (the module, the UART, the
// flash, the application's self-test). See USAGE in options.ts for the grammar.

import type { FaultRule } from "../module/faults"
import type { ScriptedByteFault, ByteFaultRates } from "../link/uart-line"
import type { CutKind } from "../flash/nor-flash"
import { UsageError } from "./options"

export type FaultSpec =
    | { kind: "cut-block"; block: number; cut: CutKind }
    | { kind: "cut-op"; op: number; cut: CutKind }
    | { kind: "module"; rule: (block: number) => FaultRule }
    | { kind: "byte"; fault: ScriptedByteFault }
    | { kind: "rate"; rates: ByteFaultRates }
    | { kind: "self-test-fail" }

function num(spec: string, v: string): number {
    if (!/^\d+$/.test(v || "")) throw new UsageError(`--fault ${spec}: "${v ?? ""}" is not a whole number`)
    return Number(v)
}

function cutKind(spec: string, v: string | undefined, dflt: CutKind): CutKind {
    if (v === undefined) return dflt
    if (v !== "before" && v !== "after" && v !== "torn") throw new UsageError(`--fault ${spec}: the cut is before, after or torn`)
    return v
}

/** `key=value` after the @, e.g. "block=3" → ["block", "3"]. */
function target(spec: string, t: string, keys: string[]): [string, string] {
    const eq = t.indexOf("=")
    const k = eq < 0 ? "" : t.slice(0, eq)
    if (!keys.includes(k)) throw new UsageError(`--fault ${spec}: expected ${keys.map(x => x + "=N").join(" or ")}`)
    return [k, t.slice(eq + 1)]
}

export function parseFault(spec: string): FaultSpec {
    const at = spec.indexOf("@")
    const kind = at < 0 ? spec : spec.slice(0, at)
    const rest = at < 0 ? "" : spec.slice(at + 1)
    const [where, arg] = rest.split(":")
    const readAt = (block: number, b: number) => `AT+QIOTOTARD=${block * b},`
    switch (kind) {
        case "cut": {
            const [k, v] = target(spec, where, ["block", "op"])
            const n = num(spec, v)
            if (k === "block") return { kind: "cut-block", block: n, cut: cutKind(spec, arg, "torn") }
            if (n < 1) throw new UsageError(`--fault ${spec}: flash operations count from 1`)
            return { kind: "cut-op", op: n, cut: cutKind(spec, arg, "torn") }
        }
        case "reboot": {
            const n = num(spec, target(spec, where, ["block"])[1])
            return { kind: "module", rule: b => ({ at: readAt(n, b), action: { kind: "reboot-mid-payload", afterBytes: Math.floor(b / 3) } }) }
        }
        case "lie": {
            const n = num(spec, target(spec, where, ["block"])[1])
            return { kind: "module", rule: b => ({ at: readAt(n, b), action: { kind: "lie-length", by: 5 } }) }
        }
        case "cloud-loss": {
            const n = num(spec, target(spec, where, ["block"])[1])
            return { kind: "module", rule: b => ({ at: readAt(n, b), action: { kind: "cloud-loss" } }) }
        }
        case "drop":
        case "corrupt":
        case "dup": {
            const [k, v] = target(spec, where, ["byte", "rate"])
            const action = kind === "dup" ? "duplicate" : kind
            if (k === "byte") return { kind: "byte", fault: { dir: "to-mcu", index: num(spec, v), action } }
            const p = Number(v)
            if (!(p > 0 && p < 1)) throw new UsageError(`--fault ${spec}: the rate is a probability between 0 and 1`)
            return { kind: "rate", rates: { [action]: p } }
        }
        case "error":
        case "timeout": {
            if (!where || !where.toUpperCase().startsWith("AT")) throw new UsageError(`--fault ${spec}: name the command, e.g. ${kind}@AT+QIOTUPDATE=1`)
            const nth = arg === undefined ? 1 : num(spec, arg)
            return { kind: "module", rule: () => ({ at: where, nth, action: { kind: kind === "error" ? "error" : "no-reply" } }) }
        }
        case "bad-digest":
            return { kind: "module", rule: () => ({ afterMs: 0, action: { kind: "bad-package" } }) }
        case "self-test-fail":
            return { kind: "self-test-fail" }
        default:
            throw new UsageError(`--fault ${spec}: unknown fault "${kind}" (see --help)`)
    }
}
