// The application's say on a plan, and the maintenance windows: types and pure functions, no
// state. Not used by the engine yet (issue 20; docs/ARCHITECTURE.md, "Components, consent and
// outcomes", says how it will be).
//
// The hook sees what the platform's 10700 announces for one component (versions, size, the
// battery and signal the plan asks for) and answers now, later (until a time), or never (with a
// reason). "Later" and "never" both refuse the plan on the wire (AT+QIOTUPDATE=0): QuecThing has
// no "defer", the platform pushes a refused plan again after its rejection period.
//
// Times are seconds on the agent's clock (the module's network time, AT+CCLK / AT+QLTS); a
// window is minutes of the local day, [start, end), with the clock's offset from UTC given.

export const enum ConsentKind {
    Now = 0,
    Later = 1,
    Never = 2,
}

/** What the hook is asked about: one component of a plan. */
export interface ConsentRequest {
    component: string
    /** The version that runs. */
    from: string
    /** The plan's target version. */
    to: string
    /** "" for a full package, the version a delta applies to otherwise. */
    source: string
    /** The package's bytes (10700's useSpace). */
    size: number
    /** The plan's minimum battery (%) and signal (dBm), as 10700 announces them. */
    minBattery: number
    minSignal: number
}

export interface ConsentDecision {
    kind: ConsentKind
    /** Later: not before this time (seconds); 0 = the next time the platform asks. */
    until: number
    /** Never (and Later, optionally): why, recorded as the outcome's reason. */
    reason: string
}

/** The application's hook; undefined means "now". */
export type ConsentHook = (req: ConsentRequest) => Promise<ConsentDecision> | ConsentDecision

export function consentNow(): ConsentDecision {
    return { kind: ConsentKind.Now, until: 0, reason: "" }
}

export function consentLater(until: number, reason?: string): ConsentDecision {
    return { kind: ConsentKind.Later, until, reason: reason || "deferred" }
}

export function consentNever(reason: string): ConsentDecision {
    return { kind: ConsentKind.Never, until: 0, reason: reason || "declined" }
}

/**
 * A daily window in minutes of the local day: [start, end). start > end wraps past midnight
 * (22:00–02:00 is start 1320, end 120); start === end is the whole day.
 */
export interface MaintenanceWindow {
    start: number
    end: number
}

/** When the agent may download and when it may activate (reboot into the new image); empty = any time. */
export interface MaintenanceWindows {
    download: MaintenanceWindow[]
    activate: MaintenanceWindow[]
    /** The local time's offset from the clock's, in minutes (UTC+8: 480). */
    utcOffset: number
}

const DAY = 1440

/** Minute of the local day at time t (seconds). */
export function minuteOfDay(t: number, utcOffset: number): number {
    const m = Math.floor(t / 60) + utcOffset
    return ((m % DAY) + DAY) % DAY
}

function inside(w: MaintenanceWindow, m: number): boolean {
    if (w.start === w.end) return true
    if (w.start < w.end) return m >= w.start && m < w.end
    return m >= w.start || m < w.end
}

/** Is time t (seconds) inside one of the windows? No windows: always. */
export function inWindow(ws: MaintenanceWindow[], t: number, utcOffset: number): boolean {
    if (ws.length === 0) return true
    const m = minuteOfDay(t, utcOffset)
    for (let i = 0; i < ws.length; i++) if (inside(ws[i], m)) return true
    return false
}

/**
 * When the next window opens, in seconds: t itself when t is inside one, else the start of the
 * nearest window opening after t (at most a day away).
 */
export function nextOpening(ws: MaintenanceWindow[], t: number, utcOffset: number): number {
    if (inWindow(ws, t, utcOffset)) return t
    const m = minuteOfDay(t, utcOffset)
    const startOfMinute = t - (t % 60)
    let best = DAY + 1
    for (let i = 0; i < ws.length; i++) {
        const wait = (((ws[i].start - m) % DAY) + DAY) % DAY
        if (wait > 0 && wait < best) best = wait
    }
    return startOfMinute + best * 60
}

/**
 * When the window t is in closes, in seconds: t itself when t is in none; -1 when it never closes
 * (a whole-day window, or windows that chain round the clock). Windows that touch or overlap
 * count as one.
 */
export function windowCloses(ws: MaintenanceWindow[], t: number, utcOffset: number): number {
    if (!inWindow(ws, t, utcOffset)) return t
    let p = minuteOfDay(t, utcOffset)
    let total = 0
    for (let round = 0; round <= ws.length; round++) {
        // the farthest end among the windows that hold minute p
        let far = 0
        for (let i = 0; i < ws.length; i++) {
            const w = ws[i]
            if (w.start === w.end) return -1
            if (inside(w, p)) {
                const d = (((w.end - p) % DAY) + DAY) % DAY
                if (d > far) far = d
            }
        }
        total += far
        if (total >= DAY) return -1
        p = (p + far) % DAY
        if (!inWindow(ws, p * 60, 0)) return t - (t % 60) + total * 60
    }
    return -1
}
