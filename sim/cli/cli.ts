// `npm run sim` as a function (main.ts is the process around it; tests call this in-process):
// parse the options, run one kind of run, and end every run — a usage error, a file or port that
// cannot be used, a failed start-up, a crash of the simulator itself — with one line on stderr
// when something went wrong, the common summary (summary.ts), and its exit code.

import { parseOptions, SimOptions, UsageError, USAGE } from "./options"
import { runNodeEngine } from "./node-engine"
import { runVmEngine } from "./vm-engine"
import { View } from "./view"
import { runModem } from "./modem-engine"
import { serveModule } from "./serve-module"
import { runModuleUpgradeCli } from "./module-upgrade"
import { CommonSummary, errorSummary, exitCode, RunKind } from "./summary"
import { HostError } from "../host/hub"
import { LinkError } from "../link/tcp-transport"
import { SotaError } from "../../src/sota/reasons"

export interface Engines {
    vm: (o: SimOptions, view: View) => Promise<CommonSummary>
    node: (o: SimOptions, view: View) => Promise<CommonSummary>
    modem: (o: SimOptions, view: View) => Promise<CommonSummary>
    moduleUpgrade: (o: SimOptions, view: View) => Promise<CommonSummary>
}

const ENGINES: Engines = {
    vm: (o, v) => runVmEngine(o, v),
    node: (o, v) => runNodeEngine(o, v),
    modem: (o, v) => runModem(o, v),
    moduleUpgrade: (o, v) => runModuleUpgradeCli(o, o.moduleUpgrade, v),
}

export interface CliEnv {
    out?: (s: string) => void
    err?: (s: string) => void
    engines?: Partial<Engines>
}

export interface CliResult {
    code: number
    /** null for --help and --serve-module */
    summary: CommonSummary | null
}

function kindOf(argv: string[]): RunKind {
    return argv.includes("--modem") ? "modem" : argv.includes("--module-upgrade") ? "module-upgrade" : "sota"
}

/** An error that ended a run, as a summary: what kind of failure, in one line. */
export function failureOf(err: any, o: SimOptions, run: RunKind, seconds: number): CommonSummary {
    if (err instanceof UsageError) return errorSummary(o, run, "error", "usage", err.message, seconds)
    if (err instanceof HostError) return errorSummary(o, run, "error", err.reason, err.message, seconds)
    if (err instanceof LinkError) return errorSummary(o, run, "link-error", err.code, err.message, seconds)
    // the firmware's own failure (e.g. a registration that never succeeds): an outcome, not a crash
    if (err instanceof SotaError) return errorSummary(o, run, "failed", err.reason, err.message, seconds)
    const code = err && typeof err.code === "string" && err.syscall ? ` (${err.code})` : ""
    return errorSummary(o, run, "error", "internal", `${err && err.message ? err.message : String(err)}${code}`, seconds)
}

export async function cli(argv: string[], env: CliEnv = {}): Promise<CliResult> {
    const out = env.out ?? ((s: string) => void process.stdout.write(s))
    const err = env.err ?? ((s: string) => void process.stderr.write(s))
    const engines = { ...ENGINES, ...(env.engines ?? {}) }
    const run = kindOf(argv)
    let o: SimOptions
    try {
        o = parseOptions(argv)
    } catch (e) {
        if (!(e instanceof UsageError)) throw e
        err(`sim: ${e.message}\n`)
        const s = errorSummary(null, run, "error", "usage", e.message)
        if (argv.includes("--json")) out(JSON.stringify(s) + "\n")
        return { code: s.exitCode, summary: s }
    }
    if (o.help) {
        out(USAGE + "\n")
        return { code: 0, summary: null }
    }
    // the bar is redrawn in place only on a terminal: the progress stream's own, never an injected one
    const onStderr = o.json && (o.progress || (!env.err && !!process.stderr.isTTY))
    const tty = o.json ? !env.err && !!process.stderr.isTTY : !env.out && !!process.stdout.isTTY
    const view = new View(o.json, out, err, { progressOnStderr: onStderr, tty })
    if (o.serveModule >= 0) return { code: await serveModule(o, view), summary: null }
    const t0 = Date.now()
    let s: CommonSummary
    try {
        if (o.modem !== null) s = await engines.modem(o, view)
        else if (o.moduleUpgrade !== null) s = await engines.moduleUpgrade(o, view)
        else {
            view.line(`sim: ${o.engine} engine, ${o.component} ${o.from} → ${o.to}, ${o.baud ? o.baud + " baud" : "unpaced"}, ${o.faults.length} fault(s)`)
            s = o.engine === "vm" ? await engines.vm(o, view) : await engines.node(o, view)
        }
    } catch (e: any) {
        s = failureOf(e, o, run, (Date.now() - t0) / 1000)
        if (s.reason === "internal" && o.trace && e && e.stack) err(`${e.stack}\n`)
    }
    if (s.result === "error" || s.result === "link-error" || s.healthy === null) err(`sim: ${s.detail}\n`)
    s.exitCode = exitCode(s.result, s.healthy, o.strict, s.reason)
    for (const f of s.faultsNotFired) view.warn(`--fault ${f} never fired`)
    view.summary(s)
    return { code: s.exitCode, summary: s }
}
