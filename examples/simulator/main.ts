// `npm run example` (see run.ts): the example, or --project DIR, in the simulator's VM engine.
import { join, relative } from "node:path"
import { UsageError } from "../../sim/cli/options"
import { repoRoot, runAppInSim } from "./run"
import { makeUserProject } from "./user-project"

async function main(argv: string[]) {
    const i = argv.indexOf("--project")
    let project: string
    let rest = argv
    if (i >= 0) {
        project = argv[i + 1]
        rest = [...argv.slice(0, i), ...argv.slice(i + 2)]
        if (!project) throw new UsageError("--project needs a directory")
    } else {
        // the example, as a user gets it: the packed library installed in a fresh project
        const dir = join(repoRoot, ".devicescript/example-project")
        console.log(`example: packing the library and making ${relative(repoRoot, dir)} (devs init, npm install of the tarball, examples/sensor-ota)`)
        const p = await makeUserProject(dir, { example: join(repoRoot, "examples/sensor-ota"), log: l => console.log(`  ${l}`) })
        project = p.dir
    }
    const r = await runAppInSim(project, rest)
    process.exitCode = r.code
}

// like npm run sim: exit with the run's code (the Jacdac bus keeps timers of its own)
main(process.argv.slice(2).filter(a => a !== "--")).then(
    () => process.exit(process.exitCode ?? 0),
    e => {
        if (e instanceof UsageError) {
            console.error(`example: ${e.message}`)
            process.exit(2)
        }
        console.error(e && e.stack ? e.stack : String(e))
        process.exit(1)
    }
)
