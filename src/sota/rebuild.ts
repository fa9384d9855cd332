// Delta and compressed packages (rebuilder.ts is the port; this is what an integrator plugs in):
// the bytes the module delivers go to the applier (src/delta's DeltaApplier) instead of the
// store's blocks; the image it rebuilds goes to the receiving slot through the store port
// (writeImage), the old image comes from the running slot.
//
//   block reply → Rebuild.put → DeltaApplier.feed ─ digests.update → the package's digests (MD5, SHA-256 of the PATCH)
//                                                 ─ store.readImage(false) ← the running slot, ≤ 1 KB at a time
//                                                 ─ store.writeImage → the receiving slot
//                                                 ─ store.readImage(true) ← the receiving slot (a resume rebuilds the window)
//                                                 ─ onCheckpoint → store.saveJournal (sector boundaries)
//
// The journal: at every checkpoint of the applier (multiples of the store's interval, in the
// IMAGE's offsets) the store records that the image is on flash up to there, with the midstate
// [REBUILD_TAG, kind] | the digests (MD5 and SHA-256 at the last whole 64-byte block of the patch,
// the CRC-32 at the applier's offset) | the applier's whole state (≤ 137 bytes; a larger one is not
// saved and the checkpoint before it stays in force). A resume restores both and asks the module
// for the package from the digests' block boundary: the ≤ 63 bytes up to the applier's offset feed
// MD5 and SHA-256 only, then the applier goes on. So a cut redoes at most one checkpoint interval
// of flash writes and re-reads about one interval's worth of patch (and the blocks in flight). A
// module reboot loses nothing (the applier's state is in RAM): only the block in flight is read
// again. A journal of an older firmware ([REBUILD_TAG, kind] alone: it replayed the package) has
// no digests to restore: the receive starts over.
//
// Trust: before the first byte of a delta's image is written, the running image must pass its own
// checks (MCUboot header, TLV layout, SHA-256 TLV); the package's digests are compared with the 10701's (download.ts);
// the rebuilt image must be whole and pass the same checks before the slot is marked ready
// (finish). The image bytes written before a reset come from the same package (the journal names
// it by its digests) and are covered by the rebuilt image's SHA-256. Its version and the TLV
// rules are the boot stage's to check, as for any image.

import { DeltaApplier, DeltaOptions } from "../delta/sequential-apply"
import { UpgradeStore } from "../flash/store-port"
import { hashImage, readImageLayout } from "../image/check"
import { hashedLength } from "../image/header"
import { TLV_SHA256 } from "../image/tlv"
import { ImageError } from "../image/errors"
import { bytesEqual, copyBytes, putU32 } from "../lib/bytes"
import { errText } from "../lib/err-text"
import { DeltaError } from "../delta/errors"
import { DigestSet } from "../verify/digest-set"
import { SotaStats } from "./progress"
import { SotaError, SotaReason, storeFailure } from "./reasons"
import { HEATSHRINK_PATCH, PackageKind, REBUILD_TAG, Rebuild, Rebuilder } from "./rebuilder"
import { SlotReader } from "./slot-reader"

/**
 * The applier's output buffer: what it writes at a time, and the most it reads of the old image at
 * a time (a diff chunk's next piece). 1 KB: a remote flash costs a round trip per call (~20 ms in
 * the simulator's VM: 256 bytes made a 71 KB rebuild take 4× the calls), a board's SPI flash
 * little; this is the heap a rebuild holds besides the heatshrink window.
 */
const REBUILD_BUFFER = 1024

/** A failure of the applier as the agent's reason; anything else as storeFailure has it (a power cut passes as it is). */
function deltaFailure(err: any): any {
    if (!(err instanceof DeltaError)) return storeFailure(err)
    const r = err.reason
    const reason: SotaReason = r === "too-large" ? "too-large" : r === "unsupported" ? "unsupported-package" : "bad-patch"
    return new SotaError(reason, errText(err))
}

/**
 * The image in the running slot (`receiving` false) or the receiving one, of `size` bytes: its
 * header and TLV layout, and its SHA-256 TLV against the SHA-256 of header + body + protected
 * TLVs (src/image's checks but the TLV rules, which the boot stage applies before it boots any
 * image; checkImage would cost this firmware 0.9 KB more bytecode). When it fails, throws
 * SotaError(reason, "<what>: <why>"). A failure to read the flash, and a power cut, propagate as
 * they were thrown (the checker would call them read-failed).
 */
export async function checkSlotImage(
    store: UpgradeStore,
    receiving: boolean,
    size: number,
    yielder: () => Promise<void>,
    reason: SotaReason,
    what: string
) {
    const reader = new SlotReader(store, receiving, size)
    let why = "no SHA-256 TLV"
    try {
        const layout = await readImageLayout(reader, size)
        for (const t of layout.tlvs) {
            if (t.type !== TLV_SHA256 || t.length !== 32 || t.protected) continue
            const want = await reader.read(t.offset, 32)
            const got = await hashImage(reader, hashedLength(layout.header), { chunk: REBUILD_BUFFER, yielder: yielder })
            why = bytesEqual(got, want) ? "" : "its SHA-256 TLV does not match its bytes"
            break
        }
    } catch (e) {
        if (reader.failure) throw storeFailure(reader.failure)
        if (!(e instanceof ImageError)) throw e
        why = errText(e)
    }
    if (why) throw new SotaError(reason, `${what}: ${why}`)
}

