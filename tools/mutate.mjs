#!/usr/bin/env node
// `npm run mutate [file ...]`: StrykerJS mutation testing (stryker.config.json: the image store,
// the download state machine, the policy) with the vitest runner, then one line per file:
//     mutation score <file>: NN.N %
// (killed + timed out) / (all but the ignored and the uncovered-by-no-test static ones), as
// Stryker's own "mutation score". Too slow for CI (minutes to an hour on 2 cores): run by hand.
//   node tools/mutate.mjs                     every file of stryker.config.json
//   node tools/mutate.mjs src/sota/policy.ts  only these
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const files = process.argv.slice(2)
const args = ["run", "stryker.config.json"]
if (files.length) args.push("--mutate", files.join(","))
execFileSync(join(root, "node_modules/.bin/stryker"), args, { cwd: root, stdio: "inherit" })

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
