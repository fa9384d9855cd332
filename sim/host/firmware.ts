// The simulator's firmware (src/simulator/main.ts) as a prebuilt .devs for `devs run`: a prebuilt
// file reaches its first line in ≈ 1.5 s against ≈ 3.5 s from .ts (reference/devicescript.md §10
// Q4), and a run relaunches the VM after every power cut. Built once and cached under
// .devicescript/sim/firmware.devs (the name is ours: `devs build` always writes bytecode.devs,
// whatever the entry); rebuilt when any file under src/ is newer than the cached file.
// Concurrent builders (two test files, two CLIs) each build privately and rename into place, so a
// reader never sees half a file.

import { existsSync, readdirSync, renameSync, statSync } from "node:fs"
import { join } from "node:path"
import { buildDevs } from "./vm"

function newestMtime(dir: string): number {
    let t = 0
    for (const name of readdirSync(dir)) {
        const p = join(dir, name)
        const s = statSync(p)
        if (s.isDirectory()) t = Math.max(t, newestMtime(p))
        else if (name.endsWith(".ts")) t = Math.max(t, s.mtimeMs)
    }
    return t
}

/** Path of an up-to-date build of `entry` (default src/simulator/main.ts); builds it when stale. */
export async function prebuiltFirmware(root: string, entry = "src/simulator/main.ts", name = "firmware"): Promise<{ path: string; built: boolean; ms: number }> {
    const out = join(root, ".devicescript/sim", `${name}.devs`)
    const t0 = Date.now()
    if (existsSync(out) && statSync(out).mtimeMs > newestMtime(join(root, "src"))) return { path: out, built: false, ms: 0 }
    const tmp = `${out}.${process.pid}.tmp`
    await buildDevs(root, entry, tmp)
    renameSync(tmp, out)
    return { path: out, built: true, ms: Date.now() - t0 }
}