/**
 * The journal's midstate field (store-records.ts MAX_MIDSTATE): a checkpoint whose state does not
 * fit is not saved, and the one before it stays in force.
 */
const MAX_JOURNAL = 200
/** DigestSet's midstate without its pending bytes (digest-set.ts: version, flags, length (6), CRC, MD5, SHA-256, pending length). */
const DIGESTS = 61

/**
 * Delta and compressed packages for SotaConfig.rebuilder. One object is the rebuilder and its
 * rebuilds: `open` starts a rebuild on it and returns it (the engine runs one download at a time;
 * a class of its own cost bytecode): the applier, the package's digests, and the applier's ports
 * onto the store (this object is its DeltaOptions).
 */
export class PackageRebuilder implements Rebuilder, Rebuild, DeltaOptions {
    oldSize: number
    maxSize: number
    checkpointEvery: number
    bufferSize: number
    yielder: () => Promise<void>
    kind: number
    digests: DigestSet
    store: UpgradeStore
    private applier: DeltaApplier
    private stats: SotaStats
    /** The applier's state to resume from at the first block (a stateful checkpoint), else null. */
    private cp: Buffer

    open(store: UpgradeStore, kind: number, digests: DigestSet, from: number, yielder: () => Promise<void>, stats: SotaStats): Rebuild {
        this.store = store
        this.stats = stats
        this.kind = kind
        this.digests = digests
        this.checkpointEvery = kind === PackageKind.Full ? 0 : store.openImage(from)
        // a resume: the checkpoint's applier state, restored at the first block
        this.cp = from > 0 ? store.journal().midstate.slice(2 + DIGESTS) : null
        this.oldSize = kind === PackageKind.Delta ? store.runningSize() : 0
        this.maxSize = store.slotSize
        this.bufferSize = REBUILD_BUFFER
        this.yielder = yielder
        this.applier = kind === PackageKind.Full ? null : new DeltaApplier(this)
        return this
    }

    /** Where the module is asked from: the digests' length (after a stateful resume, the last whole 64-byte block before the applier's patch offset). */
    nextOffset(): number {
        return this.kind === PackageKind.Full ? this.store.nextOffset() : this.digests.md5.length
    }

    async putBlock(offset: number, block: Buffer, len: number): Promise<boolean> {
        const store = this.store
        if (this.kind === PackageKind.Full) {
            // a new receive without a source: its first byte tells a compressed image from an image
            if (offset === 0 && block[0] === HEATSHRINK_PATCH) {
                this.kind = PackageKind.Compressed
                this.stats.packageKind = PackageKind.Compressed
                this.checkpointEvery = store.openImage(0)
                this.applier = new DeltaApplier(this)
            } else {
                if (offset === 0) store.openBlocks(0, this.digests)
                return await store.putBlock(offset, block, len)
            }
        }
        // (the piece reader reads from nextOffset())
        // a delta applies to the running image's bytes: before the first byte of the new image is
        // written, they must pass their own checks
        if (offset === 0 && this.kind === PackageKind.Delta) {
            await checkSlotImage(store, false, this.oldSize, this.yielder, "base-mismatch", "the running image is no base for a delta")
        }
        try {
            if (this.cp) {
                const cp = this.cp
                this.cp = null
                await this.applier.resume(cp)
            }
            // the bytes between the last whole 64-byte block and the applier's offset: MD5 and
            // SHA-256 only (the journal's CRC-32 is at the applier's offset already: onCheckpoint)
            let s = this.applier.patchOffset() - offset
            if (s < 0) s = 0
            if (s > len) s = len
            const dg = this.digests
            dg.md5.update(block, 0, s)
            if (dg.sha) dg.sha.update(block, 0, s)
            if (s < len) await this.applier.feed(block, s, len)
        } catch (err) {
            throw deltaFailure(err)
        }
        return false
    }

    async finish(): Promise<number> {
        if (this.kind === PackageKind.Full) return -1
        let size = 0
        try {
            size = await this.applier.finish()
        } catch (err) {
            throw deltaFailure(err)
        }
        await checkSlotImage(this.store, true, size, this.yielder, "bad-image", "the rebuilt image")
        return size
    }

    // ---- DeltaOptions: the applier's ports are the fields `store` (readImage, writeImage) and
    // `digests` (update) as they are, and onCheckpoint ----

    /**
     * The journal at a checkpoint: [REBUILD_TAG, kind] | the digests' midstate with MD5 and SHA-256
     * at the last whole 64-byte block of the patch (their pending bytes, up to 63, are read again
     * from the module instead of journaled: they would leave the applier's state too little room;
     * the CRC-32 field stays at the applier's offset) | the applier's state.
     */
    async onCheckpoint(cp: Buffer, at: number): Promise<void> {
        const m = this.digests.save()
        const mid = Buffer.alloc(2 + DIGESTS + cp.length)
        if (mid.length > MAX_JOURNAL) return
        mid[0] = REBUILD_TAG
        mid[1] = this.kind
        copyBytes(mid, 2, m, 0, DIGESTS)
        // the length field (6 bytes from 2, little-endian) back by the pending bytes, and none
        // pending; a patch is < 4 GB: its top 2 bytes are m's, zeros
        putU32(mid, 4, this.digests.md5.length - m[DIGESTS - 1])
        mid[2 + DIGESTS - 1] = 0
        copyBytes(mid, 2 + DIGESTS, cp, 0, cp.length)
        await this.store.saveJournal(at, at, mid)
        this.stats.checkpoints++
    }
}
