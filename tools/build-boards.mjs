#!/usr/bin/env node
// `npm run build:boards`: compile every board entry (src/boards/<board>.ts, one per @dsboard id)
// with the DeviceScript compiler and print its bytecode size; fail when a build fails or an image
// passes its budget. Two limits bind a board's program: the VM refuses 64 KB or more of function
// bytecode ("verification error: -1051", measured), and the program must fit the runtime's fstor
// partition (a program of at most 110 464 B on RP2040 and 225 152 B on ESP32 with no other large setting,
// docs/BOARDS.md). The budgets
// keep a margin under both: 60 KB of functions, 96 KB in all. A board also fails when its image lacks
// the agent's signature check (signatures are required on boards). `devs build` always writes to ./.devicescript/bin (its -o is broken, reference/
// devicescript.md §10), which every other build in the project shares, so each board is built
// in a private directory (as sim/host/vm.ts buildDevs does) and its image copied to
// .devicescript/boards/<board>.devs for `devs bundle`/deploy.
//   node tools/build-boards.mjs [board ...]     default: every board entry
import { execFile } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname
const devs = join(root, "node_modules/.bin/devicescript")
const FUNCTION_LIMIT = 60 * 1024
const IMAGE_LIMIT = 96 * 1024
/** Functions a board's image holds when its agent checks signatures (SignedImages, Ed25519). */
const SIGNATURE_CHECK = ["SignedImages", "checkEd25519"]

/** Function bytecode from the compiler's bytecode-sizes.md ("| Function TOTAL |" row). */
function functionBytes(sizesMd) {
    const m = /^\s*(\d+) \| Function TOTAL/m.exec(sizesMd)
    return m ? Number(m[1]) : NaN
}
/** Board entries: files in src/boards that import a board definition (the rest are shared modules). */
function boardEntries() {
    const dir = join(root, "src/boards")
    return readdirSync(dir)
        .filter(f => f.endsWith(".ts") && /from "@dsboard\//.test(readFileSync(join(dir, f), "utf8")))
        .map(f => f.replace(/\.ts$/, ""))
        .sort()
}

function run(cmd, args, cwd) {
    return new Promise(resolve =>
        execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, out: `${stdout}${stderr}` }))
    )
}

async function buildBoard(board) {
    const entry = join(root, "src/boards", `${board}.ts`)
    if (!existsSync(entry)) return { board, ok: false, error: `no entry ${relative(root, entry)}` }
    const dir = mkdtempSync(join(tmpdir(), `devs-board-${board}-`))
    try {
        writeFileSync(join(dir, "devsconfig.json"), "{}")
        symlinkSync(join(root, "node_modules"), join(dir, "node_modules"))
        symlinkSync(join(root, "src"), join(dir, "src")) // the program is named by its path: src/boards/<board>
        const r = await run(devs, ["build", "-s", relative(root, entry)], dir)
        const out = join(dir, ".devicescript/bin/bytecode.devs")
        if (r.code !== 0 || !existsSync(out)) return { board, ok: false, error: r.out.trim() || `devs build exited ${r.code}` }
        const size = statSync(out).size
        const dest = join(root, ".devicescript/boards")
        mkdirSync(dest, { recursive: true })
        copyFileSync(out, join(dest, `${board}.devs`))
        const sizesMd = join(dir, ".devicescript/bin/bytecode-sizes.md")
        copyFileSync(sizesMd, join(dest, `${board}-sizes.md`))
        const sizesText = readFileSync(sizesMd, "utf8")
        const functions = functionBytes(sizesText)
        const errors = []
        if (!(functions < FUNCTION_LIMIT)) errors.push(`${functions} bytes of function bytecode is not under the ${FUNCTION_LIMIT}-byte budget`)
        if (!(size < IMAGE_LIMIT)) errors.push(`${size} bytes is not under the ${IMAGE_LIMIT}-byte budget`)
        // signatures are required on a board (issue 17): its image must hold the agent's check
        for (const fn of SIGNATURE_CHECK) if (!sizesText.includes(`| \`${fn}\``)) errors.push(`no ${fn} in the image: the board's agent does not check signatures (src/boards/sota-config.ts)`)
        return { board, ok: errors.length === 0, size, functions, error: errors.join("; ") }
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

const wanted = process.argv.slice(2)
const boards = wanted.length > 0 ? wanted : boardEntries()
if (boards.length === 0) {
    console.error("build-boards: no board entries in src/boards")
    process.exit(1)
}
const t0 = Date.now()
const results = await Promise.all(boards.map(buildBoard))
let failed = 0
for (const r of results) {
    if (r.size !== undefined)
        console.log(
            `${r.board.padEnd(16)} ${String(r.size).padStart(6)} bytes  ${(r.size / 1024).toFixed(1).padStart(5)} KB of ${IMAGE_LIMIT / 1024} KB; ` +
                `functions ${(r.functions / 1024).toFixed(1)} KB of ${FUNCTION_LIMIT / 1024} KB  → .devicescript/boards/${r.board}.devs`
        )
    if (!r.ok) {
        failed++
        console.error(`${r.board}: FAILED\n${r.error}`)
    }
}
console.log(`build-boards: ${results.length - failed}/${results.length} boards built in ${Date.now() - t0} ms`)
process.exit(failed ? 1 : 0)
