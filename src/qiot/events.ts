// +QIOTEVT lines as typed events (quecthing-at.md §3): the OTA events an upgrade acts on, and
// the access/subscribe events of registration. Every parser checks counts and numbers and
// returns null on anything malformed: a bad event is a typed "bad-plan", never a crash.
// Shared by the SOTA agent (src/sota) and the module upgrade (src/dfota).

import { lineFields, lineInt } from "../at/fields"
import { isHex } from "../lib/bytes"

/**
 * A queued event keeps its line, not its split fields: split, a 10701 with both digests is
 * about three times the line's size on the VM heap (two arrays and a string per field), and
 * the engine queues several events while it prepares a download. Parsers split on demand.
 */
export interface QiotEvent {
    type: number
    code: number
    /** The whole URC line ("" for a module restart). */
    line: string
}

/** 10700: a plan is offered. */
export interface OtaOffer {
    component: string
    /** "" for a full package, the required running version for a delta. */
    source: string
    target: string
    minBattery: number
    minSignal: number
    size: number
}

/** 10701: the download starts. */
export interface OtaStart {
    component: string
    length: number
    md5: string
    /** -1 when absent or not a number */
    crc: number
    /** "" when the module did not send one (AT+QIOTOTAREQ without =1) */
    sha256: string
}

/** 10703: a piece of the package is in the module's buffer. */
export interface OtaPiece {
    component: string
    total: number
    start: number
    length: number
}

export const EVT_AUTH = 1
export const EVT_ACCESS = 2
export const EVT_SUBSCRIBE = 3
export const EVT_OTA = 7

export const OTA_OFFER = 10700
export const OTA_START = 10701
export const OTA_DOWNLOADING = 10702
export const OTA_PIECE = 10703
export const OTA_UPDATING = 10704
export const OTA_DONE = 10705
export const OTA_FAILED = 10706
export const OK_CODE = 10200

/** A module restart (RDY), queued like an event. */
export const EVT_MODULE_RESTART = -1
/** A `+QIND:` indication (the module's own firmware upgrade), queued with its line. */
export const EVT_INDICATION = -2

/** AT+QIOTSTATE? answers (quecthing-at.md §2). */
export const enum QiotState {
    /** Connected and subscribed: data and OTA can flow. */
    Subscribed = 8,
}

/** AT+QIOTUPDATE=<action> (quecthing-at.md §4). */
export const enum OtaAction {
    /** Refuse the plan, or end the attempt in progress. */
    Refuse = 0,
    /** Accept the plan: the module starts downloading (10701 follows). */
    Accept = 1,
    /** The piece in the module's buffer is read: fetch the next one (10703 follows). */
    NextPiece = 2,
    /** Every byte is read and verified: the MCU is updating (10704 follows). */
    Installing = 3,
}

export function parseQiotEvent(line: string): QiotEvent {
    if (!line.startsWith("+QIOTEVT:")) return null
    const type = lineInt(line, 0)
    const code = lineInt(line, 1)
    if (!(type >= 0) || !(code >= 0)) return null
    return { type, code, line }
}

/** 10706: the platform ended the plan. */
export function isPlanFailed(e: QiotEvent): boolean {
    return e.type === EVT_OTA && e.code === OTA_FAILED
}

export function parseOffer(e: QiotEvent): OtaOffer {
    if (e.type !== EVT_OTA || e.code !== OTA_OFFER) return null
    const f = lineFields(e.line)
    if (f.values.length !== 8) return null
    const size = f.int(7)
    const minBattery = f.int(5)
    const minSignal = f.int(6)
    const component = f.str(2)
    const target = f.str(4)
    if (!(size > 0) || isNaN(minBattery) || isNaN(minSignal) || component.length === 0 || target.length === 0) return null
    return { component, source: f.str(3), target, minBattery, minSignal, size }
}

export function parseStart(e: QiotEvent): OtaStart {
    if (e.type !== EVT_OTA || e.code !== OTA_START) return null
    const f = lineFields(e.line)
    const n = f.values.length
    if (n !== 6 && n !== 7) return null
    const length = f.int(3)
    const md5 = f.str(4).toLowerCase()
    const sha256 = n === 7 ? f.str(6).toLowerCase() : ""
    if (!(length > 0) || !isHex(md5, 32) || (n === 7 && !isHex(sha256, 64))) return null
    const crc = f.int(5)
    return { component: f.str(2), length, md5, crc: crc >= 0 && crc <= 0xffffffff ? crc : -1, sha256 }
}

export function parsePiece(e: QiotEvent): OtaPiece {
    if (e.type !== EVT_OTA || e.code !== OTA_PIECE) return null
    const f = lineFields(e.line)
    if (f.values.length !== 6) return null
    const total = f.int(3)
    const start = f.int(4)
    const length = f.int(5)
    if (!(total > 0) || !(start >= 0) || !(length > 0) || start + length > total) return null
    return { component: f.str(2), total, start, length }
}
