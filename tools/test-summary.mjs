#!/usr/bin/env node
// The closing line of `npm test`: vitest and the DeviceScript VM suites added up, in the plain
// "N passed, N failed" form that CI reads.
import { readFileSync } from "node:fs"

const root = new URL("..", import.meta.url).pathname
const v = JSON.parse(readFileSync(root + ".devicescript/results/vitest.json", "utf8"))
const vm = JSON.parse(readFileSync(root + ".devicescript/results/vm.json", "utf8"))
const passed = v.numPassedTests + vm.passedTests
const failed = v.numFailedTests + (vm.tests - vm.passedTests) + vm.failedSuites
console.log(`vitest ${v.numPassedTests}/${v.numTotalTests}, DeviceScript VM ${vm.passedTests}/${vm.tests} (${vm.suites} suites)`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
