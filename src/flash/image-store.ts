// The dual-bank image store: two equal slots and a metadata log (meta-log.ts) that says which
// slot to boot and what each slot holds. Everything the device must remember goes through one
// record append (a full STATE snapshot, or a download-journal PROGRESS delta), so a power cut at
// any instant leaves either the state before or the state after an operation in force.
//
// Rules that keep a device bootable (A/B select, as ESP-IDF and the RP2350 do it):
//   - a receive goes into the slot that is NOT running, and its "receiving" record is written
//     BEFORE the first erase of that slot: from then on no boot decision can pick it;
//   - the running slot and a trial's confirmed fallback are never erased or programmed;
//   - "activate" is one record: the slot becomes trial (or confirmed when permanent) and active;
//   - boot() picks the active slot; a trial slot that has used its boots without a confirm is
//     marked bad and the confirmed slot becomes active again (rollback), in one record;
//   - a boot with nothing to change (a confirmed active slot) writes nothing.
// Wear: each sector of the receiving slot is erased once, when the first write reaches it.

import { Flash, programSkippingErased } from "./flash"
import { MetaLog, MAX_META_SECTOR } from "./meta-log"
import { StoreError } from "./store-error"
import {
    cloneState,
    copyBuf,
    decodeProgress,
    decodeState,
    emptyProgress,
    encodeProgress,
    encodeState,
    initialState,
    MAX_MIDSTATE,
    MAX_STATE_BODY,
    MAX_VERSION,
    Progress,
    REC_PROGRESS,
    REC_STATE,
    SlotInfo,
    StoreState,
} from "./store-records"
import { StepBudget, Yielder } from "../lib/step-budget"
import { compareVersions } from "../lib/version"
import { crc32Update } from "../lib/crc32"
import { allBytes, fromHex, toHex } from "../lib/bytes"

/** Where the store lives on the flash: all addresses sector-aligned, nothing overlapping. */
export interface StoreLayout {
    metaAddress: number
    /** Sectors of the metadata log (≥ 2). */
    metaSectors: number
    /** Start of slot 0 and slot 1. */
    slotAddress: number[]
    /** Bytes per slot (a whole number of sectors). */
    slotSize: number
}

export interface StoreOptions {
    /** Boots a trial image gets before it is rolled back without a confirm. Default 1. */
    maxTrialBoots?: number
    /** Check the CRC-32 of the slot about to boot and fall back when it is wrong. Default false. */
    verifyOnBoot?: boolean
    /** Bytes of CRC/scan work between yields to the scheduler (DeviceScript step budget). Default 1024. */
    yieldEvery?: number
    /** How to yield; default `ds.sleep(0)`. */
    yielder?: Yielder
}

/** What is about to be received: the plan of a firmware update. */
export interface ImagePlan {
    version: string
    size: number
    /** Expected digests in hex; the SOTA engine checks them (see markReady's `verify`). */
    sha256?: string
    md5?: string
    /** Expected CRC-32, checked by markReady itself when given. */
    crc32?: number
}

export interface ReceiveOptions {
    allowDowngrade?: boolean
}

export interface ActivateOptions {
    /** Confirmed at once, no trial (the first image of a device, or a forced install). */
    permanent?: boolean
    allowDowngrade?: boolean
}

export interface BootResult {
    slot: number
    version: string
    /** The image runs on trial: the application must confirm() it or it is rolled back. */
    trial: boolean
    /** This boot rolled a trial (or a slot failing verifyOnBoot) back. */
    rolledBack: boolean
    /** This boot wrote a metadata record. */
    wrote: boolean
}

/** The download journal in force: the receiving slot's plan and the last saved progress. */
export interface DownloadJournal {
    slot: number
    version: string
    total: number
    sha256: string
    md5: string
    written: number
    verified: number
    midstate: Buffer
}

/** Reads and blank checks go in pieces of this size (heap: no whole sector or image in RAM). */
const IO_CHUNK = 512

function bootable(s: SlotInfo): boolean {
    return s.state === "trial" || s.state === "confirmed"
}

export class ImageStore {
    readonly flash: Flash
    readonly layout: StoreLayout
    private log: MetaLog
    private budget: StepBudget
    private maxTrialBoots: number
    private verifyOnBoot: boolean
    private st: StoreState
    private running: number
    /** Receiving slot: per sector, the offset from which it is known erased (-1: unknown). */
    private blankFrom: number[]

