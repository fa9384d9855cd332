// Events from the module that contradict the plan (src/sota/download.ts: `started`, `pieceReady`):
// a 10701 for another component or length, or one that does not parse; a 10703 whose total is not
// the 10701's, or whose piece runs past it. Each ends the plan with "bad-plan" before a byte of
// the package is trusted: the module is told (AT+QIOTUPDATE=0), the old image runs byte-identical.
// The URC is rewritten on the module's side of the line, as a module with a bug would send it.
import { beforeEach, describe, expect, it, vi } from "vitest"
import { healthy, once, run, World } from "./world"

beforeEach(() => {
    vi.useFakeTimers()
})

/** The module's first URC that `match` picks goes out as `rewrite` makes it. */
function rewriteUrcOnce(w: World, match: RegExp, rewrite: (line: string) => string) {
    const urc = w.module.urc.bind(w.module)
    let done = false
    w.module.urc = (line: string) => {
        if (!done && match.test(line)) {
            done = true
            return urc(rewrite(line))
        }
        return urc(line)
    }
    return () => done
}

/** `+QIOTEVT: 7,1070x,"STM32",...`: field i (0-based after "7,") replaced. */
const field = (i: number, v: string) => (line: string) => {
    const head = "+QIOTEVT: "
    const f = line.slice(head.length).split(",")
    f[i] = v
    return head + f.join(",")
}

async function badEvent(match: RegExp, rewrite: (line: string) => string) {
    const w = new World({ packageSize: 8192 })
    await w.install()
    const fired = rewriteUrcOnce(w, match, rewrite)
    const r = await once(w)
    expect(fired()).toBe(true)
    expect(await healthy(w)).toBe("old") // confirmed, version and bytes the factory image's
    expect(w.module.received).toContain("AT+QIOTUPDATE=0")
    return r
}

describe("a 10701 that contradicts the plan", () => {
    it("another component", async () => {
        expect(await badEvent(/,10701,/, field(2, '"DATA"'))).toMatchObject({ result: "failed", reason: "bad-plan", detail: expect.stringContaining("10701") })
    })
    it("another length", async () => {
        // told at the 10701, before a receive is opened, not at the first 10703 (whose total is the plan's)
        expect(await badEvent(/,10701,/, field(3, "8191"))).toMatchObject({ result: "failed", reason: "bad-plan", detail: expect.stringContaining("10701") })
    })
    it("an MD5 that is not 32 hex digits (does not parse)", async () => {
        expect(await badEvent(/,10701,/, field(4, '"not-an-md5"'))).toMatchObject({ result: "failed", reason: "bad-plan", detail: expect.stringContaining("10701") })
    })
})

describe("a 10703 that contradicts the 10701", () => {
    it("another total", async () => {
        expect(await badEvent(/,10703,/, field(3, "9000"))).toMatchObject({ result: "failed", reason: "bad-plan", detail: expect.stringContaining("10703") })
    })
    it("a piece that runs past its total (does not parse)", async () => {
        expect(await badEvent(/,10703,/, field(5, "9000"))).toMatchObject({ result: "failed", reason: "bad-plan", detail: expect.stringContaining("10703") })
    })
})

describe("the 10701's CRC-32 (checkCrc)", () => {
    it("one out of range is not a CRC: not checked, the upgrade goes on", async () => {
        const w = new World({ packageSize: 8192, engine: { checkCrc: true } })
        await w.install()
        const fired = rewriteUrcOnce(w, /,10701,/, field(5, "4294967296"))
        const e = w.powerOn()
        await run(e.start())
        await expect(run(e.checkForUpdate())).rejects.toMatchObject({ name: "Reboot" })
        expect(fired()).toBe(true)
    })
})

describe("stray events during a download", () => {
    /** Upgrade with `line` sent by the module once, during the MCU's 3rd block (the second of four 2 KB pieces): handled after that piece, while the next one is awaited. */
    async function withStray(line: string) {
        const w = new World({ packageSize: 8192, module: { pieceSize: 2048 } })
        await w.install()
        const e = w.powerOn()
        await run(e.start())
        let blocks = 0
        e.onProgress(pr => {
            if (pr.state === "downloading" && ++blocks === 3) void w.module.urc(line)
        })
        const accepts = () => w.module.received.filter(c => c === "AT+QIOTUPDATE=1").length
        await expect(run(e.checkForUpdate())).rejects.toMatchObject({ name: "Reboot" })
        return { w, accepts: accepts() }
    }

    it("a 10704 before the last piece is read and verified does not activate anything: the download goes on", async () => {
        const { w } = await withStray("+QIOTEVT: 7,10704")
        // the reboot came after the whole package was read and verified ("all read" told), not at the stray 10704
        expect(w.module.received.filter(c => /^AT\+QIOTOTARD=\d+,\d+$/.test(c)).length).toBe(8)
        expect(w.module.received).toContain("AT+QIOTUPDATE=3")
        await run(w.powerOn().start())
        const img = await w.runningImage()
        expect(img.state).toBe("confirmed")
        expect(img.bytes.equals(w.pkg.data)).toBe(true)
    })

    it("a 10700 for another version does not restart the plan (no second AT+QIOTUPDATE=1)", async () => {
        const { accepts } = await withStray('+QIOTEVT: 7,10700,"STM32","","9_9_9",30,-113,8192')
        expect(accepts).toBe(1)
    })

    it("a 10700 for the same version with another size does not restart the plan", async () => {
        const { accepts } = await withStray('+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,8000')
        expect(accepts).toBe(1)
    })
})

describe("a package that fails verification", () => {
    /** The inactive slot's state in the store as the next boot reads it. */
    async function inactiveSlot(w: World) {
        const s = w.newStore()
        await s.mount()
        const st = (s as any).st
        return st.slots[1 - st.active].state as string
    }

    it("a wrong byte (MD5): the slot is marked bad, never ready, and the old image runs", async () => {
        const w = new World({ packageSize: 8192, module: { faults: [{ afterMs: 0, action: { kind: "bad-package", offset: 3000 } }] } })
        await w.install()
        expect(await once(w)).toMatchObject({ result: "failed", reason: "md5-mismatch" })
        expect(await inactiveSlot(w)).toBe("bad")
        expect(await healthy(w)).toBe("old")
    })
})
