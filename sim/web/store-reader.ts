// What the web view shows of the device's flash, read the way a bootloader would: the metadata
// log's records (src/flash/meta-log.ts's scanSector over every metadata sector) and the state in
// force (the store's own mount), through the NOR model's peek(), which neither counts as a flash
// operation nor minds the power: watching never moves a fault (cut@op=N) or touches the device.
import type { Flash } from "../../src/flash/flash"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { scanSector } from "../../src/flash/meta-log"
import type { StoreLayout } from "../../src/flash/store-config"
import { decodeProgress, decodeState, REC_PROGRESS, REC_STATE, SlotInfo } from "../../src/flash/store-records"
import { StepBudget } from "../../src/lib/step-budget"
import { toHex } from "../../src/lib/bytes"

export interface Peekable {
    readonly geometry: Flash["geometry"]
    peek(address: number, length: number): Buffer
}

export interface SlotView {
    slot: number
    state: string
    version: string
    size: number
    bootsLeft: number
    /** BadWhy of a bad slot (0 otherwise). */
    why: number
    active: boolean
    crc32: string
}

export interface RecordView {
    seq: number
    type: "STATE" | "PROGRESS" | string
    sector: number
    offset: number
    /** One line: what the record says. */
    text: string
}

export interface StoreView {
    slots: SlotView[]
    /** The download journal: bytes written and verified of the receiving slot, -1 when none. */
    written: number
    verified: number
    /** Newest first. */
    records: RecordView[]
    /** The flash could not be read as a store (mid-write, or not installed yet). */
    error: string | null
}

const WHY = ["", "not confirmed", "self-test", "image check", "crc", "download", "version mismatch"]

function slotText(s: SlotInfo, i: number): string {
    const why = s.state === "bad" && s.why ? ` (${WHY[s.why] ?? s.why})` : ""
    const boots = s.state === "trial" ? `, ${s.bootsLeft} boot(s) left` : ""
    return `slot ${i} ${s.state}${why} ${s.version || "-"} ${s.size} B${boots}`
}

function peekFlash(p: Peekable): Flash {
    return {
        geometry: p.geometry,
        read: async (a: number, n: number) => p.peek(a, n),
        program: async () => {
            throw new Error("read-only")
        },
        eraseSector: async () => {
            throw new Error("read-only")
        },
    }
}

const noYield = async () => {}

/** The store as the flash holds it now. */
export async function readStore(p: Peekable, layout: StoreLayout, newest = 8): Promise<StoreView> {
    const flash = peekFlash(p)
    const view: StoreView = { slots: [], written: -1, verified: -1, records: [], error: null }
    try {
        const g = flash.geometry
        const records: RecordView[] = []
        const budget = new StepBudget(1 << 30, noYield)
        for (let s = 0; s < layout.metaSectors; s++) {
            const base = layout.metaAddress + s * g.sectorSize
            await scanSector(flash, base, g.sectorSize, g.programUnit, g.sectorSize, budget, (seq, type, buf, start, len, offset) => {
                const body = Buffer.from(buf.subarray(start, start + len))
                let text = `${len} B`
                if (type === REC_STATE) {
                    const st = decodeState(body)
                    text = st ? `active ${st.active}, session ${st.session}; ${st.slots.map(slotText).join("; ")}` : "(does not decode)"
                } else if (type === REC_PROGRESS) {
                    const pr = decodeProgress(body)
                    text = pr ? `session ${pr.session}: written ${pr.progress.written}, verified ${pr.progress.verified}, midstate ${pr.progress.midstate.length} B` : "(does not decode)"
                }
                records.push({ seq, type: type === REC_STATE ? "STATE" : type === REC_PROGRESS ? "PROGRESS" : `type ${type}`, sector: s, offset, text })
            })
        }
        // every record is written twice (meta-log.ts): one entry per record; serial-number order (RFC 1982), newest first
        const seen = new Set<string>()
        const unique = records.filter(r => {
            const k = `${r.type}:${r.seq}`
            if (seen.has(k)) return false
            seen.add(k)
            return true
        })
        records.length = 0
        records.push(...unique)
        records.sort((a, b) => {
            const d = (b.seq - a.seq + 0x100000000) % 0x100000000
            return d === 0 ? 0 : d < 0x80000000 ? 1 : -1
        })
        view.records = records.slice(0, newest)
        const store = new ImageStore(flash, layout, { yielder: noYield, yieldEvery: 1 << 30 })
        await store.mount()
        const st = storeState(store)
        view.slots = st.slots.map((s, i) => ({
            slot: i,
            state: s.state,
            version: s.version,
            size: s.size,
            bootsLeft: s.bootsLeft,
            why: s.why,
            active: st.active === i,
            crc32: s.crcKnown ? toHex(Buffer.from([s.crc32 >>> 24, (s.crc32 >>> 16) & 255, (s.crc32 >>> 8) & 255, s.crc32 & 255])) : "",
        }))
        const j = store.journal()
        if (j) {
            view.written = j.written
            view.verified = j.verified
        }
    } catch (e: any) {
        view.error = e && e.message ? e.message : String(e)
    }
    return view
}