    constructor(flash: Flash, layout: StoreLayout, options?: StoreOptions) {
        const o: StoreOptions = options || {}
        this.flash = flash
        this.layout = layout
        this.maxTrialBoots = o.maxTrialBoots === undefined ? 1 : o.maxTrialBoots
        this.verifyOnBoot = !!o.verifyOnBoot
        this.budget = new StepBudget(o.yieldEvery || 1024, o.yielder)
        checkLayout(flash, layout)
        if (!(this.maxTrialBoots >= 1 && this.maxTrialBoots <= 255))
            throw new StoreError("bad-argument", `maxTrialBoots ${this.maxTrialBoots}`)
        this.log = new MetaLog(flash, layout.metaAddress, layout.metaSectors, this.budget)
        if (this.log.maxBody() < MAX_STATE_BODY)
            throw new StoreError("bad-layout", `metadata sectors too small for a ${MAX_STATE_BODY}-byte state`)
        this.st = null
        this.running = -1
        this.blankFrom = []
    }

    /** Read the metadata log: the state in force is the newest valid STATE plus newer progress. */
    async mount(): Promise<void> {
        const newest = await this.log.mount()
        const rec = newest[REC_STATE]
        let st = rec ? decodeState(rec.body) : null
        if (!st) st = initialState()
        const pr = newest[REC_PROGRESS]
        if (pr && rec && pr.seq > rec.seq) {
            const d = decodeProgress(pr.body)
            if (d && d.session === st.session && this.receivingIn(st) >= 0) st.progress = d.progress
        }
        this.st = st
        this.running = -1
        this.blankFrom = []
    }

    /**
     * Decide which slot runs. Rolls back a trial that used its boots, spends a trial boot, and
     * writes nothing when the active slot is confirmed. Throws "no-image" when nothing is bootable.
     */
    async boot(): Promise<BootResult> {
        this.mounted()
        const next = cloneState(this.st)
        let changed = false
        let rolledBack = false
        let cand = next.active
        if (cand >= 0 && next.slots[cand].state === "trial" && next.slots[cand].bootsLeft === 0) {
            const other = 1 - cand
            if (next.slots[other].state === "confirmed") {
                next.slots[cand].state = "bad"
                next.active = other
                cand = other
                changed = true
                rolledBack = true
            }
        }
        if (cand < 0 || !bootable(next.slots[cand])) {
            const other = cand < 0 ? this.findConfirmed(next) : 1 - cand
            if (other < 0 || next.slots[other].state !== "confirmed") throw new StoreError("no-image", "no bootable slot")
            next.active = other
            cand = other
            changed = true
        }
        if (this.verifyOnBoot && !(await this.slotIntact(next, cand))) {
            next.slots[cand].state = "bad"
            const other = 1 - cand
            if (next.slots[other].state !== "confirmed" || !(await this.slotIntact(next, other)))
                throw new StoreError("no-image", `slot ${cand} fails its CRC and there is no fallback`)
            next.active = other
            cand = other
            changed = true
            rolledBack = true
        }
        const s = next.slots[cand]
        if (s.state === "trial" && s.bootsLeft > 0) {
            s.bootsLeft--
            changed = true
        }
        if (changed) await this.commit(next)
        this.running = cand
        return { slot: cand, version: s.version, trial: s.state === "trial", rolledBack: rolledBack, wrote: changed }
    }

    /** The running image passed its self-test: make it permanent. False when it already was. */
    async confirm(): Promise<boolean> {
        const r = this.runningSlot()
        const s = this.st.slots[r]
        if (s.state === "confirmed") return false
        if (s.state !== "trial" || this.st.active !== r)
            throw new StoreError("bad-state", `running slot ${r} is ${s.state}, not on trial`)
        const next = cloneState(this.st)
        next.slots[r].state = "confirmed"
        next.slots[r].bootsLeft = 0
        await this.commit(next)
        return true
    }

    /** The running trial image failed its self-test: mark it bad and make the fallback active. Reboot next. */
    async reject(): Promise<void> {
        const r = this.runningSlot()
        const other = 1 - r
        if (this.st.slots[r].state !== "trial")
            throw new StoreError("bad-state", `running slot ${r} is ${this.st.slots[r].state}, not on trial`)
        if (this.st.slots[other].state !== "confirmed")
            throw new StoreError("bad-state", `no confirmed slot to fall back to`)
        const next = cloneState(this.st)
        next.slots[r].state = "bad"
        next.active = other
        await this.commit(next)
    }

