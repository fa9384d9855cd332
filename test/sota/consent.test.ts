// The consent hook's decisions and the maintenance windows (src/sota/consent.ts): pure functions
// over seconds and minutes of the local day, midnight-wrapping windows and time zones included.
import { describe, expect, it } from "vitest"
import {
    ConsentKind,
    consentLater,
    consentNever,
    consentNow,
    inWindow,
    MaintenanceWindow,
    minuteOfDay,
    nextOpening,
    windowCloses,
} from "../../src/sota/consent"

const DAY0 = 1_796_083_200 // 2026-12-01 00:00:00 UTC, a whole number of days since the epoch
const at = (h: number, m = 0, s = 0) => DAY0 + h * 3600 + m * 60 + s
const w = (a: string, b: string): MaintenanceWindow => {
    const min = (x: string) => +x.split(":")[0] * 60 + +x.split(":")[1]
    return { start: min(a), end: min(b) }
}

describe("decisions", () => {
    it("now, later until a time, never with a reason", () => {
        expect(consentNow()).toEqual({ kind: ConsentKind.Now, until: 0, reason: "" })
        expect(consentLater(at(3))).toEqual({ kind: ConsentKind.Later, until: at(3), reason: "deferred" })
        expect(consentLater(0, "user busy")).toEqual({ kind: ConsentKind.Later, until: 0, reason: "user busy" })
        expect(consentNever("pinned by the fleet")).toEqual({ kind: ConsentKind.Never, until: 0, reason: "pinned by the fleet" })
        expect(consentNever("").reason).toBe("declined")
    })
})

describe("minute of the local day", () => {
    it("from UTC seconds and an offset, both ways across midnight", () => {
        expect(minuteOfDay(at(0), 0)).toBe(0)
        expect(minuteOfDay(at(23, 59, 59), 0)).toBe(1439)
        expect(minuteOfDay(at(20), 480)).toBe(4 * 60) // 20:00 UTC is 04:00 in UTC+8
        expect(minuteOfDay(at(2), -300)).toBe(21 * 60) // 02:00 UTC is 21:00 the day before in UTC-5
    })
})

describe("inside a window", () => {
    it("a plain window is [start, end)", () => {
        const ws = [w("02:00", "04:00")]
        expect(inWindow(ws, at(1, 59, 59), 0)).toBe(false)
        expect(inWindow(ws, at(2), 0)).toBe(true)
        expect(inWindow(ws, at(3, 59, 59), 0)).toBe(true)
        expect(inWindow(ws, at(4), 0)).toBe(false)
    })

    it("a window that wraps past midnight (22:00-02:00)", () => {
        const ws = [w("22:00", "02:00")]
        for (const [h, m, inside] of [
            [21, 59, false],
            [22, 0, true],
            [23, 59, true],
            [0, 0, true],
            [1, 59, true],
            [2, 0, false],
            [12, 0, false],
        ] as [number, number, boolean][])
            expect([h, m, inWindow(ws, at(h, m), 0)]).toEqual([h, m, inside])
    })

    it("no windows: always; start === end: the whole day; several windows: any", () => {
        expect(inWindow([], at(13), 0)).toBe(true)
        expect(inWindow([w("05:00", "05:00")], at(4, 59), 0)).toBe(true)
        const ws = [w("01:00", "02:00"), w("13:00", "14:00")]
        expect(inWindow(ws, at(13, 30), 0)).toBe(true)
        expect(inWindow(ws, at(12, 30), 0)).toBe(false)
    })

    it("in local time: a 02:00-04:00 window in UTC+8 is 18:00-20:00 UTC", () => {
        const ws = [w("02:00", "04:00")]
        expect(inWindow(ws, at(18, 30), 480)).toBe(true)
        expect(inWindow(ws, at(2, 30), 480)).toBe(false)
    })
})

