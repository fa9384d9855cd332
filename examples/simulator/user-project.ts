// A DeviceScript project as a user makes it, offline: `devs init` (it writes the files and builds,
// no network with --no-install), the library's tarball (`npm run pack:library`) installed with
// `npm install <tarball> --offline`, an example's src/ copied in, and `devs build` of its entry.
// The one stand-in: the project's devDependency on @devicescript/cli ("latest", from the registry)
// is dropped before the install (an offline install cannot fetch it) and this repository's CLI
// builds the project instead; the library itself has no dependencies.
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { repoRoot } from "./run"

export interface UserProject {
    dir: string
    /** The library tarball installed. */
    tarball: string
    /** Files in the tarball. */
    packed: string[]
    /** What `devs build src/main.ts` printed. */
    buildLog: string
}

export interface UserProjectOptions {
    /** An example folder whose src/*.ts replace the project's src/ (default: none, the `devs init` main.ts). */
    example?: string
    log?: (line: string) => void
}

const devs = () => join(repoRoot, "node_modules/.bin/devicescript")

function sh(cmd: string, args: string[], cwd: string): string {
    try {
        return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 })
    } catch (e: any) {
        throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd} (${e.status}):\n${e.stdout ?? ""}${e.stderr ?? ""}`)
    }
}

/** Pack the library, make the project at `dir` (replacing what is there), install, build. */
export async function makeUserProject(dir: string, o: UserProjectOptions = {}): Promise<UserProject> {
    const log = o.log ?? (() => {})
    const abs = resolve(dir)
    const pack = JSON.parse(sh("node", [join(repoRoot, "tools/pack-library.mjs"), "--json", "--out", `${abs}.pack`], repoRoot))
    log(`packed ${pack.name}@${pack.version}: ${pack.files.length} files`)
    rmSync(abs, { recursive: true, force: true })
    mkdirSync(abs, { recursive: true })
    sh(devs(), ["init", "--no-install"], abs)
    log("devs init --no-install: a fresh DeviceScript project")
    const pkgFile = join(abs, "package.json")
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"))
    delete pkg.devDependencies["@devicescript/cli"]
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 4) + "\n")
    sh("npm", ["install", pack.tarball, "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], abs)
    const installed = JSON.parse(readFileSync(join(abs, "node_modules/devicescript-quecthing-sota/package.json"), "utf8"))
    log(`npm install ${pack.tarball} --offline: ${installed.name}@${installed.version}`)
    if (o.example) {
        const src = join(o.example, "src")
        for (const f of readdirSync(src)) if (f.endsWith(".ts")) copyFileSync(join(src, f), join(abs, "src", f))
        log(`copied ${src}`)
    }
    const buildLog = sh(devs(), ["build", "src/main.ts"], abs)
    log("devs build src/main.ts: ok")
    return { dir: abs, tarball: pack.tarball, packed: pack.files, buildLog }
}