    /**
     * Start receiving an image into the slot that is not running. A pending (not yet booted)
     * trial in that slot is abandoned in the same record. Returns the slot.
     */
    async startReceive(plan: ImagePlan, options?: ReceiveOptions): Promise<number> {
        this.mounted()
        const o: ReceiveOptions = options || {}
        const sha = parseDigest(plan.sha256, 32, "sha256")
        const md5 = parseDigest(plan.md5, 16, "md5")
        checkVersion(plan.version)
        if (!(plan.size > 0 && plan.size <= this.layout.slotSize && plan.size === Math.floor(plan.size)))
            throw new StoreError("too-large", `image of ${plan.size} bytes, slots hold ${this.layout.slotSize}`)
        const r = this.running
        let target = 0
        if (r < 0) {
            if (this.findConfirmed(this.st) >= 0 || this.st.active >= 0)
                throw new StoreError("reboot-required", "boot() before receiving")
        } else {
            this.checkRunningConfirmed()
            this.checkDowngrade(plan.version, !!o.allowDowngrade)
            target = 1 - r
        }
        const next = cloneState(this.st)
        next.session = next.session + 1
        if (r >= 0) next.active = r
        next.progress = emptyProgress()
        next.slots[target] = {
            state: "receiving",
            bootsLeft: 0,
            version: plan.version,
            size: plan.size,
            crc32: plan.crc32 === undefined ? 0 : plan.crc32 >>> 0,
            crcKnown: plan.crc32 !== undefined,
            sha256: sha,
            md5: md5,
        }
        await this.commit(next)
        this.resetBlank()
        return target
    }

    /**
     * Write image bytes at `offset` of the receiving slot. Offsets and lengths are multiples of
     * the program unit, except a write that ends the image. A sector is erased when a write
     * starts at its beginning; a write that resumes mid-sector (after a reboot) needs the rest
     * of that sector to read erased, else "not-blank" (restart from the sector start).
     */
    async write(offset: number, data: Buffer): Promise<void> {
        const t = this.requireReceiving()
        const s = this.st.slots[t]
        const unit = this.flash.geometry.programUnit
        const sectorSize = this.flash.geometry.sectorSize
        const end = offset + data.length
        if (!(offset >= 0 && end <= s.size && offset === Math.floor(offset)))
            throw new StoreError("too-large", `write [${offset}, ${end}) past the image size ${s.size}`)
        if (offset % unit !== 0 || (end < s.size && data.length % unit !== 0))
            throw new StoreError("unaligned", `write of ${data.length} at ${offset}, unit ${unit}`)
        let buf = data
        if (data.length % unit !== 0) {
            buf = Buffer.alloc(Math.ceil(data.length / unit) * unit)
            for (let i = 0; i < buf.length; i++) buf[i] = i < data.length ? data[i] : 0xff
        }
        const base = this.layout.slotAddress[t]
        let pos = offset
        const stop = offset + buf.length
        while (pos < stop) {
            const sec = Math.floor(pos / sectorSize)
            const secStart = sec * sectorSize
            const chunkEnd = Math.min(stop, secStart + sectorSize)
            await this.prepareSector(base, sec, pos - secStart)
            const piece = pos === offset && chunkEnd === stop ? buf : buf.slice(pos - offset, chunkEnd - offset)
            await programSkippingErased(this.flash, base + pos, piece)
            this.blankFrom[sec] = chunkEnd - secStart
            pos = chunkEnd
        }
    }

    /**
     * Save download progress (the journal for resume). Usually one small delta record. The store
     * rewinds it by itself when a write restarts a sector below `written`; `midstate` (the SOTA
     * engine's digest state at `verified`) is dropped when `verified` has to move back.
     */
    async saveJournal(written: number, verified: number, midstate?: Buffer): Promise<void> {
        const t = this.requireReceiving()
        const mid = midstate ? copyBuf(midstate) : Buffer.alloc(0)
        const size = this.st.slots[t].size
        if (!(verified >= 0 && verified <= written && written <= size) || mid.length > MAX_MIDSTATE)
            throw new StoreError("bad-argument", `journal written=${written} verified=${verified} midstate=${mid.length}`)
        await this.saveProgress({ written: written, verified: verified, midstate: mid })
    }

    private async saveProgress(p: Progress) {
        const body = encodeProgress(this.st.session, p)
        if (this.log.fits(body.length)) {
            await this.log.append(REC_PROGRESS, body, false)
            this.st.progress = p
        } else {
            const next = cloneState(this.st)
            next.progress = p
            await this.commit(next)
        }
    }

