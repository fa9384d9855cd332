// `npm run sim`: the process entry. cli.ts does the work (and is what tests call in-process);
// exit codes are listed in --help (options.ts USAGE) and the README.
// `--web` runs the same options with the web view (sim/web/main.ts, also `npm run sim:web`): the
// run is served at a local address while it runs.

import { cli } from "./cli"

if (process.argv.includes("--web")) {
    await import("../web/main") // parses the same argv (skipping --web) and exits with the run's code
} else {
    cli(process.argv.slice(2)).then(
        r => process.exit(r.code),
        err => {
            // cli() turns every error into a summary; this is the last resort
            process.stderr.write(`sim: ${err && err.stack ? err.stack : err}\n`)
            process.exit(1)
        }
    )
}
