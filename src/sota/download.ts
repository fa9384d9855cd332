// One accepted plan, from AT+QIOTUPDATE=1 to the store's activation: an explicit state machine
// driven by the module's events (quecthing-at.md §4, §11). Whatever the module (re)sends —
// 10700 after it restarted, 10701, each piece's 10703 — is answered from what the store's
// journal says is already held, so a module reboot, a lost plan or an MCU power cut all resume
// the same way: at the last checkpoint, whose digest midstate covers every byte before it.
//
// States and handlers (a method per event that needs one, a branch of run() for the 10700 and the
// 10704; a chain of tests, not a table of closures: see the heap facts in docs/ARCHITECTURE.md; a
// handler with one caller is written where it is called, since a method costs 29 B of bytecode):
//
//   state          event                       action                               next
//   AwaitStart     10701 (matches the plan)    resume or start receive; block size  AwaitPiece
//   AwaitPiece     10703 (not the last)        read the piece; AT+QIOTUPDATE=2      AwaitPiece
//   AwaitPiece     10703 (the last)            read; verify; AT+QIOTUPDATE=3        AwaitInstall
//   AwaitInstall   10704                       store.activate()                     (done)
//   any            10700 (the same plan)       AT+QIOTUPDATE=1                      AwaitStart
//   any            10706                       fail "platform-failed"
//   any            RDY / lost session          recover the module                   (same)
//   any            silence                     repeat the last action, then ask     (same)
//                                              for the plan again; fail "timeout"
//   AwaitPiece     every 3 s without a 10703   a one-byte read where the piece      AwaitPiece
//                  (the piece timeout, then    starts (after =2 our offset, after
//                  repeat =2 / ask)            =1 offset 0: =? says 0 with or
//                                              without a piece): ERROR, still
//                                              fetching; data, its 10703 was lost:
//                                              after =2 read the piece, after =1
//                                              take the plan again (length unknown)
//   AwaitStart     10703, or ERROR to the      the 10701 was lost: end the attempt  AwaitStart
//                  repeated =1, or silence     (=0), ask for the plan again (a
//                  after it                    10700 is due within the offer timeout)
//   any            RDY / lost session with a   fail "platform-failed" (recovery
//                  10706 queued                would drop it)
//   AwaitInstall   silence after the repeat    10704 presumed lost: activate        (done)
// "Silence" is a deadline set by what should produce the awaited event (an action, a repeat, a
// recovery, a 10701), so events that change nothing (10702 repeated forever) cannot postpone it.
//
// The package: a plan with a source version is a delta (a patch from the running image, whose
// base the engine checked before accepting it); a plan without one is an image, or a compressed
// image when its first byte is a heatshrink patch header (decided at the first block of a new
// receive). A delta or compressed package goes to a Rebuild (rebuild.ts) instead of the store's
// blocks; offsets on the wire, the digests, progress and resume points of the download are the
// package's in every case.

import * as ds from "@devicescript/core"
import { AtError } from "../at/errors"
import { StoreError } from "../flash/store-port"
import { StepBudget } from "../lib/step-budget"
import { maxBlock, planAction, readBlock, requestPlan, tryPlanAction } from "../qiot/commands"
import {
    EVT_MODULE_RESTART,
    EVT_OTA,
    isPlanFailed,
    OTA_FAILED,
    OTA_OFFER,
    OTA_PIECE,
    OTA_START,
    OTA_UPDATING,
    OtaAction,
    OtaOffer,
    OtaPiece,
    OtaStart,
    parseOffer,
    parsePiece,
    parseStart,
    QiotEvent,
} from "../qiot/events"
import { DigestSet } from "../verify/digest-set"
import { orDefault, requestSha } from "./config"
import { SotaDeps } from "./deps"
import { BlockTarget, PieceReader } from "./piece-reader"
import { SotaError, SotaReason, storeFailure } from "./reasons"
import { PackageKind, Rebuild, REBUILD_TAG } from "./rebuilder"

const enum Stage {
    AwaitStart,
    AwaitPiece,
    AwaitInstall,
}

function isOta(e: QiotEvent) {
    return e.type === EVT_OTA || e.type === EVT_MODULE_RESTART
}