    /** The download journal in force, or null when no slot is receiving. */
    journal(): DownloadJournal {
        this.mounted()
        const t = this.receivingIn(this.st)
        if (t < 0) return null
        const s = this.st.slots[t]
        const p = this.st.progress
        return {
            slot: t,
            version: s.version,
            total: s.size,
            sha256: toHex(s.sha256),
            md5: toHex(s.md5),
            written: p.written,
            verified: p.verified,
            midstate: copyBuf(p.midstate),
        }
    }

    /**
     * The receiving slot is complete: measure its CRC-32, check it against the plan's, run the
     * caller's own verification (given the measured CRC, so it need not read the slot again; or
     * SHA-256/MD5 over read()), and mark it ready, or bad on failure.
     */
    async markReady(verify?: (slot: number, size: number, crc: number) => Promise<boolean>): Promise<void> {
        const t = this.requireReceiving()
        const s = this.st.slots[t]
        const crc = await this.imageCrc(t, s.size)
        let why = ""
        if (s.crcKnown && s.crc32 !== crc) why = `CRC-32 ${crc} != expected ${s.crc32}`
        else if (verify && !(await verify(t, s.size, crc))) why = "verification failed"
        const next = cloneState(this.st)
        next.progress = emptyProgress()
        next.slots[t].crc32 = crc
        next.slots[t].crcKnown = true
        next.slots[t].state = why ? "bad" : "ready"
        await this.commit(next)
        if (why) throw new StoreError("digest-mismatch", why)
    }

    /**
     * Make the ready slot the one to boot: one record. It boots on trial (rolled back unless
     * confirmed within maxTrialBoots boots) or, with `permanent`, confirmed.
     */
    async activate(options?: ActivateOptions): Promise<number> {
        this.mounted()
        const o: ActivateOptions = options || {}
        const r = this.running
        let t = 0
        if (r < 0) {
            if (this.findConfirmed(this.st) >= 0 || this.st.active >= 0)
                throw new StoreError("reboot-required", "boot() before activating")
            t = this.st.slots[0].state === "ready" ? 0 : 1
            if (!o.permanent) throw new StoreError("bad-state", "a first image has no fallback: activate it permanent")
        } else {
            this.checkRunningConfirmed()
            t = 1 - r
        }
        const s = this.st.slots[t]
        if (s.state !== "ready") throw new StoreError("bad-state", `slot ${t} is ${s.state}, not ready`)
        if (r >= 0) this.checkDowngrade(s.version, !!o.allowDowngrade)
        const next = cloneState(this.st)
        next.active = t
        next.slots[t].state = o.permanent ? "confirmed" : "trial"
        next.slots[t].bootsLeft = o.permanent ? 0 : this.maxTrialBoots
        await this.commit(next)
        return t
    }

    /** Read bytes of a slot (verification, or handing the image on). */
    async read(slot: number, offset: number, length: number): Promise<Buffer> {
        if (!(slot === 0 || slot === 1) || offset < 0 || length < 0 || offset + length > this.layout.slotSize)
            throw new StoreError("bad-argument", `read slot ${slot} [${offset}, ${offset + length})`)
        return await this.flash.read(this.layout.slotAddress[slot] + offset, length)
    }

    /** CRC-32 of the first `size` bytes of a slot, read in small pieces with yields. */
    async imageCrc(slot: number, size: number): Promise<number> {
        let crc = 0
        for (let off = 0; off < size; off += IO_CHUNK) {
            const n = Math.min(IO_CHUNK, size - off)
            const b = await this.read(slot, off, n)
            crc = crc32Update(crc, b, 0, n)
            await this.budget.spend(n)
        }
        return crc
    }

    /** A copy of the state in force. */
    state(): StoreState {
        this.mounted()
        return cloneState(this.st)
    }

    slotInfo(slot: number): SlotInfo {
        return this.state().slots[slot]
    }

    activeSlot(): number {
        this.mounted()
        return this.st.active
    }

    /** The slot boot() chose in this run of the program. */
    runningSlot(): number {
        if (this.running < 0) throw new StoreError("reboot-required", "boot() first")
        return this.running
    }

    /** Metadata sector erases done by this store object (wear figures). */
    metaErases(): number {
        return this.log.erases
    }

    private async commit(next: StoreState) {
        await this.log.append(REC_STATE, encodeState(next), true)
        this.st = next
    }

    private mounted() {
        if (!this.st) throw new StoreError("bad-state", "mount() first")
    }

    private findConfirmed(st: StoreState): number {
        if (st.slots[0].state === "confirmed") return 0
        if (st.slots[1].state === "confirmed") return 1
        return -1
    }

    /** The receiving slot (never the running one), or -1. */
    private receivingIn(st: StoreState): number {
        for (let i = 0; i < 2; i++) if (st.slots[i].state === "receiving" && i !== this.running) return i
        return -1
    }

