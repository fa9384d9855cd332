// The docs link to no file missing from the repository: every relative Markdown link in README.md
// and docs/*.md (and every `../shared/…` or other path outside the repository is refused: a fresh
// clone has nothing there).
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const root = resolve(new URL("../..", import.meta.url).pathname)
const docs = ["README.md", ...readdirSync(join(root, "docs")).filter(f => f.endsWith(".md")).map(f => `docs/${f}`)]

/** [file, target] of every link that is not a URL or an anchor. */
function links(): [string, string][] {
    const out: [string, string][] = []
    for (const f of docs) {
        const text = readFileSync(join(root, f), "utf8")
        for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
            const target = m[1].split("#")[0]
            if (!target || /^[a-z]+:/i.test(target)) continue
            out.push([f, target])
        }
    }
    return out
}

describe("the docs' links", () => {
    it("every relative link names a file in the repository", () => {
        const all = links()
        expect(all.length).toBeGreaterThan(3)
        const broken = all.filter(([f, t]) => {
            const p = resolve(root, dirname(f), t)
            return relative(root, p).startsWith("..") || !existsSync(p)
        })
        expect(broken).toEqual([])
    })
})
