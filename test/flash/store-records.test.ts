// The store's record bodies byte by byte: STATE and PROGRESS round trips with every field at its
// edges, the exact layout, and every malformed body decoded as null (never a state made up from
// it); which progress joins the STATE in force.
import { describe, expect, it } from "vitest"
import {
    cloneState, decodeProgress, decodeState, emptySlot, encodeProgress, encodeState, initialState, journalOf, MAX_MIDSTATE, MAX_STATE_BODY,
    REC_PROGRESS, REC_STATE, slotIn, stateInForce, stateReadable, StoreState,
} from "../../src/flash/store-records"
import { LogRecord } from "../../src/flash/meta-log"

function full(): StoreState {
    const st = initialState()
    st.active = 1
    st.session = 0xfffffffe
    st.slots[0] = {
        state: "confirmed", bootsLeft: 0, version: "1_0_0", size: 7001, crc32: 0xdeadbeef, crcKnown: true,
        sha256: Buffer.alloc(32, 0xab), md5: Buffer.alloc(16, 0xcd), why: 0, unreported: false,
    }
    st.slots[1] = {
        state: "bad", bootsLeft: 255, version: "é".repeat(16), size: 0xffffffff, crc32: 1, crcKnown: false,
        sha256: Buffer.alloc(0), md5: Buffer.alloc(16, 1), why: 31, unreported: true,
    }
    st.progress = { written: 4096, verified: 4095, midstate: Buffer.alloc(MAX_MIDSTATE, 7) }
    return st
}

const rec = (type: number, seq: number, body: Buffer): LogRecord => ({ type, seq, body, sector: 0, offset: 0 })

