import { describe, expect, it } from "vitest"
import { crc32, crc32Update } from "../../src/lib/crc32"
import { compareVersions } from "../../src/lib/version"
import { fromHex, getU32, putU32, toHex } from "../../src/lib/bytes"
import { checkGeometry, FlashError } from "../../src/flash/flash"
import { RamFlash } from "../../src/flash/ram-flash"
import { NorFlash, PowerCut } from "../../sim/flash/nor-flash"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"

describe("crc32", () => {
    it("matches the CRC-32/ISO-HDLC check value and zlib", () => {
        expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926)
        expect(crc32(Buffer.alloc(0))).toBe(0)
        const b = Buffer.alloc(1000)
        for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff
        // node:zlib has no crc32 before Node 22; a gzip trailer carries zlib's CRC-32 of the input
        const gz = gzipSync(b)
        expect(crc32(b)).toBe(gz.readUInt32LE(gz.length - 8))
        const piecewise = crc32Update(crc32Update(0, b, 0, 333), b, 333, 1000)
        expect(piecewise).toBe(crc32(b))
    })
})

describe("version compare", () => {
    it("orders QuecThing versions numerically per part", () => {
        expect(compareVersions("1_0_0", "2_0_0")).toBe(-1)
        expect(compareVersions("2_0_0", "1_0_0")).toBe(1)
        expect(compareVersions("1_10_0", "1_9_0")).toBe(1)
        expect(compareVersions("V1_0", "1_0_0")).toBe(0)
        expect(compareVersions("v1.2", "1_2_1")).toBe(-1)
        expect(compareVersions("1.2.10", "1_2_9")).toBe(1)
        expect(compareVersions("1_0_0", "1_0_0")).toBe(0)
        expect(compareVersions("1_0_a", "1_0_b")).toBe(-1)
    })
    it("a pre-release (a text part) comes before its release and after the version below", () => {
        expect(compareVersions("2_0_0_rc1", "2_0_0")).toBe(-1)
        expect(compareVersions("2_0_0", "2_0_0_rc1")).toBe(1)
        expect(compareVersions("2_0_0_rc1", "2_0_0_0")).toBe(-1) // a missing part is 0: the same order
        expect(compareVersions("2_0_0_rc1", "2_0_0_1")).toBe(-1)
        expect(compareVersions("2_0_0_rc1", "1_9_9")).toBe(1)
        expect(compareVersions("2_0_0_rc1", "2_0_0_rc2")).toBe(-1)
        expect(compareVersions("1_0_beta", "1_0_0")).toBe(-1)
        expect(compareVersions("1_0_a", "1_0_0")).toBe(-1)
    })
})

describe("bytes", () => {
    it("u32 and hex round trips, unsigned", () => {
        const b = Buffer.alloc(4)
        putU32(b, 0, 0xdeadbeef)
        expect(getU32(b, 0)).toBe(0xdeadbeef)
        expect(toHex(b)).toBe("efbeadde")
        expect(toHex(fromHex("00FFa5"))).toBe("00ffa5")
        expect(fromHex("0g")).toBe(null)
        expect(fromHex("abc")).toBe(null)
    })
})

function flashes() {
    return [
        ["RamFlash", () => new RamFlash({ sectorSize: 4096, programUnit: 4, size: 16384 })],
        ["NorFlash", () => new NorFlash({ sectorSize: 4096, programUnit: 4, size: 16384 })],
    ] as const
}

describe.each(flashes())("%s follows NOR rules", (_name, make) => {
    it("erases to 0xFF, programs 1→0 only, once per unit", async () => {
        const f = make()
        expect((await f.read(0, 8)).toString("hex")).toBe("ffffffffffffffff")
        await f.program(0, Buffer.from([0x0f, 0xf0, 0x12, 0x34]))
        expect((await f.read(0, 4)).toString("hex")).toBe("0ff01234")
        await expect(f.program(0, Buffer.from([0, 0, 0, 0]))).rejects.toMatchObject({ reason: "not-erased" })
        await f.eraseSector(0)
        expect((await f.read(0, 4)).toString("hex")).toBe("ffffffff")
        await f.program(0, Buffer.from([0, 0, 0, 0]))
    })
    it("rejects unaligned and out-of-range access with a reason", async () => {
        const f = make()
        await expect(f.program(2, Buffer.alloc(4))).rejects.toMatchObject({ reason: "unaligned" })
        await expect(f.program(0, Buffer.alloc(3))).rejects.toMatchObject({ reason: "unaligned" })
        await expect(f.eraseSector(100)).rejects.toMatchObject({ reason: "unaligned" })
        await expect(f.read(16380, 8)).rejects.toMatchObject({ reason: "out-of-range" })
        await expect(f.program(16384, Buffer.alloc(4))).rejects.toBeInstanceOf(FlashError)
        await expect(f.eraseSector(16384)).rejects.toMatchObject({ reason: "out-of-range" })
    })
    it("read returns a copy", async () => {
        const f = make()
        const b = await f.read(0, 4)
        b[0] = 0
        expect((await f.read(0, 1))[0]).toBe(0xff)
    })
})

