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
//   - boot() follows the pure decision of boot-decision.ts (trial accounting, rollback), in one
//     record, or none when nothing changes.
// Wear: each sector of the receiving slot is erased once, when the first write reaches it.

import { Flash, FlashError } from "./flash"
import { MetaLog } from "./meta-log"
import { BadWhy, BlockHasher, BootResult, DownloadJournal, ImagePlan, RecordKeeper, SlotCheck, StoreError, UpgradeStore } from "./store-port"
import {
    cloneState, encodeProgress, encodeState, initialState, journalOf, MAX_MIDSTATE, MAX_STATE_BODY,
    Progress, REC_OUTCOME, REC_PROGRESS, REC_STATE, slotIn, stateInForce, stateReadable, StoreState,
} from "./store-records"
import { confirmedSlot, decideBoot, markBadSlot, unrecordedBoot } from "./boot-decision"
import { BlockWriter } from "./block-writer"
import { failedTrial } from "./failed-trial"
import { checkDowngrade, checkLayout, checkVersion, parseDigest, StoreLayout, StoreOptions, trialBoots } from "./store-config"
import { slotCrc, unknownBlank, writeSlot } from "./slot-io"
import { StepBudget } from "../lib/step-budget"


/**
 * The store for block downloads (the boards'): everything but a rebuild's openImage/writeImage
 * and storeState() (below). Split because every method of a class is compiled into every
 * image that uses the class: a board without a rebuilder is ~300 B of bytecode smaller this way.
 */
export class BlockImageStore implements UpgradeStore {
    readonly flash: Flash
    readonly layout: StoreLayout
    readonly slotSize: number
    readonly allowDowngrade: boolean
    /** The last-outcome record, when StoreOptions.outcomes keeps one. */
    readonly outcomes: RecordKeeper
    every: number
    writer: BlockWriter = null
    /** A rebuild (openImage): the image is written with writeImage, its offsets may outgrow the package's size. */
    rebuilding = false
    /**
     * The metadata log; `log.erases` are the sector erases done by this store object (wear figures).
     * (No slotInfo/activeSlot/metaErases methods: every method of a class is compiled into every
     * image that has the class, and only the simulator and tests read these: storeState() and log do.)
     */
    readonly log: MetaLog
    budget: StepBudget
    private maxTrialBoots: number
    private verifyOnBoot: boolean
    private externalBoot: boolean
    st: StoreState
    running: number
    /** Receiving slot: per sector, the offset from which it is known erased (-1: unknown). */
    blankFrom: number[]

    constructor(flash: Flash, layout: StoreLayout, options?: StoreOptions) {
        const o: StoreOptions = options || {}
        this.flash = flash
        this.layout = layout
        this.slotSize = layout.slotSize
        this.allowDowngrade = !!o.allowDowngrade
        this.outcomes = o.outcomes || null
        const sector = flash.geometry.sectorSize
        this.every = Math.max(sector, Math.ceil((o.checkpointBytes || 4096) / sector) * sector)
        this.maxTrialBoots = trialBoots(o)
        this.verifyOnBoot = !!o.verifyOnBoot
        this.externalBoot = !!o.externalBoot
        this.budget = new StepBudget(o.yieldEvery || 1024, o.yielder)
        checkLayout(flash, layout)
        this.log = new MetaLog(flash, layout.metaAddress, layout.metaSectors, this.budget)
        if (this.log.maxBody < MAX_STATE_BODY)
            throw new StoreError("bad-layout", `metadata sectors too small for a ${MAX_STATE_BODY}-byte state`)
        this.st = null
        this.running = -1
        this.blankFrom = []
    }

