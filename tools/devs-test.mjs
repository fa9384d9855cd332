#!/usr/bin/env node
// `npm run test:vm`: run every `@devicescript/test` suite under test/vm/ in DeviceScript's own VM.
// Each suite runs as `devs run <file> --test --test-self-exit`: without --test-self-exit a suite
// "passes" without running a single test (../shared/reference/devicescript.md §2), so this also
// requires the suite's own summary line and refuses a run that reports no tests.
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname
const devs = join(root, "node_modules/.bin/devicescript")
const only = process.argv.slice(2)
const dir = join(root, "test/vm")
const suites = readdirSync(dir)
    .filter(f => f.endsWith(".vm.ts"))
    .filter(f => only.length === 0 || only.some(o => f.includes(o)))
    .sort()

let passed = 0
let failed = 0
let totalTests = 0
let passedTests = 0
for (const f of suites) {
    const file = join(dir, f)
    const t0 = Date.now()
    const r = spawnSync(devs, ["run", relative(root, file), "--test", "--test-self-exit", "-T", "120000"], {
        cwd: root,
        encoding: "utf8",
        timeout: 300_000,
    })
    const out = (r.stdout || "") + (r.stderr || "")
    // @devicescript/test prints "tests: N, pass: P, error: E"
    const m = /tests: (\d+), pass: (\d+), error: (\d+)/.exec(out)
    const ok = r.status === 0 && m && +m[1] > 0 && m[1] === m[2] && m[3] === "0"
    const ms = Date.now() - t0
    if (m) {
        totalTests += +m[1]
        passedTests += +m[2]
    }
    if (ok) {
        passed++
        console.log(`vm ✓ ${f}: ${m[1]} tests (${ms} ms)`)
    } else {
        failed++
        console.log(out.split("\n").filter(l => !/nodedir|Not a valid object name/.test(l)).join("\n"))
        console.log(`vm ✗ ${f}: rc=${r.status} ${m ? m[0] : "no test summary"} (${ms} ms)`)
    }
}
console.log(`vm suites: ${passed} passed, ${failed} failed; tests: ${passedTests} of ${totalTests} passed`)
mkdirSync(join(root, ".devicescript/results"), { recursive: true })
writeFileSync(
    join(root, ".devicescript/results/vm.json"),
    JSON.stringify({ suites: suites.length, failedSuites: failed, tests: totalTests, passedTests })
)
process.exit(failed > 0 || suites.length === 0 ? 1 : 0)
