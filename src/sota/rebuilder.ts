// The port through which the download takes packages that are not the image itself: a delta (a
// detools sequential patch from the running image: the plan names a source version) or a
// compressed full image (a patch from nothing: a plan without a source whose first byte is a
// heatshrink patch header). An integrator plugs rebuild.ts's PackageRebuilder into
// SotaConfig.rebuilder; without one a delta plan is refused (unsupported-package) and every
// package is written as it comes. A port rather than an import because the applier and the image
// check are ~7 KB of bytecode that a program may not have room for (docs/ARCHITECTURE.md,
// "Delta packages"): the engine compiles none of it unless the program makes a PackageRebuilder.

import { UpgradeStore } from "../flash/store-port"
import { DigestSet } from "../verify/digest-set"
import { SotaStats } from "./progress"

/** What a package is: the image itself, a patch from the running image, a compressed image. */
export const enum PackageKind {
    Full = 0,
    Delta = 1,
    Compressed = 2,
}

/** The first byte of a detools sequential patch compressed with heatshrink: how a compressed full package is told from an image. */
export const HEATSHRINK_PATCH = 0x04

/**
 * A rebuild's journal midstate begins [REBUILD_TAG, its PackageKind] (rebuild.ts; a download's,
 * its digests', begins with 1: DigestSet's midstate version).
 */
export const REBUILD_TAG = 0xd7

/**
 * One package being rebuilt into the receiving slot: where the piece reader's blocks go
 * (piece-reader.ts BlockTarget). Opened as Full (a package without a source), it decides at the
 * package's first byte: a compressed image is rebuilt, anything else goes to the store's blocks
 * as it comes.
 */
export interface Rebuild {
    /** PackageKind: Full until the first block says otherwise. */
    kind: number
    /** The package offset the next block must start at. */
    nextOffset(): number
    /** A block of the package at `offset` (= nextOffset()); true when the store's blocks saved a checkpoint. Throws SotaError (bad-patch, too-large, ...). */
    putBlock(offset: number, block: Buffer, len: number): Promise<boolean>
    /**
     * The package ended: a rebuilt image is whole and passes its own checks: its size; -1 when
     * the package went to the store's blocks. Throws SotaError (bad-patch, bad-image).
     */
    finish(): Promise<number>
}

/** What SotaConfig.rebuilder is (rebuild.ts's PackageRebuilder). */
export interface Rebuilder {
    /**
     * A rebuild into the receiving slot (a delta checks the running image, its base, at the
     * package's first block: base-mismatch) (the store's receive is started, or resumed): from image
     * offset `from` (0 with fresh `digests`, or the store's resumePoint() with the digests restored
     * from the journal's midstate: the applier's state saved beside them is restored at the first
     * block, and the package is read from nextOffset()). It counts its checkpoints in `stats`
     * itself (putBlock returns false for them: one block may hold many).
     */
    open(store: UpgradeStore, kind: number, digests: DigestSet, from: number, yielder: () => Promise<void>, stats: SotaStats): Rebuild
}