    /**
     * Read the metadata log: the state in force is the newest STATE that decodes, plus newer progress.
     * A newest STATE that does not (another firmware's format) costs a second scan that checks them.
     */
    async mount(): Promise<void> {
        let newest = await this.log.mount()
        let st = stateInForce(newest[REC_STATE], newest[REC_PROGRESS], this.running)
        if (!st && newest[REC_STATE]) {
            newest = await this.log.mount(stateReadable)
            st = stateInForce(newest[REC_STATE], newest[REC_PROGRESS], this.running)
        }
        if (!st) st = initialState()
        this.st = st
        if (this.outcomes) this.outcomes.mounted(this.log, newest[REC_OUTCOME], st)
        this.running = -1
        this.blankFrom = []
    }

    /**
     * Decide which slot runs: roll back a trial that used its boots, spend a trial boot, write nothing
     * when the active slot is confirmed; "no-image" when nothing is bootable. When the metadata cannot
     * take the record (a FlashError: a worn-out sector), the confirmed slot runs unrecorded (metaFault).
     * `check` (a boot stage's image check) runs on the chosen slot after its CRC: a slot that fails
     * either is marked bad with its why and the other slot runs. With externalBoot, a boot stage did
     * all this before the program ran: boot() only learns its choice.
     */
    async boot(check?: SlotCheck): Promise<BootResult> {
        mounted(this)
        if (this.externalBoot) {
            // what a boot stage chose and recorded: the active slot, which must be bootable
            // (bootable written out: a function costs a 16 B descriptor)
            const a = this.st.active
            const activeState = a < 0 ? "empty" : this.st.slots[a].state
            if (activeState !== "trial" && activeState !== "confirmed") throw new StoreError("no-image", "the boot stage left no bootable slot active")
            this.running = a
            const chosen = bootResult(this, this.st, activeState === "trial", false, false)
            // what the boot stage itself decided is this boot's rollback; a reject() was the program's own
            const w = chosen.why
            chosen.rolledBack = w === BadWhy.NotConfirmed || w === BadWhy.ImageCheck || w === BadWhy.Crc
            return chosen
        }
        let d = decideBoot(this.st, -1)
        // a trial boot always checks what it is about to run (once per upgrade); every boot with verifyOnBoot or a check
        const always = this.verifyOnBoot || !!check
        if (d.slot >= 0 && (always || d.trial)) {
            const failed = d.slot
            const why = await slotCheck(this, d.next, failed, check)
            if (why) {
                d = decideBoot(this.st, failed)
                d.next.slots[failed].why = why
                if (d.slot >= 0 && always && (await slotCheck(this, d.next, d.slot, check))) d.slot = -1
            }
        }
        if (d.slot < 0) throw new StoreError("no-image", d.why || "no intact slot to fall back to")
        let fault: StoreError = null
        if (d.changed) {
            try {
                await commit(this, d.next)
            } catch (e) {
                if (!(e instanceof FlashError)) throw e // a power cut is no error to handle
                fault = e
                const u = unrecordedBoot(this.st, d, -1)
                d = always && u.slot !== d.slot && (await slotCheck(this, u.next, u.slot, check)) ? unrecordedBoot(this.st, d, u.slot) : u
            }
        }
        this.running = d.slot
        const res = bootResult(this, d.next, d.trial, d.rolledBack, d.changed)
        res.metaFault = fault
        return res
    }

    /** The failure boot() returned is reported: keep it, as a record, not as news. */
    async reported(): Promise<void> {
        mounted(this)
        const next = cloneState(this.st)
        let changed = false
        for (let i = 0; i < 2; i++)
            if (next.slots[i].unreported) {
                next.slots[i].unreported = false
                changed = true
            }
        if (changed) await commit(this, next)
    }

    /**
     * The running image passed its self-test: make it permanent, and raise the security counter to
     * its image's (one record: a trial that rolls back never raised it). False when it already was.
     */
    async confirm(securityCounter?: number): Promise<boolean> {
        const r = runningSlot(this)
        const s = this.st.slots[r]
        if (s.state === "confirmed") return false
        if (s.state !== "trial" || this.st.active !== r)
            throw new StoreError("bad-state", `running slot ${r} is ${s.state}, not on trial`)
        const next = cloneState(this.st)
        next.slots[r].state = "confirmed"
        next.slots[r].bootsLeft = 0
        // raise the counter to the image's, a u32 as MCUboot's (never lower it; the record holds 32 bits)
        if (securityCounter > next.counter) next.counter = Math.min(securityCounter, 0xffffffff)
        await commit(this, next)
        return true
    }

