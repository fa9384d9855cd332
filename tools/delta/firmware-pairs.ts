// Real firmware pairs for the delta tests and bench, all MCUboot images of the simulator's firmware
// program (src/simulator/firmware.ts) as `npm run sim` builds them:
//   version    1_0_0 → 2_0_0 (sim/boot/firmware-image.ts): the identity line's version differs, nothing else;
//   constant   1_0_0 → the same program with one numeric constant changed (the 5 s pause after an
//              error in runFirmware: 5000 → 6000), version 1_0_0 both;
//   feature    1_0_0 → the same program with one more progress line at start-up (a `say` call);
//   releases   the program at two consecutive commits of this repository that changed src/
//              (git archive of src/ at each), version 1_0_0 both.
// The variants are copies of src/ under .devicescript/delta with one edit, built with `devs build`
// (sim/host/vm.ts buildDevs) and cached by the hash of the entry and the edit.

import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { packImage } from "../../src/image/pack"
import { parseVersion } from "../../src/image/version"
import { firmwareImage, identityLine } from "../../sim/boot/firmware-image"
import { buildDevs } from "../../sim/host/vm"

export interface FirmwarePair {
    name: string
    what: string
    old: Buffer
    nw: Buffer
}

const noYield = async () => {}

async function pack(body: Buffer, version = "1_0_0"): Promise<Buffer> {
    return (await packImage(body, { version: parseVersion(version), yielder: noYield })).image
}

/** The program of a src/ tree at `srcDir` (a copy), built once per content key. */
async function buildVariant(root: string, key: string, prepare: (srcDir: string) => void): Promise<Buffer> {
    const base = join(root, ".devicescript/delta")
    const hash = createHash("sha256").update(key).digest("hex").slice(0, 16)
    const out = join(base, `variant-${hash}.devs`)
    if (existsSync(out)) return readFileSync(out)
    const dir = join(base, `tree-${hash}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    prepare(join(dir, "src"))
    const entry = join(dir, "entry.ts")
    // the delta profile (what a delta run ships); a tree from before the profiles has runFirmware(identity)
    const profiled = existsSync(join(dir, "src/simulator/profiles/delta.ts"))
    const imp = profiled ? `import { deltaProfile } from "./src/simulator/profiles/delta"\n` : ""
    writeFileSync(entry, `import { runFirmware } from "./src/simulator/firmware"\n${imp}\nawait runFirmware("${identityLine("1_0_0", "good")}"${profiled ? ", deltaProfile()" : ""})\n`)
    await buildDevs(root, entry, out)
    rmSync(dir, { recursive: true, force: true })
    return readFileSync(out)
}

/** A copy of the working tree's src/ with one textual edit (which must apply exactly once). */
function editedCopy(root: string, file: string, from: string, to: string) {
    return (srcDir: string) => {
        cpSync(join(root, "src"), srcDir, { recursive: true })
        const p = join(srcDir, file)
        const text = readFileSync(p, "utf8")
        if (text.split(from).length !== 2) throw new Error(`firmware-pairs: "${from}" is not in ${file} exactly once`)
        writeFileSync(p, text.replace(from, to))
    }
}

/** The source of src/ at a commit. */
function srcAt(root: string, commit: string) {
    return (srcDir: string) => {
        mkdirSync(srcDir, { recursive: true })
        const tar = execFileSync("git", ["archive", commit, "src"], { cwd: root, maxBuffer: 64 << 20 })
        execFileSync("tar", ["-x", "-C", join(srcDir, ".."), "-f", "-"], { input: tar })
    }
}

/** The two newest commits that changed the firmware's sources (newest last). */
export function lastReleases(root: string): [string, string] {
    const shas = execFileSync("git", ["log", "-n", "2", "--format=%h", "--", "src/sota", "src/flash", "src/qiot", "src/at", "src/simulator", "src/lib", "src/verify", "src/image", "src/link"], {
        cwd: root,
        encoding: "utf8",
    })
        .trim()
        .split("\n")
    return [shas[1], shas[0]]
}

export async function versionPair(root: string): Promise<FirmwarePair> {
    return { name: "version", what: "1_0_0 → 2_0_0 (the version string only)", old: await firmwareImage(root, "1_0_0", { profile: "delta" }), nw: await firmwareImage(root, "2_0_0", { profile: "delta" }) }
}

/**
 * The source edits of the constant and feature pairs (file under src/, text that must be there exactly
 * once, its replacement); test/delta/firmware.test.ts checks each still applies to today's firmware.
 */
export const PAIR_EDITS = {
    constant: { file: "simulator/firmware.ts", from: "await ds.sleep(5000)", to: "await ds.sleep(6000)" },
    feature: {
        file: "simulator/firmware.ts",
        from: `    say("SOTA-START", statusJson(start, stats()))\n`,
        to: `    say("SOTA-START", statusJson(start, stats()))\n    say("SOTA-UPTIME", JSON.stringify({ ms: ds.millis(), slot: start.slot }))\n`,
    },
}

export async function constantPair(root: string): Promise<FirmwarePair> {
    const { file, from, to } = PAIR_EDITS.constant
    const key = (f: string, t: string) => `${readFileSync(join(root, "src", file), "utf8")}|${f}|${t}|${newestSrc(root)}`
    const old = await buildVariant(root, key(from, from), editedCopy(root, file, from, from))
    const nw = await buildVariant(root, key(from, to), editedCopy(root, file, from, to))
    return { name: "constant", what: "one constant changed (5000 → 6000 in runFirmware)", old: await pack(old), nw: await pack(nw) }
}

export async function featurePair(root: string): Promise<FirmwarePair> {
    const { file, from, to } = PAIR_EDITS.feature
    const key = (t: string) => `${readFileSync(join(root, "src", file), "utf8")}|${from}|${t}|${newestSrc(root)}`
    const old = await buildVariant(root, key(from), editedCopy(root, file, from, from))
    const nw = await buildVariant(root, key(to), editedCopy(root, file, from, to))
    return { name: "feature", what: "one more progress line at start-up", old: await pack(old), nw: await pack(nw) }
}

export async function releasePair(root: string, commits = lastReleases(root)): Promise<FirmwarePair> {
    const [a, b] = commits
    const old = await buildVariant(root, `commit ${a}`, srcAt(root, a))
    const nw = await buildVariant(root, `commit ${b}`, srcAt(root, b))
    return { name: "releases", what: `two consecutive commits that changed src/: ${a} → ${b}`, old: await pack(old), nw: await pack(nw) }
}

/** A key that changes when anything under src/ changes (the variants are copies of it). */
function newestSrc(root: string): string {
    return execFileSync("git", ["ls-files", "-s", "src"], { cwd: root, encoding: "utf8" }) + execFileSync("git", ["diff", "--stat", "--", "src"], { cwd: root, encoding: "utf8" })
}
