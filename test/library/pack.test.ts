// The library's package: `npm run pack:library` (tools/pack-library.mjs) makes a tarball that holds
// the manifest (a devicescript- name, devicescript.library, main, files, keywords, no dependencies
// and no scripts), the README and exactly the modules the library's entries reach, none of the
// simulator, tools or tests; `npm run docs` (tools/api-docs.mjs) documents every public export.
// The tarball installed in a fresh project, built and run in the VM: user-project.test.ts.
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = new URL("../..", import.meta.url).pathname
const out = mkdtempSync(join(tmpdir(), "sota-pack-"))
afterAll(() => rmSync(out, { recursive: true, force: true }))

function node(args: string[]) {
    const r = spawnSync("node", args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26 })
    if (r.status !== 0) throw new Error(`node ${args.join(" ")}: ${r.status}\n${r.stdout}${r.stderr}`)
    return r.stdout
}

describe("the library package", () => {
    it("npm pack: the manifest, the README and the library's modules only", () => {
        const r = JSON.parse(node(["tools/pack-library.mjs", "--json", "--out", out]))
        expect(r.name).toMatch(/^devicescript-/)
        expect(r.tarball).toMatch(/devicescript-quecthing-sota-\d+\.\d+\.\d+\.tgz$/)
        const files: string[] = r.files
        for (const f of ["package/package.json", "package/README.md", "package/src/index.ts", "package/src/library/sota.ts", "package/src/sota/engine.ts", "package/src/platform/hardware.ts", "package/src/signatures.ts", "package/src/image/check.ts", "package/src/crypto/ed25519.ts"])
            expect(files).toContain(f)
        for (const f of files) {
            expect(f).not.toMatch(/^package\/(sim|test|tools|bench|examples|boot)\//)
            // src/image and src/crypto come with the signatures entry (the signature check); not the builder
            expect(f).not.toMatch(/^package\/src\/(simulator|boards|delta|dfota)\/|^package\/src\/image\/pack\.ts$/)
        }
        const manifest = JSON.parse(spawnSync("tar", ["xzf", r.tarball, "-O", "package/package.json"], { encoding: "utf8" }).stdout)
        expect(manifest).toMatchObject({ main: "./src/index.ts", devicescript: { library: true }, files: ["src/**/*.ts", "devsconfig.json", "README.md"] })
        expect(manifest.keywords).toContain("devicescript")
        expect(manifest.dependencies).toBeUndefined()
        expect(manifest.scripts).toBeUndefined()
        expect(manifest.private).toBeUndefined()
    }, 60_000)

    it("npm run docs: every export of the public entry is documented, startSota with its example", () => {
        const md = node(["tools/api-docs.mjs", "--stdout"])
        for (const name of ["startSota", "defaultLayout", "FlashError", "Sota", "SotaOptions", "SotaOutcome", "SotaProgressEvent", "SotaPlan", "ByteTransport", "Flash", "StoreLayout", "SotaReason", "startW25qFlash", "startSc16is7xx"])
            expect(md).toContain(`\`${name}\``)
        expect(md).toMatch(/function startSota\(options: SotaOptions\): Sota/)
        expect(md).toContain("const sota = startSota({")
        expect(md).toContain("Called before accepting a plan; return false to refuse it")
    }, 60_000)
})