    securityCounter(): number {
        mounted(this)
        return this.st.counter
    }

    /** The running trial image failed its self-test: mark it bad and make the fallback active. Reboot next. */
    async reject(why?: number): Promise<void> {
        const r = runningSlot(this)
        const other = 1 - r
        if (this.st.slots[r].state !== "trial")
            throw new StoreError("bad-state", `running slot ${r} is ${this.st.slots[r].state}, not on trial`)
        if (this.st.slots[other].state !== "confirmed")
            throw new StoreError("bad-state", `no confirmed slot to fall back to`)
        const next = cloneState(this.st)
        markBadSlot(next.slots[r], why || BadWhy.SelfTest)
        next.active = other
        await commit(this, next)
    }

    /**
     * Start receiving an image into the slot that is not running. A pending (not yet booted)
     * trial in that slot is abandoned in the same record. Returns the slot.
     */
    async startReceive(plan: ImagePlan): Promise<number> {
        mounted(this)
        const sha = parseDigest(plan.sha256, 32, "sha256")
        const md5 = parseDigest(plan.md5, 16, "md5")
        checkVersion(plan.version)
        if (!(plan.size > 0 && plan.size <= this.layout.slotSize && plan.size === Math.floor(plan.size)))
            throw new StoreError("too-large", `image of ${plan.size} bytes, slots hold ${this.layout.slotSize}`)
        const r = checkRunningConfirmed(this, "receiving")
        let target = 0
        if (r >= 0) {
            checkDowngrade(this.allowDowngrade, plan.version, this.st.slots[r].version)
            target = 1 - r
        }
        const next = cloneState(this.st)
        next.session = next.session + 1
        if (r >= 0) next.active = r
        next.progress = initialState().progress // no progress: the blank state's (no emptyProgress function: 56 B)
        next.slots[target] = {
            state: "receiving",
            bootsLeft: 0,
            version: plan.version,
            size: plan.size,
            crc32: plan.crc32 === undefined ? 0 : plan.crc32 >>> 0,
            crcKnown: plan.crc32 !== undefined,
            sha256: sha,
            md5: md5,
            why: 0,
            unreported: false,
        }
        await commit(this, next)
        this.blankFrom = unknownBlank(this.layout.slotSize / this.flash.geometry.sectorSize)
        this.writer = null
        this.rebuilding = false
        return target
    }

    /** Where a receive of the journal's package can resume: its verified checkpoint with a midstate, or 0. */
    resumePoint(): number {
        const j = this.journal()
        if (!j || j.verified <= 0 || j.verified % this.every !== 0 || j.midstate.length === 0) return 0
        return j.verified
    }

    /** Take blocks from `from` (0, or resumePoint()) on; `hasher` is fed exactly the bytes programmed. */
    openBlocks(from: number, hasher: BlockHasher) {
        const t = requireReceiving(this)
        if (from !== 0 && from !== this.resumePoint()) throw new StoreError("bad-argument", `resume at ${from}`)
        this.writer = new BlockWriter(this, hasher, this.flash.geometry.programUnit, this.st.slots[t].size, from, this.every)
        this.rebuilding = false
    }

    /** Bytes of the running slot (a delta's base), or of the receiving one (a rebuild's output). */
    async readImage(receiving: boolean, offset: number, len: number): Promise<Buffer> {
        const slot = receiving ? requireReceiving(this) : runningSlot(this)
        return await this.read(slot, offset, len)
    }

    /** The size of the running slot's image. */
    runningSize(): number {
        return this.st.slots[runningSlot(this)].size
    }

