// `npm run delta -- …`: runs tools/delta/cli.ts (see its header for the commands and exit codes).
import { deltaMain, UsageError } from "./cli"

deltaMain(process.argv.slice(2)).then(
    code => process.exit(code),
    err => {
        process.stderr.write(`delta: ${err instanceof UsageError ? err.message : err && err.stack ? err.stack : err}\n`)
        process.exit(2)
    }
)
