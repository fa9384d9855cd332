// CI proves a user can use the library: `npm run pack:library`'s tarball installed in a fresh
// DeviceScript project (`devs init`, offline), the example app copied in and built with `devs
// build` (its Pico entry, drivers included), then the example's app run through one upgrade,
// 1_0_0 → 2_0_0, in the simulator's VM engine: the program that runs at the end is the app
// compiled at 2_0_0, downloaded by the library inside the app. One hub per machine: the run takes
// its turn through the hub lock (sim/host/hub.ts); the ports are checked free afterwards.
// The project is left in .devicescript/test-output/library/ for a look after a failure.
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { View } from "../../sim/cli/view"
import type { VmRunDetails } from "../../sim/cli/vm-engine"
import { HUB_PORTS } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"
import { runAppInSim } from "../../examples/simulator/run"
import { makeUserProject, UserProject } from "../../examples/simulator/user-project"

const root = new URL("../..", import.meta.url).pathname
const outDir = join(root, ".devicescript/test-output/library")

describe("a user's project", () => {
    let project: UserProject = null

    it("devs init, npm install <tarball> --offline, the example's src/, devs build: the package resolves and compiles", async () => {
        const log: string[] = []
        project = await makeUserProject(join(outDir, "user-project"), { example: join(root, "examples/sensor-ota"), log: l => log.push(l) })
        console.log(log.join("\n"))
        const pkg = JSON.parse(readFileSync(join(project.dir, "package.json"), "utf8"))
        expect(Object.keys(pkg.dependencies)).toEqual(["devicescript-quecthing-sota"])
        expect(pkg.dependencies["devicescript-quecthing-sota"]).toMatch(/^file:.*\.tgz$/)
        const installed = join(project.dir, "node_modules/devicescript-quecthing-sota")
        expect(existsSync(join(installed, "src/index.ts"))).toBe(true)
        expect(existsSync(join(installed, "src/simulator"))).toBe(false)
        expect(existsSync(join(project.dir, ".devicescript/bin/bytecode.devs"))).toBe(true)
        // what the build compiled: the app, and the library from node_modules
        const dbg = JSON.parse(readFileSync(join(project.dir, ".devicescript/bin/bytecode-dbg.json"), "utf8"))
        const sources: string[] = dbg.sources.map((s: any) => s.path)
        expect(sources).toContain("src/app.ts")
        expect(sources).toContain("node_modules/devicescript-quecthing-sota/src/index.ts")
        expect(sources).toContain("node_modules/devicescript-quecthing-sota/src/platform/hardware.ts")
        expect(sources.filter(s => !s.startsWith("src/") && !s.startsWith("node_modules/"))).toEqual([])
    }, 180_000)

    it("the simulator runner's Node side type-checks (examples/tsconfig.json)", () => {
        const r = spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", "examples/tsconfig.json", "--noEmit"], { cwd: root, encoding: "utf8" })
        expect(r.stdout + r.stderr).toBe("")
        expect(r.status).toBe(0)
    }, 120_000)

    it("the example app upgrades itself 1_0_0 → 2_0_0 in the VM: the downloaded app runs at the end", async () => {
        expect(project, "the project was made by the test before").not.toBeNull()
        let d: VmRunDetails = null
        const out: string[] = []
        const r = await runAppInSim(project.dir, ["--json"], new View(true, t => out.push(t)), { details: x => (d = x) })
        for (const p of HUB_PORTS) expect(await portTaken(p), `port ${p} left taken`).toBe(false)
        const s = r.summary
        console.log(`example app → ${JSON.stringify(s)}`)
        if (s.result !== "upgraded") console.log(`last firmware lines:\n  ${d?.vmLines.slice(-30).join("\n  ")}`)
        expect(s).toMatchObject({ result: "upgraded", reason: null, version: "2_0_0", healthy: true, engine: "vm", from: "1_0_0", to: "2_0_0", boots: 2, cuts: 0 })
        expect(r.code).toBe(0)
        // the program at the end says it is 2_0_0 and reads the SHA-256 of the image the Developer Center served
        expect(s.runningVersion).toBe("2_0_0")
        expect(s.runningSha256).toBe(s.packageSha256)
        // the app's own code ran in both images: its progress log, through the library's events
        expect(d.vmLines.some(l => l.startsWith("ota: downloading") || l.startsWith("ota: verifying 2_0_0"))).toBe(true)
        expect(d.vmLines.some(l => l.startsWith("ota: confirmed"))).toBe(true)
    }, 600_000)
})
