// The web view in a real browser: Debian's chromium, headless, driven by playwright-core. One run
// of the simulator (VM engine) served by sim/web/server.ts; the page follows it while the package
// downloads (slots, newest metadata records, the plan, rate and time left, the AT dialogue), the
// test presses "Cut power" mid-download, and the page follows the VM's death, the boot stage, the
// resumed download and the new image's trial boot to "confirmed" and "upgraded". A screenshot of
// the final page is written to .devicescript/test-output/web/web-view.png.
// Without chromium this FAILS (it never skips): .ci/run installs it (apt-get install chromium).
import { existsSync, mkdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { chromium } from "playwright-core"
import { parseOptions } from "../../sim/cli/options"
import type { VmRunDetails } from "../../sim/cli/vm-engine"
import { HUB_PORTS } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"
import { startWebSim } from "../../sim/web/server"

const root = new URL("../..", import.meta.url).pathname
const outDir = join(root, ".devicescript/test-output/web")
/** The page's document, inside page.waitForFunction (the Node side has no DOM types). */
declare const document: any

/** Debian's chromium (or CHROMIUM=path); null when there is none. */
function findChromium(): string | null {
    for (const p of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (p && existsSync(p)) return p
    return null
}

describe("the web view in headless chromium", () => {
    it("follows a run; a power-cut press mid-download ends in a resumed, confirmed upgrade", async () => {
        const exe = findChromium()
        if (!exe) throw new Error("chromium is missing: apt-get install chromium (Debian), or set CHROMIUM to a Chromium binary; .ci/run installs it")
        mkdirSync(outDir, { recursive: true })
        let details: VmRunDetails = null
        const console: string[] = []
        const web = await startWebSim(parseOptions([]), { port: 0, out: s => console.push(s), err: s => console.push(s), env: { details: d => (details = d) } })
        const browser = await chromium.launch({ executablePath: exe, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] })
        try {
            const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
            await page.goto(web.url)
            // the factory image, as the page reads it from the flash
            await page.waitForFunction(() => document.querySelector("#slot-0 .state")?.textContent === "confirmed (active)", null, { timeout: 600_000 })
            // the plan, then the download past a quarter, with its rate and time left
            await page.waitForFunction(
                () => {
                    const m = /\((\d+) %\)/.exec(document.getElementById("download")?.textContent ?? "")
                    return !!m && Number(m[1]) >= 25 && Number(m[1]) <= 70
                },
                null,
                { timeout: 300_000, polling: 50 }
            )
            expect(await page.textContent("#plan")).toMatch(/2_0_0.*accepted/)
            expect(await page.textContent("#rate")).toMatch(/(KB|B)\/s$/)
            expect(await page.textContent("#eta")).toMatch(/^\d+(\.\d+)? s$/)
            expect(await page.textContent("#slot-1 .state")).toBe("receiving")
            expect(await page.textContent("#records")).toContain("PROGRESS")
            expect(await page.textContent("#at")).toContain("AT+QIOTOTARD=")
            await page.screenshot({ path: join(outDir, "web-view-downloading.png"), fullPage: true })

            await page.click("#cut-power")
            await page.waitForFunction(() => (document.getElementById("actions")?.textContent ?? "").includes("cut-power"), null, { timeout: 10_000 })
            // the resumed download, the reboot into 2_0_0, its self-test and confirm; the run's result
            await page.waitForFunction(() => document.getElementById("result-text")?.textContent === "upgraded", null, { timeout: 400_000 })
            await page.waitForFunction(() => document.getElementById("phase")?.textContent === "done", null, { timeout: 10_000 })
            const states = await page.textContent("#states")
            expect(states).toContain("power cut 1")
            expect(states).toContain("confirmed")
            // the AT dialogue followed to the end: the new image reports its version
            expect(await page.textContent("#at")).toContain('AT+QIOTMCUVER="STM32","2_0_0"')
            const slot1 = await page.textContent("#slot-1")
            expect(slot1).toContain("confirmed (active)")
            expect(slot1).toContain("2_0_0")
            expect(await page.textContent("#plan-status")).toBe("confirmed")
            expect(await page.isDisabled("#cut-power")).toBe(true)
            const shot = join(outDir, "web-view.png")
            await page.screenshot({ path: shot, fullPage: true })
            expect(statSync(shot).size).toBeGreaterThan(20_000)
        } finally {
            await browser.close()
        }
        const s = await web.done
        await web.close()
        for (const p of HUB_PORTS) expect(await portTaken(p), `port ${p} left taken`).toBe(false)
        if (s.result !== "upgraded") process.stdout.write(console.join(""))
        expect(s).toMatchObject({ result: "upgraded", version: "2_0_0", runningVersion: "2_0_0", healthy: true, cuts: 1, boots: 3 })
        // the download resumed from its journal after the cut, not from scratch
        expect(details.firmware.resumedAt).toBeGreaterThan(0)
        expect(s.rereadBytes).toBeLessThanOrEqual(4096 + 2048)
    }, 900_000)
})
