// The power-cut sweep over a flash reached through a link (the simulator's socket client and the
// Jacdac channel's RemoteFlash): cut before, after and torn at every program/erase of an update,
// the client must end in its own link error (a dead MCU hears nothing) and the next boot, over a
// fresh client, must take the old or the new image.
import { expect } from "vitest"
import { Flash } from "../../src/flash/flash"
import { createPipe, PipeEnd } from "../../src/link/pipe"
import { FlashServer } from "../../sim/flash/flash-server"
import { CutKind, NorFlash, rng } from "../../sim/flash/nor-flash"
import { FLASH_SIZE, newStore, receive, SECTOR } from "./fixtures"
import { checkDevice, provisionV1, V1, V2 } from "./harness"

/** n bytes of a seeded pattern. */
export function pattern(n: number, seed: number): Buffer {
    const r = rng(seed)
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
    return b
}

/**
 * Sweeps every cut point; `open` makes a client over the pipe's end, `dead` asserts the error a cut
 * leaves the client with. Returns the number of points and what each next boot took.
 */
export async function linkPowerCutSweep(name: string, open: (end: PipeEnd) => Promise<Flash>, dead: (e: any, where: string) => void) {
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
    await provisionV1({ name: "nor", nor, flash: nor })
    const s0 = newStore(nor)
    await s0.mount()
    await s0.boot()
    const snap = nor.snapshot()
    const [c, sEnd] = createPipe()
    new FlashServer(nor, sEnd)
    let readyAt = 0
    const update = async (f: Flash) => {
        const s = newStore(f)
        await s.mount()
        await s.boot()
        await receive(s, V2, { block: 1024 })
        readyAt = nor.ops
        await s.activate()
    }
    // a clean run through the link counts the operations
    nor.resetCounters()
    await update(await open(c))
    const total = nor.ops
    expect(total).toBeGreaterThan(15)
    let points = 0
    const booted: Record<string, number> = {}
    for (let k = 1; k <= total; k++) {
        for (const kind of ["before", "after", "torn"] as CutKind[]) {
            const where = `cut ${kind} at op ${k}`
            nor.restore(snap)
            nor.resetCounters()
            nor.armCut({ op: k, kind, at: 0.5, seed: k })
            dead(await update(await open(c)).catch(x => x), where)
            expect(nor.isOff()).toBe(true)
            nor.powerOn() // the reboot: a fresh client and store over the same server
            const completed = kind === "after" ? k : k - 1
            const allowed = completed < readyAt + 1 ? [V1.version] : completed >= total ? [V2.version] : [V1.version, V2.version]
            const res = await checkDevice({ name, nor, flash: await open(c) }, allowed)
            expect(res.why, where).toBe("")
            booted[res.booted] = (booted[res.booted] ?? 0) + 1
            points++
        }
    }
    console.log(`${name} flash power cuts: ${points} points over ${total} operations, booted ${JSON.stringify(booted)}`)
    expect(booted[V1.version]).toBeGreaterThan(0)
    expect(booted[V2.version]).toBeGreaterThan(0)
    return { points, booted }
}
