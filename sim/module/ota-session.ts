// One SOTA plan on the module side: offer → confirm → pieces → updating → result.
// A pure state machine: it decides what is allowed and formats the +QIOTEVT lines; timing,
// the cloud and the wire are the OTA controller's business (ota-controller.ts).
//
// The reference documents the events but not every corner of a multi-piece download. The
// decisions taken here (each a real module could take differently; the configurable ones are
// options of the module):
// - 10700 is sent once per offer (again only if the offer is re-sent: AT+QIOTOTAREQ while the
//   plan is still unanswered, or after a reboot).
// - 10701 and 10702 are sent once per plan, after AT+QIOTUPDATE=1. Every piece, the first
//   included, gets its own 10703 "<comp>",<total>,<start>,<piece_length>. With option
//   `repeat10702` a 10702 also precedes each later piece's 10703.
// - Pieces are consecutive: piece i covers [i*P, min(total, (i+1)*P)) for buffer size P.
// - AT+QIOTOTARD=<start>,<len>: <start> is absolute in the package and must lie inside the
//   piece held in RAM; 1 <= len <= the largest block (AT+QIOTOTARD=? reports it). The reply
//   holds min(len, piece end - start) bytes: a short read at the end of a piece and at the end
//   of the package. A start outside the piece, a piece not yet arrived, or no plan: ERROR.
// - AT+QIOTUPDATE=2 needs a piece in RAM that is not the last one; the MCU need not have read
//   all of it (option `requireFullRead` makes that an ERROR). The old piece is dropped at once.
// - AT+QIOTUPDATE=3 needs the last piece to have arrived; then 10704.
// - After 10704, AT+QIOTMCUVER for the plan's component reporting the target version gives
//   `+QIND: "FOTA","END",0` then 10705 (as the walk-through prints it); any other version
//   gives 10706. Before 10704 a version report raises no OTA event.
// - AT+QIOTUPDATE=0 before the download refuses the plan (no event, logged as refused); during
//   the download it aborts it: 10706, counted by the platform as a failure.
// - A module reboot keeps the plan (it is in the module's flash) and loses the piece (RAM).
//   After re-registration an unanswered offer is re-sent (10700) and a download re-fetches
//   the current piece (10702, then its 10703); an update waits for the version report.

import { Offer } from "./dev-center"

export type OtaState =
    | "offered" // 10700 sent, waiting for AT+QIOTUPDATE=0/1
    | "fetching" // the module is downloading a piece from the cloud
    | "piece" // a piece is in RAM and can be read
    | "updating" // 10704 sent, waiting for the version report
    | "ended"

export interface SessionOptions {
    pieceSize: number
    maxRead: number
    withSha: boolean
    requireFullRead: boolean
}

export class OtaSession {
    readonly offer: Offer
    /** The bytes the module delivers; normally the package, unless a fault corrupted them. */
    readonly data: Buffer
    readonly opts: SessionOptions
    state: OtaState = "offered"
    pieceIndex = 0
    /** The plan survived a reboot: its piece must be fetched again before reads work. */
    needsRefetch = false
    /** The first component offered in this attempt at its plan (its answer raises 10707 in a multi-component plan). */
    first = true
    private readMask: Uint8Array = new Uint8Array(0)
    private readCount = 0
    private lastPieceRead = false

    constructor(offer: Offer, opts: SessionOptions) {
        this.offer = offer
        this.data = Buffer.from(offer.data)
        this.opts = opts
    }

    get total(): number {
        return this.data.length
    }

    get pieceCount(): number {
        return Math.ceil(this.total / this.opts.pieceSize)
    }

    pieceStart(i = this.pieceIndex): number {
        return i * this.opts.pieceSize
    }

    pieceLength(i = this.pieceIndex): number {
        return Math.min(this.total, (i + 1) * this.opts.pieceSize) - this.pieceStart(i)
    }

    isLastPiece(): boolean {
        return this.pieceIndex === this.pieceCount - 1
    }

    // ---- the event lines ----

    line10700(): string {
        const o = this.offer
        return `+QIOTEVT: 7,10700,"${o.component}","${o.sourceVersion}","${o.targetVersion}",${o.minBattery},${o.minSignal},${this.total}`
    }

    /** The announced digests are the package's, whatever bytes are later delivered. */
    line10701(): string {
        const o = this.offer
        const sha = this.opts.withSha ? `,"${o.sha256}"` : ""
        return `+QIOTEVT: 7,10701,"${o.component}",${this.total},"${o.md5}",${o.crc32}${sha}`
    }

    line10703(): string {
        return `+QIOTEVT: 7,10703,"${this.offer.component}",${this.total},${this.pieceStart()},${this.pieceLength()}`
    }

    // ---- transitions; each returns false when the command must get ERROR ----

    confirm(): boolean {
        if (this.state !== "offered") return false
        this.state = "fetching"
        this.pieceIndex = 0
        return true
    }

    /** The piece being fetched has arrived in RAM. */
    pieceArrived() {
        this.state = "piece"
        this.needsRefetch = false
        this.readMask = new Uint8Array(this.pieceLength())
        this.readCount = 0
    }

    /** A read: the bytes, or null for ERROR. */
    read(start: number, length: number): Buffer | null {
        if (this.state !== "piece" && this.state !== "updating") return null
        if (this.needsRefetch) return null
        if (!(length >= 1 && length <= this.opts.maxRead)) return null
        const ps = this.pieceStart()
        const pe = ps + this.pieceLength()
        if (!(start >= ps && start < pe)) return null
        const end = Math.min(pe, start + length)
        for (let i = start - ps; i < end - ps; i++) {
            if (this.readMask[i] === 0) {
                this.readMask[i] = 1
                this.readCount++
            }
        }
        if (this.isLastPiece() && this.readCount === this.readMask.length) this.lastPieceRead = true
        return this.data.subarray(start, end)
    }

    /** True once (the first time every byte of the last piece has been read). */
    takeDownloaded(): boolean {
        if (!this.lastPieceRead) return false
        this.lastPieceRead = false
        this.readCount = -1 // never again for this session
        return true
    }

    pieceFullyRead(): boolean {
        return this.readCount === this.readMask.length
    }

    /** AT+QIOTUPDATE=2. */
    next(): boolean {
        if (this.state !== "piece" || this.needsRefetch || this.isLastPiece()) return false
        if (this.opts.requireFullRead && !this.pieceFullyRead()) return false
        this.pieceIndex++
        this.state = "fetching"
        return true
    }

    /** AT+QIOTUPDATE=3. */
    updating(): boolean {
        if (this.state !== "piece" || !this.isLastPiece() || this.needsRefetch) return false
        this.state = "updating"
        return true
    }

    /** A version report for this plan's component while updating: success or failure. */
    versionReport(version: string): "updated" | "failed" {
        this.state = "ended"
        return version === this.offer.targetVersion ? "updated" : "failed"
    }

    /** The module lost its RAM: the piece is gone; a piece being fetched must be fetched again. */
    loseRam() {
        if (this.state === "piece" || this.state === "fetching") {
            this.state = "piece"
            this.needsRefetch = true
        }
    }

    /** Flip one byte of the delivered data (the package no longer matches its digests). */
    corrupt(offset: number) {
        const i = Math.max(0, Math.min(this.total - 1, offset))
        this.data[i] ^= 0x5a
    }
}
