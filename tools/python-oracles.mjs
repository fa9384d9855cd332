#!/usr/bin/env node
// The first step of `npm test`: make sure the Python tools the tests use as independent oracles
// (imgtool for images, detools for delta patches; pinned in tools/requirements.txt with their
// dependencies in tools/constraints.txt) are in the project's .venv, so that a fresh clone needs
// only `npm ci` and `npm test`. Skipped when .venv already holds exactly these pins (a stamp of
// both files) and both tools; otherwise the venv is made and pip installs them (detools is built
// from source: gcc, g++ and Python's headers). A failure stops the tests: they need the oracles
// and never skip without them.
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const venv = join(root, ".venv")
const stampFile = join(venv, ".oracles-stamp")
const stamp = ["requirements.txt", "constraints.txt"].map(f => readFileSync(join(root, "tools", f), "utf8")).join("\n")
const TOOLS = ["imgtool", "detools"]
const missing = () => TOOLS.filter(t => !existsSync(join(venv, "bin", t)))

function run(cmd, args) {
    execFileSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] })
}

if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && missing().length === 0) process.exit(0)
try {
    if (!existsSync(join(venv, "bin/python"))) run("python3", ["-m", "venv", venv])
    run(join(venv, "bin/pip"), ["install", "--quiet", "--disable-pip-version-check", "--no-input", "-r", join(root, "tools/requirements.txt")])
    if (missing().length > 0) throw new Error(`pip installed no ${missing().join(", ")}`)
    const version = (tool, arg) => execFileSync(join(venv, "bin", tool), [arg], { encoding: "utf8" }).trim()
    writeFileSync(stampFile, stamp)
    console.log(`python oracles: imgtool ${version("imgtool", "version")}, detools ${version("detools", "--version")} in .venv`)
} catch (e) {
    console.error(
        `python oracles: could not install tools/requirements.txt into .venv (${e.message.split("\n")[0]}).\n` +
            "It needs python3 with venv (Debian: apt-get install python3-venv), and gcc, g++ and Python's headers to build detools.\n" +
            "The image tests use imgtool as their oracle and the delta tests detools; they fail without them."
    )
    process.exit(1)
}
