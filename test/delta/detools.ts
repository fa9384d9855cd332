// detools (PyPI, pinned in tools/requirements.txt) and heatshrink2 (its heatshrink binding) as
// the independent oracles of the delta tests. They live in the project's .venv (npm test's first
// step, tools/python-oracles.mjs, installs them); a test that needs them fails, with the install
// command in its message, when they are missing: it never skips. Each helper checks, so each test
// that needs detools fails on its own.

import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
export const DETOOLS = join(ROOT, ".venv/bin/detools")
const PYTHON = join(ROOT, ".venv/bin/python")
const SETUP = "node tools/python-oracles.mjs (or: python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt)"

let found = false

export function requireDetools(): void {
    if (found) return
    if (!existsSync(DETOOLS)) throw new Error(`detools is missing: ${DETOOLS} does not exist. Install it with: ${SETUP}`)
    const r = spawnSync(DETOOLS, ["--version"], { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`detools at ${DETOOLS} does not run (${r.error ?? r.stderr.trim()}). Reinstall it with: ${SETUP}`)
    found = true
}

function run(cmd: string, args: string[], input?: Buffer): { status: number; out: string; stdout: Buffer } {
    requireDetools()
    const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20 })
    if (r.error) throw r.error
    return { status: r.status ?? -1, out: `${r.stdout?.toString() ?? ""}${r.stderr?.toString() ?? ""}`, stdout: r.stdout as Buffer }
}

/** A scratch folder for one test file's inputs and outputs. */
export function scratch(): { dir: string; file: (name: string, data?: Uint8Array) => string; cleanup: () => void } {
    const dir = mkdtempSync(join(tmpdir(), "delta-"))
    return {
        dir,
        file: (name, data) => {
            const p = join(dir, name)
            if (data) writeFileSync(p, data)
            return p
        },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
    }
}

export interface DetoolsCreate {
    compression?: "heatshrink" | "none" | "lzma" | "crle"
    algorithm?: "bsdiff" | "match-blocks" | "hdiffpatch"
    patchType?: "sequential" | "hdiffpatch"
    window?: number
    lookahead?: number
}

/** `detools create_patch` of old → new; the patch bytes. */
export function detoolsCreate(old: Uint8Array, nw: Uint8Array, o: DetoolsCreate = {}): Buffer {
    const s = scratch()
    try {
        const args = ["create_patch", "--patch-type", o.patchType ?? "sequential", "--compression", o.compression ?? "heatshrink"]
        if (o.algorithm) args.push("--algorithm", o.algorithm)
        if (o.window !== undefined) args.push("--heatshrink-window-sz2", `${o.window}`)
        if (o.lookahead !== undefined) args.push("--heatshrink-lookahead-sz2", `${o.lookahead}`)
        args.push(s.file("old", old), s.file("new", nw), s.file("patch"))
        const r = run(DETOOLS, args)
        if (r.status !== 0) throw new Error(`detools ${args.join(" ")} failed (${r.status}): ${r.out}`)
        return readFileSync(s.file("patch"))
    } finally {
        s.cleanup()
    }
}

/** `detools apply_patch`: the target, or the failure's text. */
export function detoolsApply(old: Uint8Array, patch: Uint8Array): { ok: boolean; data?: Buffer; out: string } {
    const s = scratch()
    try {
        const r = run(DETOOLS, ["apply_patch", s.file("old", old), s.file("patch", patch), s.file("new")])
        return r.status === 0 ? { ok: true, data: readFileSync(s.file("new")), out: r.out } : { ok: false, out: r.out }
    } finally {
        s.cleanup()
    }
}

/** `detools patch_info` text. */
export function detoolsInfo(patch: Uint8Array): string {
    const s = scratch()
    try {
        const r = run(DETOOLS, ["patch_info", s.file("patch", patch)])
        if (r.status !== 0) throw new Error(`detools patch_info failed: ${r.out}`)
        return r.out
    } finally {
        s.cleanup()
    }
}

/** heatshrink2 (the heatshrink C library) compressing or decompressing `data`. */
export function heatshrink2(op: "compress" | "decompress", data: Uint8Array, window: number, lookahead: number): Buffer {
    const code = `import sys, heatshrink2\nd = sys.stdin.buffer.read()\nsys.stdout.buffer.write(heatshrink2.${op}(d, window_sz2=${window}, lookahead_sz2=${lookahead}))\n`
    const r = run(PYTHON, ["-c", code], Buffer.from(data))
    if (r.status !== 0) throw new Error(`heatshrink2 ${op} failed: ${r.out}`)
    return r.stdout
}
