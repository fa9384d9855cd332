// A module that stops sending an event (src/sota/download.ts, `stalled`): the engine repeats what
// should have produced it, asks for the plan again, and gives up with "timeout" after
// cfg.stallRetries (3), the old image untouched; except for a lost 10704 after a verified download
// and "all read", which is presumed after one repeat (the install goes ahead rather than stranding
// a verified image).
import { beforeEach, describe, expect, it, vi } from "vitest"
import { healthy, once, run, World } from "./world"

beforeEach(() => {
    vi.useFakeTimers()
})

/** Every URC of the module that `match` picks is lost on the line; returns how many were. */
function dropUrcs(w: World, match: RegExp): () => number {
    const urc = w.module.urc.bind(w.module)
    let dropped = 0
    w.module.urc = (line: string) => {
        if (match.test(line)) {
            dropped++
            return Promise.resolve()
        }
        return urc(line)
    }
    return () => dropped
}

const count = (w: World, c: string) => w.module.received.filter(x => x === c).length

describe("an event that never comes", () => {
    it("no 10701 ever: accept, repeat, restart and ask again, then 'timeout' naming 10701; the old image runs", async () => {
        const w = new World({ packageSize: 8192 })
        await w.install()
        const dropped = dropUrcs(w, /,10701,/)
        const t0 = Date.now()
        const r = await once(w)
        expect(r).toMatchObject({ result: "failed", reason: "timeout", detail: expect.stringContaining("10701") })
        expect(dropped()).toBeGreaterThan(0)
        expect(await healthy(w)).toBe("old")
        // bounded: at most stallRetries + 1 attempts, each within the event and offer timeouts (20 s + 10 s)
        expect(count(w, "AT+QIOTUPDATE=1")).toBeGreaterThanOrEqual(2)
        expect(count(w, "AT+QIOTUPDATE=1")).toBeLessThanOrEqual(8)
        expect(Date.now() - t0).toBeLessThan(5 * 60_000)
        expect(w.module.received.some(c => c.startsWith("AT+QIOTOTARD=0,"))).toBe(false) // nothing read without the digests
    })

    it("no 10704 ever after a verified download: 'all read' repeated once, then the install is presumed: the new image boots and is confirmed", async () => {
        const w = new World({ packageSize: 8192 })
        await w.install()
        const dropped = dropUrcs(w, /,10704$/)
        const e = w.powerOn()
        await run(e.start())
        const t0 = Date.now()
        await expect(run(e.checkForUpdate())).rejects.toMatchObject({ name: "Reboot" })
        expect(dropped()).toBeGreaterThan(0)
        expect(count(w, "AT+QIOTUPDATE=3")).toBe(2) // the first, and one repeat after the silence
        expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * 20_000) // two event timeouts: not presumed at the first silence
        await run(w.powerOn().start())
        expect(await healthy(w)).toBe("new")
    })

    it("no next piece ever (the cellular download stalls after the first piece): probes, repeats, asks, then 'timeout' naming 10703; the old image runs", async () => {
        const w = new World({ packageSize: 8192, module: { pieceSize: 2048 } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        // from the first block on, a piece takes a day to arrive
        e.onProgress(pr => {
            if (pr.state === "downloading") (w.module.opts as { downloadBytesPerSec: number }).downloadBytesPerSec = 2048 / 86400
        })
        const t0 = Date.now()
        const r = await run(e.checkForUpdate())
        expect(r).toMatchObject({ result: "failed", reason: "timeout", detail: expect.stringContaining("10703") })
        expect(await healthy(w)).toBe("old")
        // stallRetries (3) silences: "next piece" repeated after the first, the plan asked for again after the second
        // and the third, 'timeout' at the fourth; within minutes, not the day
        expect(count(w, "AT+QIOTOTAREQ=1")).toBe(1 + 2)
        expect(Date.now() - t0).toBeLessThan(20 * 60_000)
    })
})