export class Download {
    // the fields are internal (read by the module functions below, which cost less bytecode than methods)
    d: SotaDeps
    reader: PieceReader
    offer: OtaOffer
    stage = Stage.AwaitStart
    /** What should have produced the awaited event: repeated once when the module goes quiet. */
    lastAction = OtaAction.Accept
    stalls = 0
    /** When the awaited event is overdue: set by what should produce it, not moved by events that change nothing (a 10702 repeated forever). */
    deadline: number // set by run()'s first act(), before it is read
    // unset (undefined) until the 10701: no initialiser (each costs ~6 B of constructor bytecode)
    start: OtaStart
    digests: DigestSet
    /** The length of the last piece that was not the last one: the module's buffer (pieces are consecutive). */
    pieceLen: number // set before the "next piece" that makes stalled() read it
    /** The package's rebuild (a delta, a compressed image, or a new receive whose first byte will tell); unset or null: the store takes the blocks. */
    rebuild: Rebuild

    /** A data component (components.ts): written as it comes, activated by the engine after the application's check. */
    data: boolean
    /** The engine activates (a data component, or a program whose activation may wait): not run() at the 10704. */
    hold: boolean

    /** `mode`: 0 the program, activated at its 10704; 1 the program, activated by the engine; 2 a data component. */
    constructor(d: SotaDeps, reader: PieceReader, offer: OtaOffer, mode: number) {
        this.d = d
        this.reader = reader
        this.offer = offer
        this.data = mode === 2
        this.hold = mode !== 0
    }

    /** Accept the plan (the store has its write-ahead record) and run it to activation. */
    async run(): Promise<void> {
        await act(this, OtaAction.Accept)
        while (true) {
            // at least every 3 s: a piece is probed for while it is awaited
            const e = await this.d.inbox.next(isOta, Math.max(1, Math.min(3000, this.deadline - ds.millis())))
            if (!e) {
                if (await stalled(this)) break
            } else if (e.type === EVT_MODULE_RESTART) await recoverModule(this)
            else if (e.code === OTA_FAILED) throw new SotaError("platform-failed", "the platform failed the plan (10706)")
            else if (e.code === OTA_OFFER) {
                // 10700 again (after a module restart or our own request): the same plan goes on
                // (handled here, not in a method of its own: one caller; a method costs ~27 B more)
                const again = parseOffer(e)
                if (again && again.target === this.offer.target && again.size === this.offer.size) {
                    this.stage = Stage.AwaitStart
                    await act(this, OtaAction.Accept)
                }
            } else if (e.code === OTA_START) await started(this, e)
            else if (e.code === OTA_PIECE && !this.start) await restart(this)
            else if (e.code === OTA_PIECE && this.stage !== Stage.AwaitInstall) await pieceReady(this, parsePiece(e))
            else if (e.code === OTA_UPDATING && this.stage === Stage.AwaitInstall) break
        }
        // AwaitInstall's 10704 (or a lost one presumed, stalled()): the verified slot boots next, on trial
        const total = this.start.length
        this.d.progress("activating", this.offer.target, total, total)
        if (this.hold) return
        try {
            await this.d.store.activate()
        } catch (err) {
            throw storeFailure(err)
        }
    }
}

async function act(dl: Download, action: OtaAction) {
    await planAction(dl.d.at, action, orDefault(dl.d.cfg.blockRetries, 3))
    dl.lastAction = action
    rearm(dl)
}

/** The awaited event is due within the stage's timeout from now. */
function rearm(dl: Download) {
    const cfg = dl.d.cfg
    dl.deadline = ds.millis() + (dl.stage === Stage.AwaitPiece ? orDefault(cfg.pieceTimeoutMs, 120000) : orDefault(cfg.eventTimeoutMs, 20000))
}

/**
 * Silence: repeat what should have produced the event, then ask for the plan again; the
 * journal makes any repeat cheap. True when a lost 10704 is presumed: the image is verified
 * and the module took "all read", so the install goes ahead rather than stranding the image
 * (the version report after the reboot tells the platform).
 */
