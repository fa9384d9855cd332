#!/usr/bin/env node
// `npm run pack:library`: the DeviceScript library package, devicescript-quecthing-sota, as an npm
// tarball. The repository's own package.json is the simulator's and the tools' (private, with a
// postinstall that builds the simulator firmware and a serialport dependency no device needs), so
// the library is a package of its own: its manifest is library/package.json (the conventions of
// `devs add npm`: `devicescript.library`, `main: ./src/index.ts`, `files`, `keywords`, a
// `devicescript-` name), its README is docs/LIBRARY.md, and its files are exactly the modules the
// library's entries reach through their imports:
//     src/index.ts            the public API (startSota and its types), portable
//     src/platform/hardware.ts  the board drivers (SC16IS7xx bridge, W25Q flash), DeviceScript-only
// This stages those into .devicescript/library/package/ (the version is the repository's) and runs
// `npm pack` there; then it checks the tarball's file list: every entry and the modules they reach,
// nothing else (no sim/, test/, tools/, bench/, src/simulator/, src/boards/), and no import of a
// package other than @devicescript/*. Prints the tarball's path (last line).
//
//   node tools/pack-library.mjs [--out DIR] [--json]
// As a module: packLibrary({ out }) → { tarball, files }, and libraryClosure(entries).
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
/** The library's entries: the public API, and the board drivers. */
export const ENTRIES = ["src/index.ts", "src/platform/hardware.ts", "src/signatures.ts"]
/** Folders whose files must never be in the tarball. */
const FORBIDDEN = [/^package\/(sim|test|tools|bench|examples|library|boot|docs)\//, /^package\/src\/(simulator|boards)\//, /\.test\.ts$/]

/** `import … from "x"`, `import "x"`, `export … from "x"` at the start of a line (braces may span lines). */
const IMPORT = /(?:^|\n)[ \t]*(?:import|export)[ \t]+(?:[\w\s{},*$]*?from[ \t]*)?"([^"]+)"/g

/** Every module the entries reach through relative imports (paths relative to the repository), and the packages they import. */
export function libraryClosure(entries = ENTRIES) {
    const seen = new Set()
    const packages = new Set()
    const todo = entries.map(e => resolve(root, e))
    while (todo.length > 0) {
        const file = todo.pop()
        if (seen.has(file)) continue
        if (!existsSync(file)) throw new Error(`pack-library: ${relative(root, file)} is imported but does not exist`)
        seen.add(file)
        const text = readFileSync(file, "utf8")
        for (const m of text.matchAll(IMPORT)) {
            const spec = m[1]
            if (spec.startsWith(".")) todo.push(resolve(dirname(file), spec.endsWith(".ts") ? spec : `${spec}.ts`))
            else packages.add(spec)
        }
    }
    return { files: [...seen].map(f => relative(root, f)).sort(), packages: [...packages].sort() }
}

/** Stage the package and `npm pack` it into `out`; returns the tarball's path and its file list. */
export function packLibrary(o = {}) {
    const out = resolve(o.out ?? join(root, ".devicescript/library"))
    const stage = join(out, "package")
    const { files, packages } = libraryClosure()
    const foreign = packages.filter(p => !p.startsWith("@devicescript/"))
    if (foreign.length > 0) throw new Error(`pack-library: the library imports packages other than @devicescript/*: ${foreign.join(", ")}`)
    for (const f of files)
        if (!f.startsWith("src/") || /^src\/(simulator|boards)\//.test(f)) throw new Error(`pack-library: the library reaches ${f}, which is not library code`)
    rmSync(stage, { recursive: true, force: true })
    mkdirSync(stage, { recursive: true })
    const manifest = JSON.parse(readFileSync(join(root, "library/package.json"), "utf8"))
    const repo = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
    const pkg = { name: manifest.name, version: repo.version, ...manifest }
    writeFileSync(join(stage, "package.json"), JSON.stringify(pkg, null, 4) + "\n")
    writeFileSync(join(stage, "devsconfig.json"), "{}\n")
    copyFileSync(join(root, "docs/LIBRARY.md"), join(stage, "README.md"))
    for (const f of files) {
        mkdirSync(dirname(join(stage, f)), { recursive: true })
        copyFileSync(join(root, f), join(stage, f))
    }
    const raw = execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: stage, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    const info = JSON.parse(raw)[0]
    const tarball = join(out, info.filename)
    const listed = info.files.map(f => `package/${f.path}`).sort()
    checkTarball(listed, files)
    return { tarball, files: listed, name: pkg.name, version: pkg.version }
}

/** The tarball holds the manifest, README, devsconfig.json and exactly the library's modules. */
export function checkTarball(listed, modules) {
    const want = new Set(["package/package.json", "package/README.md", "package/devsconfig.json", ...modules.map(m => `package/${m}`)])
    const extra = listed.filter(f => !want.has(f))
    const missing = [...want].filter(f => !listed.includes(f))
    const forbidden = listed.filter(f => FORBIDDEN.some(r => r.test(f)))
    const problems = []
    if (extra.length) problems.push(`files that are not the library's: ${extra.join(", ")}`)
    if (missing.length) problems.push(`missing: ${missing.join(", ")}`)
    if (forbidden.length) problems.push(`simulator, tool or test files: ${forbidden.join(", ")}`)
    if (problems.length) throw new Error(`pack-library: the tarball is wrong: ${problems.join("; ")}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const args = process.argv.slice(2)
    const i = args.indexOf("--out")
    try {
        const r = packLibrary({ out: i >= 0 ? args[i + 1] : undefined })
        if (args.includes("--json")) console.log(JSON.stringify(r))
        else {
            console.log(`${r.name}@${r.version}: ${r.files.length} files (${r.files.filter(f => f.startsWith("package/src/")).length} modules under src/)`)
            console.log(r.tarball)
        }
    } catch (e) {
        console.error(e.message)
        process.exit(1)
    }
}
