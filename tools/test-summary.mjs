#!/usr/bin/env node
// The closing line of `npm test`: vitest and the DeviceScript VM suites added up, in the plain
// "N passed, N failed" form that CI reads.
import { readFileSync } from "node:fs"

const root = new URL("..", import.meta.url).pathname
// vitest runs in two phases (tools/test-node.mjs): the VM-host files apart
const phases = ["vitest.json", "vitest-vm.json"].map(f => JSON.parse(readFileSync(root + ".devicescript/results/" + f, "utf8")))
const v = {
    numPassedTests: phases.reduce((n, p) => n + p.numPassedTests, 0),
    numFailedTests: phases.reduce((n, p) => n + p.numFailedTests, 0),
    numTotalTests: phases.reduce((n, p) => n + p.numTotalTests, 0),
}
const vm = JSON.parse(readFileSync(root + ".devicescript/results/vm.json", "utf8"))
const passed = v.numPassedTests + vm.passedTests
const failed = v.numFailedTests + (vm.tests - vm.passedTests) + vm.failedSuites
console.log(`vitest ${v.numPassedTests}/${v.numTotalTests}, DeviceScript VM ${vm.passedTests}/${vm.tests} (${vm.suites} suites)`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