    private requireReceiving(): number {
        this.mounted()
        const t = this.receivingIn(this.st)
        if (t < 0) throw new StoreError("bad-state", "no slot is receiving")
        return t
    }

    private checkRunningConfirmed() {
        const rs = this.st.slots[this.running]
        if (rs.state === "trial") throw new StoreError("trial-pending", "confirm or reject the running image first")
        if (rs.state !== "confirmed") throw new StoreError("reboot-required", `running slot is ${rs.state}`)
    }

    private checkDowngrade(version: string, allow: boolean) {
        const cur = this.st.slots[this.running].version
        if (!allow && compareVersions(version, cur) < 0)
            throw new StoreError("downgrade", `${version} is lower than the running ${cur}`)
    }

    private resetBlank() {
        this.blankFrom = []
        const n = this.layout.slotSize / this.flash.geometry.sectorSize
        for (let i = 0; i < n; i++) this.blankFrom.push(-1)
    }

    /** Make sure a program at `inSec` of sector `sec` lands on erased flash. */
    private async prepareSector(base: number, sec: number, inSec: number) {
        const known = this.blankFrom[sec]
        if (known >= 0 && inSec >= known) return
        const sectorSize = this.flash.geometry.sectorSize
        const addr = base + sec * sectorSize
        if (inSec === 0) {
            // restarting a sector below the journal's mark: rewind the journal first, so that it
            // never claims bytes this erase is about to destroy (the midstate goes if it was past)
            const p = this.st.progress
            const secOff = sec * sectorSize
            if (p.written > secOff) {
                const keep = p.verified <= secOff
                await this.saveProgress({
                    written: secOff,
                    verified: keep ? p.verified : secOff,
                    midstate: keep ? p.midstate : Buffer.alloc(0),
                })
            }
            await this.flash.eraseSector(addr)
            this.blankFrom[sec] = 0
            return
        }
        if (known >= 0) throw new StoreError("not-blank", `offset ${sec * sectorSize + inSec} was already written`)
        for (let off = inSec; off < sectorSize; off += IO_CHUNK) {
            const n = Math.min(IO_CHUNK, sectorSize - off)
            const b = await this.flash.read(addr + off, n)
            if (!allBytes(b, 0, n, 0xff))
                throw new StoreError("not-blank", `sector ${sec} is not erased after offset ${inSec}`)
            await this.budget.spend(n)
        }
        this.blankFrom[sec] = inSec
    }

    private async slotIntact(st: StoreState, slot: number): Promise<boolean> {
        const s = st.slots[slot]
        return s.crcKnown && s.size > 0 && (await this.imageCrc(slot, s.size)) === s.crc32
    }
}

function checkVersion(v: string) {
    const n = Buffer.from(v || "").length
    if (n === 0 || n > MAX_VERSION) throw new StoreError("bad-argument", `version "${v}" (1..${MAX_VERSION} bytes)`)
}

function parseDigest(hex: string, bytes: number, what: string): Buffer {
    if (!hex) return Buffer.alloc(0)
    const b = hex.length === 2 * bytes ? fromHex(hex) : null
    if (!b) throw new StoreError("bad-argument", `${what} must be ${2 * bytes} hex digits`)
    return b
}

function checkLayout(flash: Flash, l: StoreLayout) {
    const g = flash.geometry
    const S = g.sectorSize
    const bad = (why: string) => new StoreError("bad-layout", why)
    if (S > MAX_META_SECTOR) throw bad(`sectors of ${S} bytes (metadata needs ≤ ${MAX_META_SECTOR})`)
    if (!(l.metaSectors >= 2)) throw bad("the metadata log needs at least 2 sectors")
    if (!(l.slotSize > 0) || l.slotSize % S !== 0) throw bad(`slot size ${l.slotSize} is not whole sectors`)
    if (!l.slotAddress || l.slotAddress.length !== 2) throw bad("two slots")
    const starts = [l.metaAddress, l.slotAddress[0], l.slotAddress[1]]
    const sizes = [l.metaSectors * S, l.slotSize, l.slotSize]
    for (let i = 0; i < 3; i++) {
        if (starts[i] % S !== 0 || starts[i] < 0 || starts[i] + sizes[i] > g.size)
            throw bad(`region ${i} at ${starts[i]} is unaligned or past the device`)
        for (let j = 0; j < i; j++)
            if (starts[i] < starts[j] + sizes[j] && starts[j] < starts[i] + sizes[i]) throw bad(`regions ${j} and ${i} overlap`)
    }
}
