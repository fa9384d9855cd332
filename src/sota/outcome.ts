// The last outcome of an upgrade, one record per component: from, to, result, reason, when.
// The engine keeps it in the store (a few dozen bytes, survives rollbacks and reboots) and reports
// it to the platform over QuecThing's data channel (docs/ARCHITECTURE.md, "Components, consent
// and outcomes"). Pure and portable; not used by the engine yet (issue 20).
//
// `result` speaks Huawei IoTDA's vocabulary (quecthing-at.md §9), because 10706 says only that an
// upgrade failed: 0 success, 1 device in use, 2 poor signal, 3 already latest, 4 low battery,
// 5 no storage, 6 download timeout, 7 verification failed, 8 unsupported package, 9 no memory,
// 10 install failed, 255 internal. `reason` is ours, finer: a SotaReason, or an image, store or
// flash reason qualified by where it came from ("image:hash-mismatch", "store:not-blank",
// "flash:worn-out": the three vocabularies share words that mean different things, "timeout").

import { AtError } from "../at/errors"
import { FlashError } from "../flash/flash"
import { StoreError } from "../flash/store-port"
import { ImageError } from "../image/errors"
import { reasonOf, SotaError } from "./reasons"

export const enum IotResult {
    Success = 0,
    InUse = 1,
    PoorSignal = 2,
    AlreadyLatest = 3,
    LowBattery = 4,
    NoStorage = 5,
    DownloadTimeout = 6,
    VerifyFailed = 7,
    Unsupported = 8,
    NoMemory = 9,
    InstallFailed = 10,
    Internal = 255,
}

export interface Outcome {
    /** The version that ran before the attempt ("" when unknown). */
    from: string
    /** The plan's target version. */
    to: string
    /** IotResult. */
    result: number
    /** "" on success; else a SotaReason or a qualified image:/store:/flash: reason, or "internal". */
    reason: string
    /** Seconds on the agent's clock (the module's network time; 0 when unknown). */
    when: number
}

/**
 * Every reason we have, by result: "<result> <reason> <reason> …". Each reason appears once; a
 * test parses the reason unions (src/sota/reasons.ts, src/image/errors.ts, src/flash/store-port.ts,
 * src/flash/flash.ts) and fails on one missing here. Strings, not an object: they cost no
 * function bytecode. Nothing of ours means "no memory" (9) today: the VM's out-of-memory is a
 * panic, not a reason. Choices: a downgrade is "already latest" (the device runs something newer);
 * the platform's 10706 mid-download is a download failure (it is the cellular link, mostly).
 */
export const RESULT_TABLE = [
    "1 busy deferred declined store:trial-pending store:reboot-required",
    "2 weak-signal",
    "3 same-version downgrade store:downgrade",
    "4 low-battery",
    "5 too-large image:too-large store:too-large",
    "6 timeout module-error connection-lost platform-failed registration-failed",
    "7 md5-mismatch sha256-mismatch crc-mismatch flash-mismatch bad-image bad-patch store:digest-mismatch " +
        "store:flash-mismatch image:truncated image:bad-tlv-magic image:bad-protected-size image:bad-tlv " +
        "image:bad-tlv-length image:misplaced-tlv image:duplicate-tlv image:no-hash image:hash-mismatch " +
        "unsigned unknown-key bad-signature counter-too-low image:unsigned image:unknown-key image:bad-signature " +
        "image:counter-too-low",
    "8 not-our-component wrong-source-version base-mismatch unsupported-package bad-plan image:bad-magic " +
        "image:bad-header-size image:unsupported-flags image:unsupported-hash image:bad-version",
    "10 failed-before flash-error self-test-failed rolled-back version-mismatch image:read-failed store:not-blank " +
        "flash:not-erased flash:worn-out flash:timeout flash:bad-device flash:verify flash:link",
    "255 internal store:no-image store:bad-layout store:bad-state store:unaligned store:bad-argument " +
        "image:bad-argument flash:unaligned flash:out-of-range",
]

/** The IoTDA result of one of our reasons ("" is success); 255 for a reason the table lacks. */
export function resultOf(reason: string): number {
    if (reason === "") return 0
    const key = " " + reason + " "
    for (let i = 0; i < RESULT_TABLE.length; i++) {
        const line = RESULT_TABLE[i] + " "
        if (line.indexOf(key) >= 0) return parseInt(line.slice(0, line.indexOf(" ")))
    }
    return 255
}

/** The finest reason an error carries: image, store and flash reasons qualified, anything untyped "internal". */
export function outcomeReason(err: any): string {
    if (err instanceof SotaError) return err.reason
    if (err instanceof ImageError) return "image:" + err.reason
    if (err instanceof FlashError) return "flash:" + err.reason
    if (err instanceof StoreError) return "store:" + err.reason
    if (err instanceof AtError) return reasonOf(err)
    return "internal"
}

/** The format byte: a record of another format is not read (a future field appends, with a new format). */
export const OUTCOME_FORMAT = 1
/** Longest field kept, in bytes (the store's MAX_VERSION_LENGTH; longer is cut, so a refused over-long plan is still recorded). */
export const OUTCOME_FIELD_MAX = 32

function field(s: string): Buffer {
    const b = Buffer.from(s)
    return b.length > OUTCOME_FIELD_MAX ? b.slice(0, OUTCOME_FIELD_MAX) : b
}

/**
 * [format][result][when u32 LE][len][from][len][to][len][reason]: 10 bytes and the three
 * strings (32 for 1_0_0 → 2_0_0 and "sha256-mismatch"; at most 106). The store's record adds
 * its sequence number and CRC.
 */
export function encodeOutcome(o: Outcome): Buffer {
    const f = field(o.from)
    const t = field(o.to)
    const r = field(o.reason)
    const b = Buffer.alloc(9 + f.length + t.length + r.length)
    b[0] = OUTCOME_FORMAT
    b[1] = o.result >= 0 && o.result <= 255 ? o.result : 255
    const w = o.when > 0 && o.when < 0x100000000 ? Math.floor(o.when) : 0
    b[2] = w & 0xff
    b[3] = (w >> 8) & 0xff
    b[4] = (w >> 16) & 0xff
    b[5] = (w >>> 24) & 0xff
    let at = 6
    const parts = [f, t, r]
    for (let i = 0; i < 3; i++) {
        const p = parts[i]
        b[at++] = p.length
        for (let j = 0; j < p.length; j++) b[at++] = p[j]
    }
    return b
}

/** The record in `b`, or null when it is not one (another format, a length past the end, bytes left over). */
export function decodeOutcome(b: Buffer): Outcome {
    if (!b || b.length < 9 || b[0] !== OUTCOME_FORMAT) return null
    const s: string[] = []
    let at = 6
    for (let i = 0; i < 3; i++) {
        const n = b[at]
        if (n > OUTCOME_FIELD_MAX || at + 1 + n > b.length) return null
        s.push(b.slice(at + 1, at + 1 + n).toString("utf-8"))
        at += 1 + n
    }
    if (at !== b.length) return null
    const when = (b[2] | (b[3] << 8) | (b[4] << 16)) + b[5] * 0x1000000
    return { from: s[0], to: s[1], result: b[1], reason: s[2], when }
}
