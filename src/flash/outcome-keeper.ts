// The OUTCOME record of one store (store-records.ts, type 3): how the last upgrade attempt of the
// store's component ended, in the agent's bytes (src/sota/outcome.ts), and whether the platform
// has it. Plugged into a store as StoreOptions.outcomes, so that a program that keeps no outcomes
// compiles none of this. It is not part of the state: the boot decision and the C boot stage skip
// the type. A wrap erases the sector the log moves onto, so the record is written again after the
// STATE that opens a sector (a cut between the two leaves the older copy in the other sector,
// which the next wrap only erases after a commit has copied it: every commit checks).

import { FlashError } from "./flash"
import { LogRecord, MetaLog } from "./meta-log"
import { RecordKeeper, StoreError } from "./store-port"
import { encodeOutcomeRecord, encodeState, MAX_OUTCOME, REC_OUTCOME, REC_STATE, StoreState } from "./store-records"

export class OutcomeKeeper implements RecordKeeper {
    private log: MetaLog = null
    private st: StoreState = null
    /** The record's body (null: none) and the log sector holding its newest copy. */
    private body: Buffer = null
    private sector = -1

    mounted(log: MetaLog, rec: LogRecord, st: StoreState) {
        this.log = log
        this.st = st
        const ok = rec && rec.body.length > 1 && rec.body.length <= 1 + MAX_OUTCOME && rec.body[0] <= 1
        this.body = ok ? rec.body : null
        this.sector = ok ? rec.sector : -1
    }

    async committed(st: StoreState) {
        this.st = st
        if (!this.body || this.sector === this.log.currentSector) return
        try {
            await this.put(this.body)
        } catch (e) {
            // a flash fault here is not the state's: the older copy stands, the next commit tries again
            if (!(e instanceof FlashError)) throw e
        }
    }

    last(): Buffer {
        if (!this.log) throw new StoreError("bad-state", "mount() first")
        return this.body ? this.body.slice(1) : null
    }

    told(): boolean {
        return !!this.body && this.body[0] === 1
    }

    async keep(outcome: Buffer, told: boolean) {
        if (!this.log) throw new StoreError("bad-state", "mount() first")
        if (outcome.length < 1 || outcome.length > MAX_OUTCOME) throw new StoreError("bad-argument", `an outcome of ${outcome.length} bytes`)
        await this.put(encodeOutcomeRecord(outcome, told))
    }

    /** One OUTCOME record; a sector too full for it is opened with a STATE snapshot first. */
    private async put(body: Buffer) {
        if (!this.log.fits(body.length)) await this.log.append(REC_STATE, encodeState(this.st), true)
        await this.log.append(REC_OUTCOME, body, false)
        this.body = body
        this.sector = this.log.currentSector
    }
}
