// `npm run sim:web -- [sim options] [--port N] [--exit]`: one `npm run sim` run (VM engine) with
// its web view (server.ts): open the printed address to watch the two slots fill, flip and confirm,
// the plan, the download's rate and time left, the metadata records and the AT dialogue, and to
// cut the power, reboot the module or corrupt bytes. The page stays up after the run until Ctrl-C
// (--exit: the process ends with the run, with npm run sim's exit code). `npm run sim -- --web` is
// this too (sim/cli/main.ts hands a command line with --web here).
import { parseOptions, UsageError } from "../cli/options"
import { startWebSim } from "./server"

async function main(argv: string[]): Promise<number> {
    let port = 8090
    let exit = false
    const rest: string[] = []
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--port") {
            port = Number(argv[++i])
            if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError(`--port must be 0..65535, got "${argv[i] ?? ""}"`)
        } else if (argv[i] === "--exit") exit = true
        else if (argv[i] === "--web") continue
        else rest.push(argv[i])
    }
    const o = parseOptions(rest)
    if (o.help) {
        console.log("usage: npm run sim:web -- [npm run sim options] [--port N (default 8090; 0: any)] [--exit]\n")
        return 0
    }
    if (o.engine !== "vm" || o.modem !== null || o.moduleUpgrade !== null || o.serveModule >= 0)
        throw new UsageError("the web view follows a SOTA run of the VM engine (no --engine node, --modem, --module-upgrade or --serve-module)")
    const web = await startWebSim(o, { port })
    const s = await web.done
    if (exit) {
        await web.close()
        return s.exitCode
    }
    console.log(`\nweb view: ${web.url} stays up; Ctrl-C to end`)
    await new Promise<void>(resolve => process.once("SIGINT", () => resolve()))
    await web.close()
    return s.exitCode
}

main(process.argv.slice(2).filter(a => a !== "--")).then(
    code => process.exit(code),
    e => {
        if (e instanceof UsageError) {
            process.stderr.write(`sim: ${e.message}\n`)
            process.exit(2)
        }
        process.stderr.write(`sim: ${e && e.stack ? e.stack : e}\n`)
        process.exit(1)
    }
)
