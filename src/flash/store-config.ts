// The image store's configuration (where it lives, how it behaves) and its argument checks, apart
// from the store's logic: versions, digests, and a layout that fits the device with nothing
// overlapping.

import { Flash } from "./flash"
import { MAX_META_SECTOR } from "./meta-log"
import { RecordKeeper, StoreError } from "./store-port"
import { MAX_VERSION } from "./store-records"
import { fromHex } from "../lib/bytes"
import { Yielder } from "../lib/step-budget"
import { compareVersions } from "../lib/version"

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
    /**
     * Boots a trial image gets before it is rolled back without a confirm. Default 2: one power cut
     * (or one unlucky reset) during a good image's first boot must not undo the upgrade; a program
     * that crashes or hangs every time still rolls back, one boot later.
     */
    maxTrialBoots?: number
    /** Check the CRC-32 of the slot about to boot, every boot, and fall back when it is wrong. Default false: then only a trial boot is checked. */
    verifyOnBoot?: boolean
    /** Bytes of CRC/scan work between yields to the scheduler (DeviceScript step budget). Default 1024. */
    yieldEvery?: number
    /** How to yield; default `ds.sleep(0)`. */
    yielder?: Yielder
    /** Accept images with a lower version than the running one. Default false. */
    allowDowngrade?: boolean
    /**
     * A boot stage (the simulator's host, a board's C stage) made this boot's decision and
     * recorded it before the program ran: boot() only learns the slot, it counts nothing.
     */
    externalBoot?: boolean
    /** Journal checkpoint interval of a block download, rounded up to whole sectors. Default 4096. */
    checkpointBytes?: number
    /** Keep the last-outcome record: `new OutcomeKeeper()` (outcome-keeper.ts). Default: none (and none of its code). */
    outcomes?: RecordKeeper
}

/** maxTrialBoots, checked: 1..255, default 2. */
export function trialBoots(o: StoreOptions): number {
    const n = o.maxTrialBoots === undefined ? 2 : o.maxTrialBoots
    if (!(n >= 1 && n <= 255)) throw new StoreError("bad-argument", `maxTrialBoots ${n}`)
    return n
}

export function checkVersion(v: string) {
    const n = Buffer.from(v || "").length
    if (n === 0 || n > MAX_VERSION) throw new StoreError("bad-argument", `version "${v}" (1..${MAX_VERSION} bytes)`)
}

export function parseDigest(hex: string, bytes: number, what: string): Buffer {
    if (!hex) return Buffer.alloc(0)
    const b = hex.length === 2 * bytes ? fromHex(hex) : null
    if (!b) throw new StoreError("bad-argument", `${what} must be ${2 * bytes} hex digits`)
    return b
}

export function checkLayout(flash: Flash, l: StoreLayout) {
    const g = flash.geometry
    const S = g.sectorSize
    if (S > MAX_META_SECTOR) throw new StoreError("bad-layout", `sectors of ${S} bytes (metadata needs ≤ ${MAX_META_SECTOR})`)
    if (!(l.metaSectors >= 2)) throw new StoreError("bad-layout", "the metadata log needs at least 2 sectors")
    if (!(l.slotSize > 0) || l.slotSize % S !== 0) throw new StoreError("bad-layout", `slot size ${l.slotSize} is not whole sectors`)
    if (!l.slotAddress || l.slotAddress.length !== 2) throw new StoreError("bad-layout", "two slots")
    const starts = [l.metaAddress, l.slotAddress[0], l.slotAddress[1]]
    const sizes = [l.metaSectors * S, l.slotSize, l.slotSize]
    for (let i = 0; i < 3; i++) {
        if (starts[i] % S !== 0 || starts[i] < 0 || starts[i] + sizes[i] > g.size)
            throw new StoreError("bad-layout", `region ${i} at ${starts[i]} is unaligned or past the device`)
        for (let j = 0; j < i; j++)
            if (starts[i] < starts[j] + sizes[j] && starts[j] < starts[i] + sizes[i]) throw new StoreError("bad-layout", `regions ${j} and ${i} overlap`)
    }
}

/** The downgrade rule, set once with the store: a lower version than the running one needs `allow`. */
export function checkDowngrade(allow: boolean, version: string, running: string) {
    if (!allow && compareVersions(version, running) < 0) throw new StoreError("downgrade", `${version} is lower than the running ${running}`)
}
