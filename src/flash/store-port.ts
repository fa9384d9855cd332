// The store port: what an upgrade agent (src/sota) may ask of the image store, and the one typed
// error it throws. The agent hands whole blocks with their offsets; program units, sector
// checkpoints, the slot the bytes go to and the downgrade rule (set once, when the store is
// made) all live behind this port. ImageStore (image-store.ts) implements it. This file imports
// nothing, so the agent can depend on it alone (the shape of AWS IoT OTA's platform interface).

/** The longest version string the store records, in bytes (store-records.ts's MAX_VERSION): an agent refuses a longer one before anything is written. */
export const MAX_VERSION_LENGTH = 32

export type StoreReason =
    | "no-image" // nothing bootable: no confirmed or trial slot
    | "bad-layout" // slots and metadata overlap, are unaligned or do not fit the device
    | "bad-state" // the operation does not apply to the slot's state (e.g. activate a receiving slot)
    | "trial-pending" // the running image is on trial: confirm or reject it before a new download
    | "reboot-required" // the running image was rejected or rolled back; boot again first
    | "downgrade" // the new version is lower than the running one and downgrades were not allowed
    | "too-large" // the image does not fit a slot, or a write goes past the announced size
    | "unaligned" // a write offset or length is not on the program unit (only the last write may be short)
    | "not-blank" // resuming mid-sector, but the flash after the offset is not erased
    | "digest-mismatch" // the received bytes do not match the plan's CRC-32
    | "flash-mismatch" // the slot's bytes differ from the bytes received (markReady's expected CRC)
    | "bad-argument" // a malformed version, digest or journal field

/**
 * Why a slot is bad, kept with it (the last outcome the next boot and the application read, until
 * the slot is reused). Whoever marks a slot bad says why: the boot decision, a boot stage's image
 * check, the firmware's own self-test or version check, the download's checks.
 */
export const enum BadWhy {
    None = 0,
    NotConfirmed = 1, // a trial used its boots without a confirm (a crash, a hang, a reset loop)
    SelfTest = 2, // the trial image ran and failed its self-test
    ImageCheck = 3, // the boot stage's check of the image (magic, sizes, SHA-256 TLV, program format)
    Crc = 4, // the slot's bytes changed since they were verified
    Download = 5, // the download failed its checks
    VersionMismatch = 6, // the program that ran is not the version the store recorded for it
}

/**
 * Every failure behind the port is a StoreError; a failure of the flash itself is its subclass
 * FlashError (flash.ts), whose `reason` is the flash's (worn-out, timeout, link, ...).
 */
export class StoreError extends Error {
    reason: string
    /** `raw`: `message` is the whole text (a subclass words its own). */
    constructor(reason: StoreReason, message: string, raw?: boolean) {
        super(raw ? message : `image store: ${reason}: ${message}`)
        this.name = "StoreError"
        this.reason = reason
    }
}

/**
 * A record the store keeps beside its state for someone else (outcome-keeper.ts): the store hands
 * it the log at mount and tells it after every STATE it commits (it must follow a STATE that
 * opened a sector before the next wrap erases the sector its own copy is in).
 */
export interface RecordKeeper extends OutcomeStore {
    /** After the store's mount: its log, the newest record of the keeper's type (or undefined), the state in force. */
    mounted(log: any, rec: any, state: any): void
    /** After the store's every STATE record (its new state in force). */
    committed(state: any): Promise<void>
}

/** The digests of a download: fed exactly the bytes programmed, saved at every checkpoint. */
export interface BlockHasher {
    update(data: Buffer, start: number, end: number): Promise<void>
    /** The midstate at the bytes fed so far (≤ 200 bytes). */
    save(): Buffer
}

/** What is about to be received: the plan of a firmware update. */
export interface ImagePlan {
    version: string
    size: number
    /** Expected digests in hex: journaled, so that a resume can tell the package is the same. */
    sha256?: string
    md5?: string
    /** Expected CRC-32, checked by markReady itself when given. */
    crc32?: number
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
    /**
     * The metadata could not take this boot's record (a FlashError: a worn-out sector, a dead
     * chip): nothing was recorded, no trial boot was spent, and the confirmed image runs (the
     * state's own choice only when no intact confirmed image is left); null when the record was
     * written or none was needed. Later writes (a download, a confirm) will likely fail too.
     */
    metaFault?: StoreError
    /** A failure not yet reported (BadWhy of the bad slot; 0: none): the engine reports it, then calls reported(). */
    why: number
    /** The version of that failed image ("" when why is 0). */
    failedVersion: string
}

/** A boot stage's check of a slot's image: 0 when it may run, else the BadWhy that makes it bad. */
export type SlotCheck = (slot: number, size: number) => Promise<number>

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