async function stalled(dl: Download): Promise<boolean> {
    const d = dl.d
    if (dl.stage === Stage.AwaitPiece) {
        // the module may hold the piece and its 10703 was lost (a cloud fetch takes long: ask
        // every few seconds). After "next piece" a repeated =2 would move it past that piece.
        const next = (dl.rebuild || d.store).nextOffset()
        const after = dl.lastAction === OtaAction.NextPiece
        // whether the module holds the byte there: a one-byte read answers with data, not ERROR (no piece there yet)
        let holds = true
        try {
            await readBlock(d.at, after ? next : 0, 1, dl.reader.opts)
        } catch (err) {
            if (!(err instanceof AtError)) throw err
            holds = false
        }
        if (holds) {
            if (!after) return await restart(dl)
            const total = dl.start.length
            await pieceReady(dl, { total, start: next, length: Math.min(dl.pieceLen, total - next) } as OtaPiece)
            return false
        }
    }
    if (ds.millis() < dl.deadline) return false
    dl.stalls++
    if (dl.stage === Stage.AwaitInstall && dl.stalls > 1) return true
    if (dl.stalls > orDefault(d.cfg.stallRetries, 3)) {
        const awaited = dl.stage === Stage.AwaitStart ? OTA_START : dl.stage === Stage.AwaitPiece ? OTA_PIECE : OTA_UPDATING
        throw new SotaError("timeout", `no event ${awaited}`)
    }
    // still no 10701 after the accept was repeated: the module is past the offer and its 10701 lost
    if (dl.stalls > 1) return dl.stage === Stage.AwaitStart ? await restart(dl) : await ask(dl)
    // an accept the module refuses: it is past the offer, and the 10701 was lost
    if (!(await tryPlanAction(d.at, dl.lastAction)) && dl.stage === Stage.AwaitStart) return await restart(dl)
    rearm(dl)
    return false
}

/**
 * The module is downloading but its 10701 (the digests) or its first 10703 (the piece's length)
 * was lost: only a new start sends it again, so end this attempt (its 10706 ends the attempt, not the plan) and ask for the plan;
 * the journal keeps what is already held.
 */
async function restart(dl: Download): Promise<boolean> {
    if (++dl.stalls > orDefault(dl.d.cfg.stallRetries, 3)) throw new SotaError("timeout", "no event 10701")
    await dl.d.endPlan()
    dl.stage = Stage.AwaitStart
    return await ask(dl)
}

/** AT+QIOTOTAREQ: a 10700 is due within the offer timeout (the same plan goes on from it). */
async function ask(dl: Download): Promise<boolean> {
    await requestPlan(dl.d.at, requestSha(dl.d.cfg))
    dl.deadline = ds.millis() + orDefault(dl.d.cfg.offerTimeoutMs, 10000)
    return false
}

/** The module restarted or the line dropped: bring it back, then it re-sends what it holds. */
async function recoverModule(dl: Download) {
    // the registration drops queued events: a 10706 already here is the reason, not the failed read
    if (dl.d.inbox.has(isPlanFailed)) throw new SotaError("platform-failed", "the platform failed the plan (10706)")
    dl.d.stats.moduleRestarts++
    dl.d.progress("recovering", "", 0, 0)
    const why = await dl.d.reconnect()
    if (why) throw new SotaError("connection-lost", why)
    rearm(dl)
}

