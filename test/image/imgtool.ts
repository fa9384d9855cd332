// imgtool, MCUboot's own image tool, as the independent oracle of the interop tests. It lives in
// the project's .venv (python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt,
// which .ci/run does); a test that needs it fails, with that command in its message, when it is
// missing: it never skips. Each helper checks, so each test that needs imgtool fails on its own
// (a failing beforeAll would mark them skipped).

import { execFileSync, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
export const IMGTOOL = join(ROOT, ".venv/bin/imgtool")
export const VENV_PYTHON = join(ROOT, ".venv/bin/python")
const SETUP = "python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt"

let found = false

/** Throws a clear error unless imgtool is installed where the project installs it (every helper below calls it). */
export function requireImgtool(): void {
    if (found) return
    if (!existsSync(IMGTOOL))
        throw new Error(`imgtool is missing: ${IMGTOOL} does not exist. Install it with: ${SETUP}`)
    const r = spawnSync(IMGTOOL, ["version"], { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`imgtool at ${IMGTOOL} does not run (${r.error ?? r.stderr.trim()}). Reinstall it with: ${SETUP}`)
    found = true
}

/** imgtool's answer: exit status and what it printed. */
export function imgtool(args: string[]): { status: number; out: string } {
    requireImgtool()
    const r = spawnSync(IMGTOOL, args, { encoding: "utf8" })
    if (r.error) throw r.error
    return { status: r.status ?? -1, out: (r.stdout ?? "") + (r.stderr ?? "") }
}

/** `imgtool create …`, which must succeed. */
export function imgtoolCreate(args: string[]): void {
    const r = imgtool(["create", ...args])
    if (r.status !== 0) throw new Error(`imgtool create ${args.join(" ")} failed (${r.status}): ${r.out}`)
}

export interface DumpTlv {
    type: number
    type_name: string
    len: number
    data: string
}

export interface DumpInfo {
    header: {
        magic: number
        load_addr: number
        hdr_size: number
        protected_tlv_size: number
        img_size: number
        flags: number
        version: string
    }
    tlv_area: { tlv_hdr_prot: { magic?: number; tlv_tot?: number }; tlvs_prot: DumpTlv[]; tlv_hdr: { magic: number; tlv_tot: number }; tlvs: DumpTlv[] }
}

/** `imgtool dumpinfo -f json <file>`, parsed (its trailer warning, when there is one, comes before the JSON). */
export function imgtoolDump(file: string): DumpInfo {
    requireImgtool()
    const out = execFileSync(IMGTOOL, ["dumpinfo", "-f", "json", file], { encoding: "utf8" })
    return JSON.parse(out.slice(out.indexOf("{")))
}

/** imgtool's own version parser (imgtool.version.decode_version) on each string: [major, minor, revision, build] or null. */
export function imgtoolDecodeVersions(texts: string[]): ([number, number, number, number] | null)[] {
    requireImgtool()
    const py = [
        "import json, sys",
        "from imgtool.version import decode_version",
        "out = []",
        "for t in json.loads(sys.argv[1]):",
        "    try:",
        "        out.append(list(decode_version(t)))",
        "    except ValueError:",
        "        out.append(None)",
        "print(json.dumps(out))",
    ].join("\n")
    return JSON.parse(execFileSync(VENV_PYTHON, ["-c", py, JSON.stringify(texts)], { encoding: "utf8" }))
}