export interface UpgradeStore {
    readonly slotSize: number
    /** Versions lower than the running one are accepted (set once, when the store is made). */
    readonly allowDowngrade: boolean
    /** Read the metadata (once per start-up, before boot). */
    mount(): Promise<void>
    /** Decide which slot runs (trial accounting, rollback), or learn what a boot stage decided. */
    boot(): Promise<BootResult>
    /**
     * The running trial image proved itself. False when it was confirmed already. `securityCounter`:
     * its image's SEC_CNT, which raises the store's counter in the same record (never before).
     */
    confirm(securityCounter?: number): Promise<boolean>
    /** The security counter: the highest of a confirmed image (0 at first); an image below it is refused. */
    securityCounter(): number
    /** The running trial image failed (`why`, default SelfTest): back to the confirmed one (reboot next). */
    reject(why?: number): Promise<void>
    /** The failure boot() returned has been reported to the platform: it stays recorded, no longer news. */
    reported(): Promise<void>
    journal(): DownloadJournal
    /** A receive was started and not activated (receiving, or verified and ready): its plan may still be open. */
    interrupted(): boolean
    /** A new receive into the slot that is not running (the downgrade rule applies). */
    startReceive(plan: ImagePlan): Promise<number>
    /** Where the journal lets a receive of the same package resume: a checkpoint, or 0. */
    resumePoint(): number
    /** Take blocks from `from` (0, or resumePoint()), feeding `hasher` exactly the bytes programmed. */
    openBlocks(from: number, hasher: BlockHasher): void
    /** The largest block size ≤ `max` that never needs the store to copy (whole program units). */
    blockSize(max: number): number
    /** The offset the next block must start at. */
    nextOffset(): number
    /** A block at `offset` (= nextOffset()); true when it completed a checkpoint (the journal was saved). */
    putBlock(offset: number, block: Buffer, len: number): Promise<boolean>
    /**
     * A receive that rebuilds the image from its package (a delta or a compressed image) instead of
     * taking blocks: the agent writes the image with writeImage from `from` (0, or resumePoint())
     * and saves the journal itself (saveJournal, its own midstate) on multiples of the returned
     * checkpoint interval. The plan's size stays the package's; the image's size is markReady's.
     * Optional: only a store that takes rebuilt images has it (ImageStore, not BlockImageStore).
     */
    openImage?(from: number): number
    /** Image bytes data[0..len) at `offset` of the receiving slot, in order; every write whole program units but the image's last. Optional, with openImage. */
    writeImage?(offset: number, data: Buffer, len: number): Promise<void>
    /** Bytes of the running slot (`receiving` false: a delta's base) or of the receiving slot (what was written). */
    readImage(receiving: boolean, offset: number, len: number): Promise<Buffer>
    /** The size of the running slot's image (a delta's base). */
    runningSize(): number
    /** The journal of a rebuild: image bytes before `written` are on flash, `midstate` (≤ 200 bytes) is the agent's. */
    saveJournal(written: number, verified: number, midstate: Buffer): Promise<void>
    /**
     * All bytes are in: ready only if the slot's CRC-32 equals `expectedCrc` (the bytes received;
     * omitted by an agent that checked the slot itself), else bad. `size`: the image's size when
     * it is not the plan's (a rebuilt image), recorded from here on.
     */
    markReady(expectedCrc?: number, size?: number): Promise<void>
    /**
     * The download failed its checks: the receiving slot becomes bad (and the journal goes). With
     * `why` (BadWhy): the ready slot's verified image was refused by its application; failedTrial() then names it.
     */
    markBad(why?: number): Promise<void>
    /** The ready slot boots next: on trial, or confirmed with `permanent` (which raises the counter to `securityCounter`). */
    activate(permanent?: boolean, securityCounter?: number): Promise<number>
    /**
     * The package (version and size) whose image failed its self-test here (reject()) while it
     * still lies in the slot that is not running, else null (failed-trial.ts): an agent refuses
     * the same package until a different one is offered. After boot().
     */
    failedTrial(): ImagePlan
    /** The store's last-outcome record when it keeps one (StoreOptions.outcomes, outcome-keeper.ts), else null. */
    readonly outcomes: OutcomeStore
}

/**
 * The last attempt's outcome, one per store (the OUTCOME metadata record): the agent's bytes,
 * opaque to the store; it survives rollbacks and reboots.
 */
export interface OutcomeStore {
    /** The outcome's bytes (null: none). After the store's mount(). */
    last(): Buffer
    /** It has reached the platform. */
    told(): boolean
    /** Record how an attempt ended (it replaces the last), or that it reached the platform. */
    keep(outcome: Buffer, told: boolean): Promise<void>
}