describe("checkGeometry", () => {
    it("takes powers of two with the unit within the sector and whole sectors; refuses the rest as bad-device", () => {
        for (const g of [{ sectorSize: 4096, programUnit: 1, size: 8192 }, { sectorSize: 4096, programUnit: 4096, size: 4096 }, { sectorSize: 1, programUnit: 1, size: 1 }])
            expect(() => checkGeometry(g)).not.toThrow()
        const bad = (sectorSize: number, programUnit: number, size: number) => () => checkGeometry({ sectorSize, programUnit, size })
        for (const [s, u] of [[4095, 1], [0, 1], [-4096, 1], [4096, 3], [4096, 0], [4096, 8192], [6144, 2]])
            expect(bad(s, u, 8192)).toThrow(`flash bad-device at 0x00000000: bad geometry: sector ${s}, unit ${u}`)
        expect(bad(4096, 8, 0)).toThrow("size 0 is not a whole number of sectors")
        expect(bad(4096, 8, 6000)).toThrow("size 6000 is not a whole number of sectors")
    })
})

describe("NorFlash faults", () => {
    it("counts erases and fails a sector past its endurance", async () => {
        const f = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192, endurance: 3 })
        for (let i = 0; i < 3; i++) await f.eraseSector(4096)
        expect(Array.from(f.eraseCounts)).toEqual([0, 3])
        await expect(f.eraseSector(4096)).rejects.toMatchObject({ reason: "worn-out" })
        await expect(f.program(4096, Buffer.alloc(4))).rejects.toMatchObject({ reason: "worn-out" })
        await f.eraseSector(0) // the other sector still works
    })
    it("cuts before, after, and in the middle of a program", async () => {
        const data = Buffer.alloc(64, 0x00)
        const before = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192 })
        before.armCut({ op: 1, kind: "before" })
        await expect(before.program(0, data)).rejects.toBeInstanceOf(PowerCut)
        expect(before.peek(0, 64).every(x => x === 0xff)).toBe(true)
        await expect(before.read(0, 4)).rejects.toBeInstanceOf(PowerCut) // still off
        before.powerOn()
        await before.program(0, data) // nothing was programmed

        const after = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192 })
        after.armCut({ op: 1, kind: "after" })
        await expect(after.program(0, data)).rejects.toBeInstanceOf(PowerCut)
        expect(after.peek(0, 64).every(x => x === 0)).toBe(true)

        let sawPrefix = 0
        for (let tear = 1; tear <= 40; tear++) {
            const t = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192 })
            t.armCut({ op: 1, kind: "torn", seed: tear })
            await expect(t.program(0, data)).rejects.toBeInstanceOf(PowerCut)
            const got = t.peek(0, 64)
            // a prefix of whole units is written, then at most one partial unit, then erased
            let i = 0
            while (i < 64 && got[i] === 0) i++
            const whole = Math.floor(i / 4)
            for (let j = (whole + 1) * 4; j < 64; j++) expect(got[j]).toBe(0xff)
            expect(whole).toBeLessThan(16)
            if (whole > 0) sawPrefix++
            // the same tear seed always does the same damage
            const t2 = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192 })
            t2.armCut({ op: 1, kind: "torn", seed: tear })
            await t2.program(0, data).catch(() => {})
            expect(t2.peek(0, 64).equals(got)).toBe(true)
        }
        expect(sawPrefix).toBeGreaterThan(20)
    })
    it("a torn erase leaves a mixed sector that must be erased again before programming", async () => {
        const f = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192 })
        await f.program(0, Buffer.alloc(4096, 0))
        f.armCut({ op: 1, kind: "torn", seed: 7 })
        await expect(f.eraseSector(0)).rejects.toBeInstanceOf(PowerCut)
        f.powerOn()
        const got = f.peek(0, 4096)
        expect(got.some(x => x !== 0xff)).toBe(true)
        await expect(f.program(4092, Buffer.alloc(4))).rejects.toMatchObject({ reason: "not-erased" })
        await f.eraseSector(0)
        await f.program(4092, Buffer.alloc(4))
    })
    it("persists to a file: a new process sees the same flash, flags and counters", async () => {
        const dir = mkdtempSync(join(tmpdir(), "nor-"))
        try {
            const file = join(dir, "flash.bin")
            const a = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192, file })
            await a.eraseSector(4096)
            await a.program(4096, Buffer.from("abcd"))
            a.armCut({ op: 1, kind: "torn", seed: 3 })
            await a.program(4100, Buffer.alloc(16, 0)).catch(() => {})
            const torn = a.peek(4100, 16)
            a.close()
            const b = new NorFlash({ sectorSize: 4096, programUnit: 4, size: 8192, file })
            expect((await b.read(4096, 4)).toString()).toBe("abcd")
            expect(b.peek(4100, 16).equals(torn)).toBe(true)
            expect(Array.from(b.eraseCounts)).toEqual([0, 1])
            await expect(b.program(4096, Buffer.alloc(4))).rejects.toMatchObject({ reason: "not-erased" })
            b.close()
            expect(() => new NorFlash({ sectorSize: 4096, programUnit: 8, size: 8192, file })).toThrow(/geometry/)
        } finally {
            rmSync(dir, { recursive: true, force: true })
        }
    })
})
