// `npm run sim`: one upgrade in the simulator, end to end. Exit code 0 when the device ends
// healthy (a valid, confirmed image runs), whatever the upgrade's result; 1 when it does not;
// 2 for bad options (one line on stderr).

import { parseOptions, UsageError, USAGE } from "./options"
import { runNodeEngine } from "./node-engine"
import { View } from "./view"

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
    if (o.engine === "vm") {
        process.stderr.write("sim: --engine vm needs the DeviceScript simulator host, which is not built yet; use --engine node\n")
        return 2
    }
    const view = new View(o.json)
    view.line(`sim: ${o.engine} engine, ${o.component} ${o.from} → ${o.to}, ${o.baud ? o.baud + " baud" : "unpaced"}, ${o.faults.length} fault(s)`)
    const summary = await runNodeEngine(o, view)
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