describe("when the next window opens", () => {
    it("now when inside; later today; tomorrow when today's has passed", () => {
        const ws = [w("02:00", "04:00")]
        expect(nextOpening(ws, at(3, 10, 7), 0)).toBe(at(3, 10, 7))
        expect(nextOpening(ws, at(1, 30, 20), 0)).toBe(at(2))
        expect(nextOpening(ws, at(4), 0)).toBe(at(26)) // 02:00 the next day
        expect(nextOpening(ws, at(23, 59, 59), 0)).toBe(at(26))
    })

    it("a wrapping window opens at its start, not at midnight", () => {
        const ws = [w("22:00", "02:00")]
        expect(nextOpening(ws, at(2), 0)).toBe(at(22))
        expect(nextOpening(ws, at(21, 59, 30), 0)).toBe(at(22))
        expect(nextOpening(ws, at(0, 30), 0)).toBe(at(0, 30)) // already open
    })

    it("the nearest of several, in local time", () => {
        const ws = [w("13:00", "14:00"), w("01:00", "02:00")]
        expect(nextOpening(ws, at(2, 30), 0)).toBe(at(13))
        expect(nextOpening(ws, at(14, 30), 0)).toBe(at(25))
        // 01:00 in UTC+8 is 17:00 UTC; at 10:00 UTC (18:00 local) the next local 01:00 is 17:00 UTC
        expect(nextOpening([w("01:00", "02:00")], at(10), 480)).toBe(at(17))
        // UTC-5: 23:00 local is 04:00 UTC
        expect(nextOpening([w("23:00", "01:00")], at(3), -300)).toBe(at(4))
    })

    it("no windows: at once", () => {
        expect(nextOpening([], at(9, 1, 2), 0)).toBe(at(9, 1, 2))
    })
})

describe("when the current window closes", () => {
    it("at its end; a wrapping window at its end on the next day", () => {
        expect(windowCloses([w("02:00", "04:00")], at(3, 10, 5), 0)).toBe(at(4))
        expect(windowCloses([w("22:00", "02:00")], at(23, 30), 0)).toBe(at(26))
        expect(windowCloses([w("22:00", "02:00")], at(1, 30), 0)).toBe(at(2))
    })

    it("outside a window: now; never for a whole day or windows that chain round the clock", () => {
        expect(windowCloses([w("02:00", "04:00")], at(5), 0)).toBe(at(5))
        expect(windowCloses([], at(5), 0)).toBe(-1)
        expect(windowCloses([w("08:00", "08:00")], at(5), 0)).toBe(-1)
        expect(windowCloses([w("00:00", "12:00"), w("12:00", "00:00")], at(5), 0)).toBe(-1)
    })

    it("touching and overlapping windows close as one", () => {
        const ws = [w("22:00", "01:00"), w("00:30", "03:00"), w("03:00", "03:30"), w("05:00", "06:00")]
        expect(windowCloses(ws, at(22, 15), 0)).toBe(at(27, 30))
        expect(windowCloses(ws, at(5, 15), 0)).toBe(at(6))
    })
})

describe("against a minute-by-minute walk (seeded random windows, offsets and times)", () => {
    // brute force: the local minute of t, then step a minute at a time
    const open = (ws: MaintenanceWindow[], m: number) =>
        ws.length === 0 || ws.some(x => (x.start === x.end ? true : x.start < x.end ? m >= x.start && m < x.end : m >= x.start || m < x.end))
    let seed = 12345
    const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        return seed % n
    }
    it("inWindow, nextOpening and windowCloses agree with it on 3000 cases", () => {
        for (let k = 0; k < 3000; k++) {
            const ws: MaintenanceWindow[] = []
            const n = rnd(4)
            for (let i = 0; i < n; i++) ws.push({ start: rnd(1440), end: rnd(20) === 0 ? -1 : rnd(1440) })
            for (const x of ws) if (x.end < 0) x.end = x.start // now and then a whole day
            const off = (rnd(57) - 28) * 30
            const t = DAY0 + rnd(3 * 86400)
            const m0 = Math.floor(t / 60) + off
            const local = (m: number) => ((m % 1440) + 1440) % 1440
            const inside = open(ws, local(m0))
            const ctx = JSON.stringify({ ws, off, t })
            expect(inWindow(ws, t, off), ctx).toBe(inside)
            let opensIn = 0
            while (!open(ws, local(m0 + opensIn)) && opensIn <= 1440) opensIn++
            expect(nextOpening(ws, t, off), ctx).toBe(inside ? t : t - (t % 60) + opensIn * 60)
            let closesIn = 0
            while (inside && open(ws, local(m0 + closesIn)) && closesIn <= 1440) closesIn++
            const never = inside && closesIn > 1440
            expect(windowCloses(ws, t, off), ctx).toBe(!inside ? t : never ? -1 : t - (t % 60) + closesIn * 60)
        }
    })
})