    blockSize(max: number): number {
        const unit = this.flash.geometry.programUnit
        return max > unit ? max - (max % unit) : max
    }

    nextOffset(): number {
        return this.writer ? this.writer.next() : 0
    }

    async putBlock(offset: number, block: Buffer, len: number): Promise<boolean> {
        if (!this.writer) throw new StoreError("bad-state", "openBlocks() first")
        return await this.writer.put(offset, block, len)
    }

    /**
     * Write image bytes at `offset` of the receiving slot. Offsets and lengths are multiples of
     * the program unit, except a write that ends the image. A sector is erased when a write
     * starts at its beginning; a write that resumes mid-sector (after a reboot) needs the rest
     * of that sector to read erased, else "not-blank" (restart from the sector start).
     */
    async write(offset: number, data: Buffer): Promise<void> {
        const t = requireReceiving(this)
        await writeSlot(this.flash, this.budget, this.blankFrom, this.layout.slotAddress[t], this.st.slots[t].size, offset, data, this)
    }

    /**
     * A write restarts a sector below the journal's mark: rewind the journal first, so that it
     * never claims bytes the sector's erase is about to destroy (the midstate goes if it was past).
     * A rewind is a journal save (saveJournal: its checks hold, the midstate is copied).
     */
    async rewindTo(offset: number) {
        const p = this.st.progress
        if (p.written <= offset) return
        const keep = p.verified <= offset
        await this.saveJournal(offset, keep ? p.verified : offset, keep ? p.midstate : null)
    }

    /**
     * Save download progress (the journal for resume). Usually one small delta record. The store
     * rewinds it by itself when a write restarts a sector below `written`; `midstate` (the SOTA
     * engine's digest state at `verified`) is dropped when `verified` has to move back.
     */
    async saveJournal(written: number, verified: number, midstate?: Buffer): Promise<void> {
        const t = requireReceiving(this)
        const mid = midstate ? Buffer.from(midstate) : Buffer.alloc(0) // a copy: the caller reuses its buffer
        // a rebuild's offsets are the image's, which may outgrow its package
        const size = this.rebuilding ? this.layout.slotSize : this.st.slots[t].size
        if (!(verified >= 0 && verified <= written && written <= size) || mid.length > MAX_MIDSTATE)
            throw new StoreError("bad-argument", `journal written=${written} verified=${verified} midstate=${mid.length}`)
        // one small delta record, or a full STATE when the sector has no room left for it
        const p: Progress = { written: written, verified: verified, midstate: mid }
        const body = encodeProgress(this.st.session, p)
        if (this.log.fits(body.length)) {
            await this.log.append(REC_PROGRESS, body, false)
            this.st.progress = p
        } else {
            const next = cloneState(this.st)
            next.progress = p
            await commit(this, next)
        }
    }

    /** The download journal in force, or null when no slot is receiving. */
    journal(): DownloadJournal {
        mounted(this)
        const t = slotIn(this.st, this.running, "receiving")
        return t < 0 ? null : journalOf(this.st, t)
    }

    /**
     * A receive was started and not activated (a slot receiving, or ready): the module may still
     * be inside that plan, e.g. after a power cut between markReady() and the module's 10704.
     */
    interrupted(): boolean {
        mounted(this)
        return slotIn(this.st, this.running, "ready") >= 0 || slotIn(this.st, this.running, "receiving") >= 0
    }

