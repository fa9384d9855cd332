#!/usr/bin/env node
// `npm run test:node`: vitest in two phases. The files that run the simulator's VM take turns on
// one devtools hub (ports 8081–8083, sim/host/hub.ts's lock); run side by side, a test could spend
// its whole timeout waiting for another file's run. So everything else runs first, in parallel,
// then the VM files one at a time. Both phases always run; each writes its JSON report for
// tools/test-summary.mjs; the exit code is non-zero when either failed.
import { spawnSync } from "node:child_process"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
/** Test files that start the VM through the hub. */
export const VM_FILES = ["test/host/", "test/library/user-project.test.ts", "test/web/browser.test.ts", "test/cli/runs.test.ts"]
const vitest = join(root, "node_modules/.bin/vitest")
const extra = process.argv.slice(2)

function phase(args, report) {
    const r = spawnSync(vitest, ["run", "--reporter=default", "--reporter=json", `--outputFile.json=.devicescript/results/${report}`, ...args, ...extra], {
        cwd: root,
        stdio: "inherit",
    })
    return r.status === 0
}

const a = phase(VM_FILES.flatMap(f => ["--exclude", f.endsWith("/") ? `${f}**` : f]), "vitest.json")
const b = phase([...VM_FILES, "--no-file-parallelism"], "vitest-vm.json")
process.exit(a && b ? 0 : 1)
