// `npm run sim`: one upgrade in the simulator, end to end. Exit code 0 when the device ends
// healthy (a valid, confirmed image runs), whatever the upgrade's result; 1 when it does not;
// 2 for bad options (one line on stderr); 3 when --modem cannot reach or use the module.

import { parseOptions, UsageError, USAGE } from "./options"
import { runNodeEngine } from "./node-engine"
import { runVmEngine } from "./vm-engine"
import { View } from "./view"
import { runModem } from "./modem-engine"
import { serveModule } from "./serve-module"
import { runModuleUpgradeCli } from "./module-upgrade"

async function main(argv: string[]): Promise<number> {
    let o
    try {
        o = parseOptions(argv)
    } catch (e) {
        if (e instanceof UsageError) {
            process.stderr.write(`sim: ${e.message}\n`)
            return 2
        }
        throw e
    }
    if (o.help) {
        process.stdout.write(USAGE + "\n")
        return 0
    }
    if (o.serveModule >= 0) return serveModule(o, new View(o.json))
    if (o.modem !== null) return runModem(o, new View(o.json))
    if (o.moduleUpgrade !== null) {
        const view = new View(o.json)
        const r = await runModuleUpgradeCli(o, o.moduleUpgrade, view)
        if (o.json) process.stdout.write(JSON.stringify(r) + "\n")
        else view.line(`module upgrade: ${r.ok ? "done" : `failed (${r.reason}${r.detail ? ": " + r.detail : ""})`}, revision ${r.revisionBefore} → ${r.revisionAfter || "?"}`)
        return 0 // the MCU's own image is never touched by a module upgrade
    }
    const view = new View(o.json)
    view.line(`sim: ${o.engine} engine, ${o.component} ${o.from} → ${o.to}, ${o.baud ? o.baud + " baud" : "unpaced"}, ${o.faults.length} fault(s)`)
    const summary = o.engine === "vm" ? await runVmEngine(o, view) : await runNodeEngine(o, view)
    view.summary(summary)
    return summary.healthy ? 0 : 1
}

main(process.argv.slice(2)).then(
    code => process.exit(code),
    err => {
        process.stderr.write(`sim: ${err && err.stack ? err.stack : err}\n`)
        process.exit(1)
    }
)
