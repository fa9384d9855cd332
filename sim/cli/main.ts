// `npm run sim`: the process entry. cli.ts does the work (and is what tests call in-process);
// exit codes are listed in --help (options.ts USAGE) and the README.

import { cli } from "./cli"

cli(process.argv.slice(2)).then(
    r => process.exit(r.code),
    err => {
        // cli() turns every error into a summary; this is the last resort
        process.stderr.write(`sim: ${err && err.stack ? err.stack : err}\n`)
        process.exit(1)
    }
)