    /**
     * The receiving slot is complete: measure its CRC-32 and mark it ready when it equals the
     * plan's (when the plan gave one) and `expectedCrc` (the CRC-32 of the bytes the caller
     * received and checked; omitted by a caller that checked the slot itself); else mark it bad.
     * `size`: a rebuilt image's size (the plan's size and CRC were its package's), recorded with it.
     */
    async markReady(expectedCrc?: number, size?: number): Promise<void> {
        const t = requireReceiving(this)
        const s = this.st.slots[t]
        const rebuilt = size !== undefined
        const n = rebuilt ? size : s.size
        const crc = await slotCrc(this.flash, this.layout.slotAddress[t], n, this.budget)
        const planCrc = s.crcKnown && !rebuilt
        let why = ""
        if (planCrc && s.crc32 !== crc) why = `CRC-32 ${crc} != expected ${s.crc32}`
        else if (expectedCrc !== undefined && expectedCrc >>> 0 !== crc) why = `the slot's CRC-32 ${crc} != ${expectedCrc >>> 0} received`
        await finishReceive(this, t, crc, why ? "bad" : "ready", n)
        if (why) throw new StoreError(planCrc && s.crc32 !== crc ? "digest-mismatch" : "flash-mismatch", why)
    }

    async markBad(why?: number): Promise<void> {
        if (!why) {
            const t = requireReceiving(this)
            return await finishReceive(this, t, 0, "bad", this.st.slots[t].size)
        }
        // a verified image its application refused (a data component's check): remembered like a failed self-test
        const r = slotIn(this.st, this.running, "ready")
        if (r < 0) throw new StoreError("bad-state", "no slot is ready")
        const next = cloneState(this.st)
        markBadSlot(next.slots[r], why)
        await commit(this, next)
    }

    /**
     * Make the ready slot the one to boot: one record. It boots on trial (rolled back unless
     * confirmed within maxTrialBoots boots) or, with `permanent`, confirmed.
     */
    async activate(permanent?: boolean, securityCounter?: number): Promise<number> {
        mounted(this)
        const r = checkRunningConfirmed(this, "activating")
        let t = 1 - r
        if (r < 0) {
            t = this.st.slots[0].state === "ready" ? 0 : 1
            if (!permanent) throw new StoreError("bad-state", "a first image has no fallback: activate it permanent")
        }
        const s = this.st.slots[t]
        if (s.state !== "ready") throw new StoreError("bad-state", `slot ${t} is ${s.state}, not ready`)
        if (r >= 0) checkDowngrade(this.allowDowngrade, s.version, this.st.slots[r].version)
        const next = cloneState(this.st)
        next.active = t
        next.slots[t].state = permanent ? "confirmed" : "trial"
        next.slots[t].bootsLeft = permanent ? 0 : this.maxTrialBoots
        if (permanent && securityCounter > next.counter) next.counter = Math.min(securityCounter, 0xffffffff) // as confirm()
        await commit(this, next)
        return t
    }

    /** The package that failed for good and lies in the slot that is not running, or null (failed-trial.ts). */
    failedTrial(): ImagePlan {
        mounted(this)
        return failedTrial(this.st, this.running)
    }

    /** Read bytes of a slot (verification, or handing the image on). */
    async read(slot: number, offset: number, length: number): Promise<Buffer> {
        if (!(slot === 0 || slot === 1) || offset < 0 || length < 0 || offset + length > this.layout.slotSize)
            throw new StoreError("bad-argument", `read slot ${slot} [${offset}, ${offset + length})`)
        return await this.flash.read(this.layout.slotAddress[slot] + offset, length)
    }


}

// The store's internal steps as module functions, not methods: a method costs a prototype-table
// entry (~11 B) in every image that has the class, a function only its descriptor.

/** The slot boot() chose in this run of the program (a function: a method costs a prototype-table entry). */
export function runningSlot(store: BlockImageStore): number {
    if (store.running < 0) throw new StoreError("reboot-required", "boot() first")
    return store.running
}

function bootResult(store: BlockImageStore, st: StoreState, trial: boolean, rolledBack: boolean, wrote: boolean): BootResult {
    const o = st.slots[1 - store.running]
    const news = o.state === "bad" && o.unreported
    return {
        slot: store.running,
        version: st.slots[store.running].version,
        trial: trial,
        rolledBack: rolledBack,
        wrote: wrote,
        metaFault: null,
        why: news ? o.why : 0,
        failedVersion: news ? o.version : "",
    }
}

