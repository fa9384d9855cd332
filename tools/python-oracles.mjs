#!/usr/bin/env node
// The first step of `npm test`: make sure the Python tools the tests use as independent oracles
// (imgtool, pinned in tools/requirements.txt with its dependencies in tools/constraints.txt) are
// in the project's .venv, so that a fresh clone needs only `npm ci` and `npm test`. Skipped when
// .venv already holds exactly these pins (a stamp of both files); otherwise the venv is made and
// pip installs them. A failure stops the tests: they need the oracle and never skip without it.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const venv = join(root, ".venv")
const stampFile = join(venv, ".oracles-stamp")
const stamp = ["requirements.txt", "constraints.txt"].map(f => readFileSync(join(root, "tools", f), "utf8")).join("\n")

function run(cmd, args) {
    execFileSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] })
}

if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && existsSync(join(venv, "bin/imgtool"))) process.exit(0)
try {
    if (!existsSync(join(venv, "bin/python"))) run("python3", ["-m", "venv", venv])
    run(join(venv, "bin/pip"), ["install", "--quiet", "--disable-pip-version-check", "--no-input", "-r", join(root, "tools/requirements.txt")])
    writeFileSync(stampFile, stamp)
    console.log(`python oracles: ${execFileSync(join(venv, "bin/imgtool"), ["version"], { encoding: "utf8" }).trim()} (imgtool) in .venv`)
} catch (e) {
    console.error(
        "python oracles: could not install tools/requirements.txt into .venv (needs python3 with venv; Debian: apt-get install python3-venv).\n" +
            "The image tests use imgtool as their oracle and fail without it."
    )
    process.exit(1)
}