describe("STATE", () => {
    it("round-trips every field at its edges, and the largest body is MAX_STATE_BODY", () => {
        const st = full()
        const b = encodeState(st)
        const d = decodeState(b)
        expect(d).toEqual(st)
        // the largest: versions of 32 bytes, both digests in both slots, the largest midstate
        for (const s of st.slots) {
            s.version = "v".repeat(32)
            s.sha256 = Buffer.alloc(32)
            s.md5 = Buffer.alloc(16)
        }
        st.counter = 0xffffffff // format 2: the counter's high half is 2 bytes more
        expect(decodeState(encodeState(st))).toEqual(st)
        expect(encodeState(st).length).toBe(MAX_STATE_BODY)
        expect(MAX_STATE_BODY).toBe(407)
    })

    it("the exact layout: active (0xFF none), format 1, session; a slot's state, boots, flags (crc, why, unreported), version, size, CRC, digests", () => {
        const st = initialState()
        st.session = 0x01020304
        st.slots[0] = { ...emptySlot(), state: "trial", bootsLeft: 2, version: "ab", size: 0x0a0b0c0d, crc32: 0x11223344, crcKnown: true, why: 5, unreported: true, md5: Buffer.from([9]) }
        const b = encodeState(st)
        expect([...b.subarray(0, 8)]).toEqual([0xff, 1, 0, 0, 4, 3, 2, 1])
        expect([...b.subarray(8, 8 + 19)]).toEqual([3, 2, 1 | (5 << 1) | 64, 2, 0x61, 0x62, 0x0d, 0x0c, 0x0b, 0x0a, 0x44, 0x33, 0x22, 0x11, 0, 1, 9, 0, 0].slice(0, 19))
        expect(decodeState(b).active).toBe(-1)
        st.active = 0
        expect(encodeState(st)[0]).toBe(0)
        expect(decodeState(encodeState(st)).active).toBe(0)
    })

    it("every state name has its own code; an unknown code does not decode", () => {
        const names = ["empty", "receiving", "ready", "trial", "confirmed", "bad"] as const
        names.forEach((name, code) => {
            const st = initialState()
            st.slots[1].state = name
            const b = encodeState(st)
            expect(b[8 + 14]).toBe(code) // slot 1 starts after slot 0's 14 bytes
            expect(decodeState(b).slots[1].state).toBe(name)
            b[8 + 14] = 6
            expect(decodeState(b)).toBe(null)
        })
    })

    it("a malformed body decodes as null: another format, a bad active slot, a short or long body, oversized fields", () => {
        const good = encodeState(full())
        const bad = (f: (b: Buffer) => Buffer) => expect(decodeState(f(Buffer.from(good)))).toBe(null)
        bad(b => ((b[1] = 0), b)) // format
        bad(b => ((b[1] = 3), b))
        bad(b => ((b[1] = 0xff), b))
        bad(b => ((b[0] = 2), b)) // active 2
        bad(b => ((b[0] = 0xfe), b))
        bad(b => b.subarray(0, b.length - 1)) // short
        bad(b => Buffer.concat([b, Buffer.alloc(1)])) // a byte too many
        bad(() => Buffer.alloc(0))
        // a version longer than 32 bytes, a SHA-256 longer than 32, an MD5 longer than 16 (each re-encoded consistently)
        const st = initialState()
        st.slots[0].version = "v".repeat(33)
        expect(decodeState(encodeState(st))).toBe(null)
        st.slots[0].version = "v".repeat(32)
        expect(decodeState(encodeState(st))).not.toBe(null)
        st.slots[0].sha256 = Buffer.alloc(33)
        expect(decodeState(encodeState(st))).toBe(null)
        st.slots[0].sha256 = Buffer.alloc(32)
        st.slots[0].md5 = Buffer.alloc(17)
        expect(decodeState(encodeState(st))).toBe(null)
        st.slots[0].md5 = Buffer.alloc(16)
        expect(decodeState(encodeState(st))).not.toBe(null)
        // bytes 2-3, reserved before, are the security counter (u16 LE; issue 17): any value decodes
        const r = Buffer.from(good)
        r[2] = 7
        r[3] = 9
        expect(decodeState(r)).toEqual({ ...full(), counter: 0x0907 })
    })

    it("the counter's 32 bits: format 1 (the 16-bit builds' bytes) up to 65 535, format 2 above it with the high half at 8-9", () => {
        const st = full()
        const f1 = encodeState(st)
        for (const c of [0, 1, 0xffff, 0x10000, 0x1000000, 0xfffffe, 0x7fffffff, 0x80000000, 0xffffffff]) {
            st.counter = c
            const b = encodeState(st)
            expect(decodeState(b)!.counter, `${c}`).toBe(c)
            expect(decodeState(b)).toEqual(st)
            const low = [c & 0xff, (c >> 8) & 0xff]
            if (c <= 0xffff) {
                // byte for byte what the 16-bit builds wrote: only bytes 2-3 differ from counter 0's
                expect([b[1], b[2], b[3], b.length]).toEqual([1, ...low, f1.length])
                expect(b.subarray(4).equals(f1.subarray(4))).toBe(true)
            } else {
                expect([b[1], b[2], b[3], b[8], b[9], b.length]).toEqual([2, ...low, (c >>> 16) & 0xff, c >>> 24, f1.length + 2])
                expect(b.subarray(4, 8).equals(f1.subarray(4, 8))).toBe(true) // the session where it always was
                expect(b.subarray(10).equals(f1.subarray(8))).toBe(true) // then the same slots and progress
            }
        }
        // a format 2 body with a high half of 0 (no build writes one) still reads its low half
        const z = encodeState({ ...st, counter: 0x12345 })
        z[8] = 0
        expect(decodeState(z)!.counter).toBe(0x2345)
        // format 2 one byte short or long, or format 1 over format 2's bytes: not read
        const two = encodeState({ ...st, counter: 0x01000000 })
        expect(decodeState(two.subarray(0, two.length - 1))).toBe(null)
        expect(decodeState(Buffer.concat([two, Buffer.alloc(1)]))).toBe(null)
        const as1 = Buffer.from(two)
        as1[1] = 1
        expect(decodeState(as1)).toBe(null)
    })

    it("a record the 16-bit builds wrote (encodeState before the counter's format 2) reads as it did, and is written back byte for byte", () => {
        // generated by encodeState at 96b4394: active 1, counter 0xFEDC, a confirmed 1_0_0 with a SHA-256, 2_0_0 on trial with an MD5
        const old = Buffer.from(
            "0101dcfe0403020104000105315f305f3088130000efbeadde20abababababababababababababababababababababababababababababababab00" +
                "03020105325f305f3070170000443322110010cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd001000000010000003010203",
            "hex"
        )
        const st = decodeState(old)!
        expect(st).toMatchObject({ active: 1, session: 0x01020304, counter: 0xfedc, progress: { written: 4096, verified: 4096 } })
        expect(st.slots.map(x => [x.state, x.version, x.bootsLeft, x.size])).toEqual([["confirmed", "1_0_0", 0, 5000], ["trial", "2_0_0", 2, 6000]])
        expect(encodeState(st).equals(old)).toBe(true)
    })

    it("stateReadable: a STATE must decode; any other type is the store's business", () => {
        expect(stateReadable(REC_STATE, encodeState(full()))).toBe(true)
        expect(stateReadable(REC_STATE, Buffer.alloc(3))).toBe(false)
        expect(stateReadable(REC_PROGRESS, Buffer.alloc(3))).toBe(true)
    })

    it("clones are deep for the slots and the progress numbers", () => {
        const st = full()
        const c = cloneState(st)
        c.slots[0].state = "bad"
        c.slots[1].version = "x"
        c.progress.written = 1
        c.active = 0
        expect(st).toEqual(full())
    })

    it("a blank device's state (initialState, decoded from constant bytes): nothing active, two empty slots, no progress; each call a new object", () => {
        const blank = { active: -1, session: 0, counter: 0, slots: [emptySlot(), emptySlot()], progress: { written: 0, verified: 0, midstate: Buffer.alloc(0) } }
        const a = initialState()
        expect(a).toEqual(blank)
        a.slots[0].state = "bad"
        a.progress.written = 9
        expect(initialState()).toEqual(blank)
        expect(decodeState(encodeState(blank))).toEqual(blank)
    })
})