async function finishReceive(store: BlockImageStore, t: number, crc: number, state: "ready" | "bad", size: number) {
    const next = cloneState(store.st)
    next.progress = initialState().progress
    next.slots[t].size = size
    next.slots[t].crc32 = crc
    next.slots[t].crcKnown = state === "ready"
    next.slots[t].state = state
    next.slots[t].why = state === "bad" ? BadWhy.Download : 0
    await commit(store, next)
    store.writer = null
    store.rebuilding = false
}

async function commit(store: BlockImageStore, next: StoreState) {
    await store.log.append(REC_STATE, encodeState(next), true)
    store.st = next
    if (store.outcomes) await store.outcomes.committed(next)
}

function mounted(store: BlockImageStore) {
    if (!store.st) throw new StoreError("bad-state", "mount() first")
}

function requireReceiving(store: BlockImageStore): number {
    mounted(store)
    const t = slotIn(store.st, store.running, "receiving")
    if (t < 0) throw new StoreError("bad-state", "no slot is receiving")
    return t
}

/**
 * The slot that runs, which must be confirmed before a receive or an activation; -1 before the
 * first boot, allowed only on a device with nothing confirmed or active (else boot() first:
 * `doing` words that error). One check for startReceive and activate.
 */
function checkRunningConfirmed(store: BlockImageStore, doing: string): number {
    const r = store.running
    if (r < 0) {
        if (confirmedSlot(store.st) >= 0 || store.st.active >= 0) throw new StoreError("reboot-required", `boot() before ${doing}`)
        return r
    }
    const rs = store.st.slots[r]
    if (rs.state === "trial") throw new StoreError("trial-pending", "confirm or reject the running image first")
    if (rs.state !== "confirmed") throw new StoreError("reboot-required", `running slot is ${rs.state}`)
    return r
}

/** 0 when the slot's bytes are as verified and `check` passes them; else why not. */
async function slotCheck(store: BlockImageStore, st: StoreState, slot: number, check: SlotCheck): Promise<number> {
    const s = st.slots[slot]
    if (!(s.crcKnown && s.size > 0 && (await slotCrc(store.flash, store.layout.slotAddress[slot], s.size, store.budget)) === s.crc32)) return BadWhy.Crc
    return check ? await check(slot, s.size) : 0
}

/**
 * The store with the rebuild path too (a delta or compressed package rebuilt into the receiving
 * slot by src/sota/rebuild.ts); storeState() (at the end) gives the state to the simulator, the library, the tests..
 */
export class ImageStore extends BlockImageStore {
    /**
     * A rebuild: the agent writes the image itself (writeImage), from `from` (0, or resumePoint()),
     * and saves the journal on multiples of the returned interval (whole sectors).
     */
    openImage(from: number): number {
        requireReceiving(this)
        if (from !== 0 && from !== this.resumePoint()) throw new StoreError("bad-argument", "not the resume point")
        this.writer = null
        this.rebuilding = true
        return this.every
    }

    /**
     * Image bytes of a rebuild at `offset`, in order, up to the slot's end (writeSlot's rules: a
     * sector erased when a write reaches its start, never written twice); a write that is not
     * whole program units is padded with 0xFF, so it must be the image's last.
     */
    async writeImage(offset: number, data: Buffer, len: number): Promise<void> {
        const t = requireReceiving(this)
        const unit = this.flash.geometry.programUnit
        const n = Math.ceil(len / unit) * unit
        let b = data
        if (n !== data.length) {
            b = Buffer.alloc(n)
            for (let i = 0; i < n; i++) b[i] = i < len ? data[i] : 0xff
        }
        await writeSlot(this.flash, this.budget, this.blankFrom, this.layout.slotAddress[t], this.layout.slotSize, offset, b, this)
    }
}

/** A copy of the state in force (the simulator's views, tests): a function, not a method, so no firmware image carries it. */
export function storeState(store: ImageStore): StoreState {
    mounted(store)
    return cloneState(store.st)
}