/** 10701: a new receive, or the resumption of the one the journal describes. */
async function started(dl: Download, e: QiotEvent) {
    const start = parseStart(e)
    if (!start || start.component !== dl.offer.component || start.length !== dl.offer.size)
        throw new SotaError("bad-plan", "10701 does not match the plan")
    if (start.length > dl.d.store.slotSize) throw new SotaError("too-large", `${start.length} bytes`)
    // asked for, it is required: an image must not activate on MD5 alone because a module left it out
    if (requestSha(dl.d.cfg) && start.sha256 === "") throw new SotaError("bad-plan", "SHA-256 asked for (AT+QIOTOTAREQ=1), not in 10701")
    // a repeated 10701 (the module re-sends it after a restart) goes on from where the reader is;
    // otherwise open the receive (inlined: one caller)
    if (!dl.start || dl.start.md5 !== start.md5 || dl.start.length !== start.length) {
        dl.start = start
        const cfg = dl.d.cfg
        const opts = { sha256: start.sha256.length > 0, crc32: true, budget: new StepBudget(64, cfg.yielder) }
        const store = dl.d.store
        let digests: DigestSet = null
        let kind = PackageKind.Full
        let from = 0
        dl.rebuild = null
        // data is written as it comes: no delta or compressed package, no program signature
        const rb = dl.data ? null : cfg.rebuilder
        try {
            const j = store.journal()
            // "" md5 when only the write-ahead record exists: nothing to resume
            if (j && j.version === dl.offer.target && j.total === start.length && j.md5 === start.md5 && j.sha256 === (start.sha256 || j.sha256)) {
                from = store.resumePoint()
                const m = j.midstate
                // a rebuild resumes from its applier's state with the digests saved beside it
                // (rebuild.ts); a journal without them (an older firmware's) starts over
                if (from > 0 && m[0] === REBUILD_TAG) {
                    kind = m[1] === PackageKind.Delta ? PackageKind.Delta : PackageKind.Compressed
                    if (rb) digests = DigestSet.restore(m.slice(2, 63), opts)
                } else if (from > 0) {
                    digests = DigestSet.restore(j.midstate, opts)
                    if (digests && digests.md5.length === from) store.openBlocks(from, digests)
                    else digests = null
                }
            }
            if (!digests) {
                await store.startReceive({ version: dl.offer.target, size: start.length, md5: start.md5, sha256: start.sha256 || undefined })
                digests = new DigestSet(opts)
                from = 0
                // a package without a source is told by its first byte (rebuilder.ts)
                kind = dl.offer.source.length > 0 ? PackageKind.Delta : PackageKind.Full
                if (!rb) store.openBlocks(0, digests)
            }
            if (rb && (kind !== PackageKind.Full || from === 0))
                dl.rebuild = rb.open(store, kind, digests, from, cfg.yielder, dl.d.stats)
        } catch (err) {
            throw storeFailure(err)
        }
        dl.digests = digests
        // the package offset the download goes on from (the rebuild's, or the store's blocks')
        const next = (dl.rebuild || store).nextOffset()
        dl.d.stats.resumedAt = next
        dl.d.stats.packageKind = kind
        // the module's largest block (AT+QIOTOTARD=?): a module that cannot say gets the default, not a failed plan
        let max = -1
        try {
            max = await maxBlock(dl.d.at)
        } catch (err) {
            if (!(err instanceof AtError)) throw err
        }
        dl.reader.fit(max, dl.offer.target, start.length)
        dl.d.progress("downloading", dl.offer.target, next, start.length)
    }
    dl.stage = Stage.AwaitPiece
    rearm(dl)
}

/** 10703: read the piece; then the next one, or verify and tell the module it is all read. */
async function pieceReady(dl: Download, piece: OtaPiece) {
    if (!piece || piece.total !== dl.start.length) throw new SotaError("bad-plan", "malformed 10703")
    dl.stalls = 0
    dl.stage = Stage.AwaitPiece
    if (!(await dl.reader.read(piece, dl.rebuild || dl.d.store))) {
        await recoverModule(dl)
        return
    }
    if (piece.start + piece.length < piece.total) {
        dl.pieceLen = piece.length
        await act(dl, OtaAction.NextPiece)
        return
    }
    // all bytes are in: compare the digests with the plan's; a rebuilt image must be whole and
    // pass its own checks (SHA-256 TLV, the plan's version); then the store checks the slot
    // (inlined: one caller)
    const s = dl.start
    const d = dl.d
    d.progress("verifying", dl.offer.target, s.length, s.length)
    const v = dl.digests.finish()
    let reason: SotaReason = null
    let detail = `verification of ${s.length} bytes`
    if (v.length !== s.length) reason = "bad-plan"
    else if (v.md5 !== s.md5) reason = "md5-mismatch"
    else if (s.sha256 && v.sha256 !== s.sha256) reason = "sha256-mismatch"
    else if (d.cfg.checkCrc && s.crc >= 0 && v.crc32 !== s.crc) reason = "crc-mismatch"
    let size = -1
    try {
        if (!reason && dl.rebuild) size = await dl.rebuild.finish()
        // the signature and the security counter, before the slot can be marked ready
        if (!reason && !dl.data && d.cfg.signatures) await d.cfg.signatures.check(d.store, size >= 0 ? size : s.length, d.cfg.yielder)
    } catch (err) {
        if (!(err instanceof SotaError)) throw err
        detail = err.message
        reason = err.reason
    }
    try {
        // a mismatch leaves nothing bootable behind: the slot is marked bad either way
        if (reason) await d.store.markBad()
        else if (size >= 0) await d.store.markReady(undefined, size)
        else await d.store.markReady(v.crc32)
    } catch (err) {
        if (!(err instanceof StoreError)) throw err
        if (!reason) reason = err.reason === "flash-mismatch" ? "flash-mismatch" : "flash-error"
    }
    if (reason) throw new SotaError(reason, detail)
    dl.stage = Stage.AwaitInstall
    await act(dl, OtaAction.Installing)
}