describe("PROGRESS", () => {
    it("round-trips, and the layout is session, written, verified, midstate length, midstate", () => {
        const p = { written: 0xffffffff, verified: 8, midstate: Buffer.from([1, 2, 3]) }
        const b = encodeProgress(0x0a0b0c0d, p)
        expect([...b]).toEqual([0x0d, 0x0c, 0x0b, 0x0a, 0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0, 3, 1, 2, 3])
        expect(decodeProgress(b)).toEqual({ session: 0x0a0b0c0d, progress: p })
        expect(decodeProgress(b.subarray(0, 15))).toBe(null)
        expect(decodeProgress(Buffer.concat([b, Buffer.alloc(1)]))).toBe(null)
        expect(decodeProgress(encodeProgress(1, { written: 0, verified: 0, midstate: Buffer.alloc(0) }))).toEqual({
            session: 1,
            progress: { written: 0, verified: 0, midstate: Buffer.alloc(0) },
        })
    })

    it("joins the STATE in force only when newer, of the same session, with a slot receiving that is not the running one", () => {
        const st = initialState()
        st.active = 0
        st.session = 5
        st.slots[0].state = "confirmed"
        st.slots[1].state = "receiving"
        const s = rec(REC_STATE, 10, encodeState(st))
        const p = { written: 4096, verified: 4096, midstate: Buffer.from([1]) }
        const progress = (session: number, seq: number) => rec(REC_PROGRESS, seq, encodeProgress(session, p))
        expect(stateInForce(s, progress(5, 11), 0).progress).toEqual(p)
        expect(stateInForce(s, progress(5, 11), -1).progress).toEqual(p)
        expect(stateInForce(s, progress(5, 10), 0).progress.written).toBe(0) // not newer
        expect(stateInForce(s, progress(5, 9), 0).progress.written).toBe(0)
        expect(stateInForce(s, progress(4, 11), 0).progress.written).toBe(0) // another receive
        expect(stateInForce(s, progress(5, 11), 1).progress.written).toBe(0) // the receiving slot is the running one
        expect(stateInForce(s, rec(REC_PROGRESS, 11, Buffer.alloc(3)), 0).progress.written).toBe(0) // malformed
        expect(stateInForce(s, null, 0)).toEqual(st)
        expect(stateInForce(null, progress(5, 11), 0)).toBe(null)
        expect(stateInForce(rec(REC_STATE, 10, Buffer.alloc(5)), progress(5, 11), 0)).toBe(null)
        // across the sequence wrap: 0 is newer than 0xFFFFFFFF
        expect(stateInForce(rec(REC_STATE, 0xffffffff, encodeState(st)), progress(5, 0), 0).progress).toEqual(p)
        const none = cloneState(st)
        none.slots[1].state = "ready"
        expect(stateInForce(rec(REC_STATE, 10, encodeState(none)), progress(5, 11), 0).progress.written).toBe(0)
    })

    it("the journal of a receiving slot: its plan as hex digests, the progress, a copy of the midstate", () => {
        const st = full()
        st.slots[1].state = "receiving"
        const j = journalOf(st, 1)
        expect(j).toMatchObject({ slot: 1, version: st.slots[1].version, total: 0xffffffff, sha256: "", md5: "01".repeat(16), written: 4096, verified: 4095 })
        expect(journalOf(st, 0)).toMatchObject({ sha256: "ab".repeat(32), md5: "cd".repeat(16) })
        j.midstate[0] = 99
        expect(st.progress.midstate[0]).toBe(7)
        expect(slotIn(st, 0, "receiving")).toBe(1)
        expect(slotIn(st, 1, "receiving")).toBe(-1)
        expect(slotIn(st, -1, "confirmed")).toBe(0)
        expect(slotIn(st, -1, "trial")).toBe(-1)
    })
})
