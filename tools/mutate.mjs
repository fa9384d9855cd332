#!/usr/bin/env node
// `npm run mutate [file ...]`: StrykerJS mutation testing (stryker.config.json: the image store,
// the download state machine, the policy) with the vitest runner, then one line per file:
//     mutation score <file>: NN.N %
// (killed + timed out) / (all but the ignored and the uncovered-by-no-test static ones), as
// Stryker's own "mutation score". Too slow for CI (minutes to an hour on 2 cores): run by hand.
//   node tools/mutate.mjs                     every file of stryker.config.json
//   node tools/mutate.mjs src/sota/policy.ts  only these
//   node tools/mutate.mjs --concurrency 1 --incremental   flags go to `stryker run` as written
//   node tools/mutate.mjs --report-only       only print the scores of the last run's report
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const argv = process.argv.slice(2)
const reportOnly = argv.includes("--report-only")
const files = []
const flags = []
for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === "--report-only") continue
    if (!a.startsWith("--")) files.push(a)
    else {
        flags.push(a)
        // a flag's value (--concurrency 1, --incrementalFile f) stays with it
        if (i + 1 < argv.length && !argv[i + 1].startsWith("--") && !/\.ts$/.test(argv[i + 1])) flags.push(argv[++i])
    }
}
const args = ["run", "stryker.config.json", ...flags]
if (files.length) args.push("--mutate", files.join(","))
if (!reportOnly) execFileSync(join(root, "node_modules/.bin/stryker"), args, { cwd: root, stdio: "inherit" })

const report = JSON.parse(readFileSync(join(root, ".devicescript/mutation/mutation.json"), "utf8"))
let killedAll = 0
let validAll = 0
for (const [file, r] of Object.entries(report.files).sort()) {
    const count = s => r.mutants.filter(m => m.status === s).length
    const killed = count("Killed") + count("Timeout")
    const valid = killed + count("Survived") + count("NoCoverage")
    killedAll += killed
    validAll += valid
    const survivors = r.mutants.filter(m => m.status === "Survived" || m.status === "NoCoverage").length
    console.log(`mutation score ${file}: ${valid ? ((100 * killed) / valid).toFixed(1) : "n/a"} % (${killed} of ${valid} killed, ${survivors} survived)`)
}
console.log(`mutation score (all files): ${validAll ? ((100 * killedAll) / validAll).toFixed(1) : "n/a"} %`)
