// Metadata robustness (ota-anchors §7.3): flip every bit of every metadata record copy in turn;
// a fresh mount must see exactly the state in force before the flip, and boot the same slot.
import { describe, expect, it } from "vitest"
import { RECORD_OVERHEAD, maxRecordBody, scanSector } from "../../src/flash/meta-log"
import { encodeState } from "../../src/flash/store-records"
import { StepBudget } from "../../src/lib/step-budget"
import { NorFlash } from "../../sim/flash/nor-flash"
import { FLASH_SIZE, LAYOUT, SECTOR, midstateFor, newStore, receive } from "./fixtures"
import { provisionV1, V2 } from "./harness"
import { storeState } from "../../src/flash/image-store"

async function view(nor: NorFlash) {
    const s = newStore(nor)
    await s.mount()
    const state = encodeState(storeState(s)).toString("hex")
    const j = s.journal()
    const snap = nor.snapshot()
    let boot = ""
    try {
        const b = await s.boot()
        boot = `${b.slot}:${b.version}:${b.trial}:${b.rolledBack}`
    } catch (e) {
        boot = `error ${(e as Error).message}`
    }
    nor.restore(snap)
    return { state, journal: j ? JSON.stringify({ ...j, midstate: j.midstate.toString("hex") }) : "none", boot }
}

/** Every valid record copy in the metadata area: absolute address and length of its fields. */
async function recordCopies(nor: NorFlash) {
    const out: { addr: number; len: number }[] = []
    for (let s = 0; s < LAYOUT.metaSectors; s++) {
        const base = LAYOUT.metaAddress + s * SECTOR
        const unit = nor.geometry.programUnit
        await scanSector(nor, base, SECTOR, unit, maxRecordBody(SECTOR, unit), new StepBudget(1 << 30, async () => {}), (_seq, _t, _b, _body, len, off) =>
            out.push({ addr: base + off, len: RECORD_OVERHEAD + len })
        )
    }
    return out
}

const STATES: { name: string; build: (nor: NorFlash) => Promise<void> }[] = [
    {
        name: "mid-download (a journal delta is the newest record)",
        async build(nor) {
            await provisionV1({ name: "", nor, flash: nor })
            const s = newStore(nor)
            await s.mount()
            await s.boot()
            await s.startReceive({ version: V2.version, size: V2.bytes.length, crc32: V2.crc, sha256: V2.sha256 })
            for (let off = 0; off < 3072; off += 1024) {
                await s.write(off, V2.bytes.subarray(off, off + 1024))
                await s.saveJournal(off + 1024, off, midstateFor(off))
            }
        },
    },
    {
        name: "trial boot spent (rollback pending), log wrapped onto sector 1",
        async build(nor) {
            await provisionV1({ name: "", nor, flash: nor })
            let s = newStore(nor)
            await s.mount()
            await s.boot()
            await receive(s, V2, { block: 512 })
            await s.activate()
            s = newStore(nor)
            await s.mount()
            await s.boot()
        },
    },
]

describe("single-bit flips in metadata records", () => {
    for (const st of STATES) {
        it(`leave the last good state in force: ${st.name}`, async () => {
            const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: FLASH_SIZE })
            await st.build(nor)
            const want = await view(nor)
            const copies = await recordCopies(nor)
            expect(copies.length).toBeGreaterThanOrEqual(8)
            if (st.name.includes("wrapped")) expect(copies.some(c => c.addr >= LAYOUT.metaAddress + SECTOR)).toBe(true)
            let flips = 0
            const bad: string[] = []
            for (const c of copies) {
                for (let a = c.addr; a < c.addr + c.len; a++) {
                    for (let bit = 0; bit < 8; bit++) {
                        nor.flipBit(a, bit)
                        const got = await view(nor)
                        nor.flipBit(a, bit)
                        flips++
                        if (got.state !== want.state || got.journal !== want.journal || got.boot !== want.boot)
                            bad.push(`flip 0x${a.toString(16)} bit ${bit}: ${got.boot} ${got.journal.slice(0, 60)}`)
                    }
                }
            }
            console.log(`bit flips (${st.name}): ${copies.length} record copies, ${flips} flips, ${bad.length} changed the state`)
            expect(bad.slice(0, 10)).toEqual([])
            expect(flips).toBeGreaterThan(10000)
        }, 120_000)
    }
})
