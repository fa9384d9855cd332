// Components besides the program (issue 20), plugged into SotaConfig.components: data or
// configuration, each in an ImageStore of its own on the same flash (its own slots and metadata
// sectors, so it inherits the journal, resume, digests and power-cut safety of the program's).
// At start-up each is mounted, booted and reported (AT+QIOTMCUVER="<name>","<version>"); a plan
// names one by its component; after its 10704 the ready data is checked by the application,
// activated confirmed at once (no trial, no reboot: only the program reboots) and its version
// reported, which makes the module push the plan's next component.

import { BadWhy, StoreError } from "../flash/store-port"
import { reportMcuVersion } from "../qiot/commands"
import { OTA_DONE, OTA_FAILED, QiotEvent } from "../qiot/events"
import { orDefault } from "./config"
import { SotaDeps } from "./deps"
import { ComponentSet, DataComponent } from "./plan-ports"
import { SotaError, storeFailure } from "./reasons"

function isVerdict(e: QiotEvent) {
    return e.type === 7 && (e.code === OTA_DONE || e.code === OTA_FAILED)
}

export class Components implements ComponentSet {
    list: DataComponent[]
    /** Each component's running version ("" before its first image) and slot (-1: none). */
    versions: string[] = []
    slots: number[] = []

    constructor(list: DataComponent[]) {
        this.list = list
    }

    /** The data component a plan names, or null. */
    named(name: string): DataComponent {
        for (let i = 0; i < this.list.length; i++) if (this.list[i].name === name) return this.list[i]
        return null
    }

    versionOf(name: string): string {
        for (let i = 0; i < this.list.length; i++) if (this.list[i].name === name) return this.versions[i]
        return ""
    }

    interrupted(started: boolean): boolean {
        for (let i = 0; i < this.list.length; i++) {
            const s = this.list[i].store
            const j = s.journal()
            if (s.interrupted() && !(started && j && j.md5 === "")) return true
        }
        return false
    }

    /** Mount and boot every component's store (a data store that never had an image runs none), and report each version. */
    async bootAll(d: SotaDeps) {
        for (let i = 0; i < this.list.length; i++) {
            await this.boot(i)
            if (this.versions[i]) await reportMcuVersion(d.at, this.list[i].name, this.versions[i])
        }
    }

    private async boot(i: number) {
        const s = this.list[i].store
        await s.mount()
        try {
            const b = await s.boot()
            this.versions[i] = b.version
            this.slots[i] = b.slot
        } catch (err) {
            if (!(err instanceof StoreError) || err.reason !== "no-image") throw err
            this.versions[i] = ""
            this.slots[i] = -1
        }
    }

    /**
     * After the component's 10704: the application's check of the ready slot, activation (confirmed,
     * at once), the version report, and the platform's verdict (10705; a 10706 fails the attempt).
     */
    async apply(d: SotaDeps, c: DataComponent, target: string) {
        let i = 0
        while (this.list[i] !== c) i++
        const ready = this.slots[i] < 0 ? 0 : 1 - this.slots[i]
        if (c.check && !(await c.check(ready))) {
            // remembered (failedTrial: the same package is refused, failed-before), and past 10704 the
            // platform awaits a version: the old one tells it the update failed (10706)
            try {
                await c.store.markBad(BadWhy.SelfTest)
            } catch (err) {
                throw storeFailure(err)
            }
            await this.verdict(d, c.name, this.versions[i])
            throw new SotaError("self-test-failed", `the application refused ${c.name} ${target}`)
        }
        try {
            await c.store.activate(true)
            // the store learns the slot that now runs (the old one must never be received into again)
            await this.boot(i)
        } catch (err) {
            throw storeFailure(err)
        }
        d.progress("confirmed", target, 0, 0)
        if (!(await this.verdict(d, c.name, target))) throw new SotaError("platform-failed", `the platform failed ${c.name} ${target} (10706)`)
    }

    /** Report `version` and await the platform's verdict: false on 10706 (none within the timeout: true). */
    private async verdict(d: SotaDeps, name: string, version: string): Promise<boolean> {
        d.inbox.discard(isVerdict)
        await reportMcuVersion(d.at, name, version)
        const e = await d.inbox.next(isVerdict, orDefault(d.cfg.resultTimeoutMs, 10000))
        return !(e && e.code === OTA_FAILED)
    }
}
