// What an integrator sets on the SOTA agent, with each default in one place (orDefault): the
// engine, the download state machine and the piece reader read the same object.

import { UpgradeLock } from "../lib/upgrade-lock"
import { Rebuilder } from "./rebuilder"
import { ImageVerifier } from "./image-verifier"
import { ComponentSet, OutcomeLog, PlanGate } from "./plan-ports"

export interface SotaConfig {
    /** The MCU component the plans name, e.g. "STM32". */
    component: string
    /**
     * The running program's own version, compiled into it: what AT+QIOTMCUVER reports. A store
     * record that says otherwise is a fault ("version-mismatch"; a trial image is rejected).
     * Default: the version the store recorded for the slot.
     */
    version?: string
    /** Ask for SHA-256 in 10701 (AT+QIOTOTAREQ=1). Default true. */
    requestSha256?: boolean
    /** Also compare the 10701 CRC field as CRC-32/ISO-HDLC (its algorithm is undocumented). Default false. */
    checkCrc?: boolean
    /** Cap on the block size; the module's AT+QIOTOTARD=? may lower it. Default 1024. */
    blockSize?: number
    /** Per AT+QIOTOTARD. Default 3000 ms. */
    readTimeoutMs?: number
    /** Retries of one block (and of an AT+QIOTUPDATE answered with ERROR) before the download fails. Default 3. */
    blockRetries?: number
    /** Waiting for registration events. Default 30 s. */
    registerTimeoutMs?: number
    /** Waiting for 10700 after a request. Default 10 s. */
    offerTimeoutMs?: number
    /** Waiting for 10701 / 10704: the module's answers to AT+QIOTUPDATE=1 / =3 after a cloud round trip. Default 20 s. */
    eventTimeoutMs?: number
    /** Waiting for a piece (10703): the module downloads it from the cloud first. Default 120 s. */
    pieceTimeoutMs?: number
    /** Waiting for the module to come back after it restarted or the line dropped. Default 30 s. */
    restartTimeoutMs?: number
    /** Waiting for 10705/10706 after reporting the version. Default 10 s. */
    resultTimeoutMs?: number
    /** How many times a stalled download asks the module again (AT+QIOTOTAREQ) before failing. Default 3. */
    stallRetries?: number
    /** Shared with the module upgrade (src/dfota): only one of the two runs at a time. Default: the global one. */
    lock?: UpgradeLock
    /**
     * Read the next block while the previous one is hashed and written (a background fiber and a
     * second 1 KB buffer). Default true; off, the download is strictly sequential.
     */
    pipeline?: boolean
    /**
     * Delta and compressed packages: `new PackageRebuilder()` (rebuild.ts). Without it a delta plan
     * is refused (unsupported-package) and every package is written as it comes (default: none,
     * so a program that does not make one carries none of the applier's bytecode).
     */
    rebuilder?: Rebuilder
    /**
     * Signed images: `new SignedImages(TRUSTED_KEYS)` (signed-images.ts, src/image/trusted-keys.ts).
     * A downloaded image must be signed by one of the keys with a security counter at least the
     * store's before its slot is marked ready (unsigned, unknown-key, bad-signature,
     * counter-too-low); a confirm raises the store's counter to the running image's. Without it
     * no signature is checked (and none of the check's bytecode is compiled).
     */
    signatures?: ImageVerifier
    /**
     * Components besides the program: `new Components([{ name, store, check }])` (components.ts),
     * each a data store of its own; plans name them. Without it plans for other components are
     * refused (not-our-component) and none of this code is compiled.
     */
    components?: ComponentSet
    /** The application's consent and download windows: `new ConsentGate(hook, windows)` (consent-gate.ts). Default: every accepted plan now. */
    consent?: PlanGate
    /** The last outcome per component, kept and told: `new OutcomeReporter()` (outcomes.ts). Default: none kept. */
    outcomes?: OutcomeLog
    /**
     * How hashing yields between 64-byte slices. Default: a real ds.sleep(0), which the VM's
     * opcode budget needs; in Node, where each sleep costs a ≥ 1 ms timer, pass a no-op.
     */
    yielder?: () => Promise<void>
}

/** A configured number, or its default when not set (0 is a setting). */
export function orDefault(v: number, d: number): number {
    return v === undefined ? d : v
}

export function requestSha(cfg: SotaConfig): boolean {
    return cfg.requestSha256 !== false // unset: true
}
