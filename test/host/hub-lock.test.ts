// The hub lock's takeover of a dead owner (sim/host/hub.ts takeOver): two waiters that both saw
// the same dead owner must not both take the lock. Before, each waiter removed the lock directory
// itself: the second removal deleted the lock the first waiter had just taken, and two hubs ran.
// Uses its own lock path (SIM_HUB_LOCK), never the one real runs share.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it, vi } from "vitest"

const dir = mkdtempSync(join(tmpdir(), "hub-lock-"))
const LOCK = join(dir, "lock")
vi.stubEnv("SIM_HUB_LOCK", LOCK)
const { takeOver } = await import("../../sim/host/hub")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const DEAD = 2 ** 22 + 12345 // above Linux's default pid_max: no such process

function lockAs(pid: number | null) {
    mkdirSync(LOCK)
    if (pid !== null) writeFileSync(join(LOCK, "pid"), String(pid))
}
const pidInLock = () => Number(readFileSync(join(LOCK, "pid"), "utf8"))

describe("taking over a dead owner's hub lock", () => {
    it("two waiters saw the same dead owner: the first takes over, the second leaves the new owner's lock alone", () => {
        lockAs(DEAD)
        takeOver(DEAD) // waiter A removes the dead owner's lock...
        expect(existsSync(LOCK)).toBe(false)
        lockAs(process.pid) // ...and takes the lock (mkdir + its pid)
        takeOver(DEAD) // waiter B acts on what it read before: the lock is not the dead owner's any more
        expect(existsSync(LOCK)).toBe(true)
        expect(pidInLock()).toBe(process.pid)
        expect(existsSync(`${LOCK}.takeover`)).toBe(false)
        rmSync(LOCK, { recursive: true })
    })

    it("while another waiter is taking over, nothing is removed; a takeover guard left by a dead waiter goes after 5 s", () => {
        lockAs(DEAD)
        mkdirSync(`${LOCK}.takeover`) // another waiter is inside takeOver
        takeOver(DEAD)
        expect(pidInLock()).toBe(DEAD)
        const old = new Date(Date.now() - 10_000)
        utimesSync(`${LOCK}.takeover`, old, old) // ...and died there
        takeOver(DEAD) // clears the stale guard only
        expect(pidInLock()).toBe(DEAD)
        expect(existsSync(`${LOCK}.takeover`)).toBe(false)
        takeOver(DEAD)
        expect(existsSync(LOCK)).toBe(false)
    })

    it("a lock without a pid is an owner between mkdir and writing it: taken over only when old", () => {
        lockAs(null)
        takeOver(NaN)
        expect(existsSync(LOCK)).toBe(true)
        const old = new Date(Date.now() - 10_000)
        utimesSync(LOCK, old, old)
        takeOver(NaN)
        expect(existsSync(LOCK)).toBe(false)
    })
})
