// `npm ci` on a fresh clone prints no warning the project can prevent (checked by hand in a scratch
// clone with an empty user config: before, "92 packages are looking for funding", npm's update
// notice, and without allowScripts "npm warn install-scripts 2 packages have install scripts not
// yet covered by allowScripts"). What the project holds for it is checked here, without a network:
// its .npmrc, and every package of the lock that has an install script is in allowScripts.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const root = new URL("../..", import.meta.url).pathname
const json = (f: string) => JSON.parse(readFileSync(root + f, "utf8"))

describe("npm ci on a fresh clone", () => {
    it(".npmrc turns off the funding message and npm's update notice", () => {
        const rc = readFileSync(root + ".npmrc", "utf8")
            .split("\n")
            .filter(l => l.trim() && !l.startsWith("#"))
        expect(rc).toEqual(["fund=false", "update-notifier=false"])
    })

    it("every package of the lock with an install script is allowed in package.json (no install-scripts warning)", () => {
        const lock = json("package-lock.json")
        const allowed = json("package.json").allowScripts ?? {}
        const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
            .filter(([path, p]) => path !== "" && p.hasInstallScript)
            .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length))
        expect(withScripts.length).toBeGreaterThan(0)
        for (const name of withScripts) expect(allowed[name], name).toBe(true)
        // and nothing allowed that the lock does not hold
        for (const name of Object.keys(allowed)) expect(withScripts, name).toContain(name)
    })
})
