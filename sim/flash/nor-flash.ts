// NOR flash model for vitest and the simulator host, stricter than MCUboot's simflash:
//   - NOR rules (src/flash/flash.ts): erase → 0xFF, program ANDs (1→0 only), a unit is programmed
//     once between erases, aligned and in-range access only (FlashError with a reason code);
//   - per-sector erase counters and an endurance limit past which the sector fails ("worn-out");
//   - power cuts at operation k (program and erase are counted; reads are not): "before" (nothing
//     changes), "after" (the operation completes), or "torn": a program leaves a prefix of its
//     units written and the next unit partly programmed; an erase leaves the sector in a mixed
//     state. A cut throws PowerCut, and the flash stays off (every call throws) until powerOn();
//   - contents, programmed-unit flags and erase counters persist to a file if one is given, so a
//     restarted process sees the same flash.
// Modelling assumptions: a unit whose cells did not change in a torn program still counts as
// erased (log-structured stores everywhere rely on "reads erased = erased"); every unit of a
// sector whose erase was torn counts as programmed until the sector is erased again.

import { closeSync, existsSync, openSync, readSync, writeSync } from "node:fs"
import { Rng } from "../lib/rng"
import {
    checkErase,
    checkGeometry,
    checkProgram,
    checkRange,
    Flash,
    FlashError,
    FlashGeometry,
} from "../../src/flash/flash"

export type CutKind = "before" | "after" | "torn"

/** Thrown from inside the operation that the power cut interrupted. */
export class PowerCut extends Error {
    kind: CutKind | "off"
    op: number
    constructor(kind: CutKind | "off", op: number) {
        super(`power cut (${kind}) at flash operation ${op}`)
        this.name = "PowerCut"
        this.kind = kind
        this.op = op
    }
}

export interface CutPlan {
    /** Cut at the op-th program/erase after arming (1-based). */
    op: number
    kind: CutKind
    /**
     * Torn cuts: how far the operation got, 0 ≤ at < 1 (a program keeps floor(at × units) whole
     * units; an erase reaches that fraction). Default: drawn from `seed`.
     */
    at?: number
    /** Torn cuts: seeds the partial unit and the erase pattern (same seed, same damage). */
    seed?: number
}

export interface NorOptions extends FlashGeometry {
    /** Erases a sector survives; the next one fails. Default 100 000. */
    endurance?: number
    /** Persist to this file (created if missing, loaded if present). */
    file?: string
}

export interface NorSnapshot {
    data: Uint8Array
    programmed: Uint8Array
    eraseCounts: Uint32Array
}

/** A deterministic source of [0, 1) for torn-cut damage (the simulator's one PRNG, sim/lib/rng.ts). */
export function rng(seed: number): () => number {
    const g = new Rng(seed)
    return () => g.next()
}

const FILE_MAGIC = "NORSIM01"
const FILE_HEADER = 32

export class NorFlash implements Flash {
    readonly geometry: FlashGeometry
    readonly endurance: number
    data: Uint8Array
    programmed: Uint8Array
    eraseCounts: Uint32Array
    /** Program and erase operations since construction (or resetCounters). */
    ops = 0
    programOps = 0
    eraseOps = 0
    readOps = 0
    /** Test oracle hook: awaited after every completed program/erase (not after a cut). */
    afterOp: (op: number) => Promise<void> = null
    private cut: CutPlan = null
    private armedAt = 0
    private off = false
    private fd = -1

    constructor(o: NorOptions) {
        this.geometry = { sectorSize: o.sectorSize, programUnit: o.programUnit, size: o.size }
        checkGeometry(this.geometry)
        this.endurance = o.endurance === undefined ? 100000 : o.endurance
        this.data = new Uint8Array(o.size).fill(0xff)
        this.programmed = new Uint8Array(o.size / o.programUnit)
        this.eraseCounts = new Uint32Array(o.size / o.sectorSize)
        if (o.file) this.attach(o.file)
    }

    // ---- the Flash interface ----

    async read(address: number, length: number): Promise<Buffer> {
        this.checkPower()
        checkRange(this.geometry, address, length)
        this.readOps++
        return Buffer.from(this.data.subarray(address, address + length))
    }

    async program(address: number, src: Buffer): Promise<void> {
        this.checkPower()
        const g = this.geometry
        checkProgram(g, address, src.length)
        const u0 = address / g.programUnit
        const n = src.length / g.programUnit
        for (let u = u0; u < u0 + n; u++)
            if (this.programmed[u]) throw new FlashError("not-erased", u * g.programUnit, "unit programmed twice")
        const sector = Math.floor(address / g.sectorSize)
        if (this.eraseCounts[sector] > this.endurance)
            throw new FlashError("worn-out", address, `sector ${sector} past ${this.endurance} erases`)
        const op = this.countOp()
        if (this.cutHere(op, "before")) throw this.powerCut("before", op)
        if (this.cut && this.cut.kind === "torn" && op === this.armedAt + this.cut.op) {
            const r = rng(this.cut.seed === undefined ? op : this.cut.seed)
            const at = this.cut.at === undefined ? r() : this.cut.at
            const whole = Math.min(n - 1, Math.floor(at * n)) // units fully written: 0 .. n-1
            this.applyProgram(address, src, 0, whole * g.programUnit)
            // the unit being programmed when the power went: some of its 1→0 bits made it
            const start = whole * g.programUnit
            let changed = false
            for (let i = start; i < start + g.programUnit; i++) {
                const old = this.data[address + i]
                const cleared = old & ~src[i] & Math.floor(r() * 256) & 0xff
                if (cleared) changed = true
                this.data[address + i] = old & ~cleared & 0xff
            }
            if (changed) this.programmed[u0 + whole] = 1
            this.persist(address, src.length, sector)
            throw this.powerCut("torn", op)
        }
        this.applyProgram(address, src, 0, src.length)
        this.persist(address, src.length, sector)
        this.programOps++
        if (this.cutHere(op, "after")) throw this.powerCut("after", op)
        if (this.afterOp) await this.afterOp(op)
    }

    async eraseSector(address: number): Promise<void> {
        this.checkPower()
        const g = this.geometry
        checkErase(g, address)
        const sector = address / g.sectorSize
        if (this.eraseCounts[sector] >= this.endurance) {
            // the erase that fails: the sector is dead from now on (programs fail too)
            this.eraseCounts[sector] = this.endurance + 1
            this.persist(address, 0, sector)
            throw new FlashError("worn-out", address, `sector ${sector} past ${this.endurance} erases`)
        }
        const op = this.countOp()
        if (this.cutHere(op, "before")) throw this.powerCut("before", op)
        const u0 = address / g.programUnit
        const nu = g.sectorSize / g.programUnit
        if (this.cut && this.cut.kind === "torn" && op === this.armedAt + this.cut.op) {
            const r = rng(this.cut.seed === undefined ? op : this.cut.seed)
            const mode = Math.floor(r() * 3)
            const frac = this.cut.at === undefined ? r() : this.cut.at
            for (let i = 0; i < g.sectorSize; i++) {
                const a = address + i
                if (mode === 0) {
                    // erased from the start up to a point, old contents after it
                    if (i < frac * g.sectorSize) this.data[a] = 0xff
                } else if (mode === 1) {
                    // cells partly erased everywhere: some 0 bits are back to 1
                    this.data[a] |= Math.floor(r() * 256)
                } else if (r() < frac) this.data[a] = 0xff // a random subset of bytes erased
            }
            this.eraseCounts[sector]++
            this.programmed.fill(1, u0, u0 + nu)
            this.persist(address, g.sectorSize, sector)
            throw this.powerCut("torn", op)
        }
        this.data.fill(0xff, address, address + g.sectorSize)
        this.programmed.fill(0, u0, u0 + nu)
        this.eraseCounts[sector]++
        this.eraseOps++
        this.persist(address, g.sectorSize, sector)
        if (this.cutHere(op, "after")) throw this.powerCut("after", op)
        if (this.afterOp) await this.afterOp(op)
    }

    // ---- fault injection and inspection ----

    /** Cut the power at the plan.op-th program/erase from now. */
    armCut(plan: CutPlan) {
        this.cut = plan
        this.armedAt = this.ops
    }

    disarm() {
        this.cut = null
    }

    /** Times the power came back after a cut: an MCU that ran before that is gone. */
    powerOns = 0

    /** Power back on after a cut (a reboot); the contents are what the cut left. */
    powerOn() {
        if (this.off) this.powerOns++
        this.off = false
        this.cut = null
    }

    isOff() {
        return this.off
    }

    /** Flip one bit, bypassing NOR rules (retention/disturb faults). */
    flipBit(address: number, bit: number) {
        checkRange(this.geometry, address, 1)
        this.data[address] ^= 1 << bit
        this.persist(address, 1, Math.floor(address / this.geometry.sectorSize))
    }

    /** Synchronous read for test assertions (does not count, ignores power). */
    peek(address: number, length: number): Buffer {
        return Buffer.from(this.data.slice(address, address + length))
    }

    snapshot(): NorSnapshot {
        return { data: this.data.slice(), programmed: this.programmed.slice(), eraseCounts: this.eraseCounts.slice() }
    }

    restore(s: NorSnapshot) {
        this.data.set(s.data)
        this.programmed.set(s.programmed)
        this.eraseCounts.set(s.eraseCounts)
        this.off = false
        this.cut = null
        if (this.fd >= 0) this.persistAll()
    }

    resetCounters() {
        this.ops = this.programOps = this.eraseOps = this.readOps = 0
        this.armedAt = 0
    }

    close() {
        if (this.fd >= 0) closeSync(this.fd)
        this.fd = -1
    }

    // ---- internals ----

    private checkPower() {
        if (this.off) throw new PowerCut("off", this.ops)
    }

    private countOp(): number {
        return ++this.ops
    }

    private cutHere(op: number, kind: CutKind): boolean {
        return !!this.cut && this.cut.kind === kind && op === this.armedAt + this.cut.op
    }

    private powerCut(kind: CutKind, op: number): PowerCut {
        this.off = true
        this.cut = null
        return new PowerCut(kind, op - this.armedAt)
    }

    private applyProgram(address: number, src: Buffer, from: number, to: number) {
        const unit = this.geometry.programUnit
        for (let i = from; i < to; i++) this.data[address + i] &= src[i]
        for (let u = (address + from) / unit; u < (address + to) / unit; u++) this.programmed[u] = 1
    }

    private attach(file: string) {
        const g = this.geometry
        const total = FILE_HEADER + g.size + this.programmed.length + 4 * this.eraseCounts.length
        if (existsSync(file)) {
            this.fd = openSync(file, "r+")
            const all = Buffer.alloc(total)
            const got = readSync(this.fd, all, 0, total, 0)
            const hdr = all.subarray(0, FILE_HEADER)
            const ok =
                got === total &&
                hdr.toString("latin1", 0, 8) === FILE_MAGIC &&
                hdr.readUInt32LE(8) === g.sectorSize &&
                hdr.readUInt32LE(12) === g.programUnit &&
                hdr.readUInt32LE(16) === g.size
            if (!ok) throw new Error(`${file}: not a flash image of this geometry`)
            let p = FILE_HEADER
            this.data.set(all.subarray(p, p + g.size))
            p += g.size
            this.programmed.set(all.subarray(p, p + this.programmed.length))
            p += this.programmed.length
            for (let s = 0; s < this.eraseCounts.length; s++) this.eraseCounts[s] = all.readUInt32LE(p + 4 * s)
        } else {
            this.fd = openSync(file, "w+")
            const hdr = Buffer.alloc(FILE_HEADER)
            hdr.write(FILE_MAGIC, 0, "latin1")
            hdr.writeUInt32LE(g.sectorSize, 8)
            hdr.writeUInt32LE(g.programUnit, 12)
            hdr.writeUInt32LE(g.size, 16)
            writeSync(this.fd, hdr, 0, FILE_HEADER, 0)
            this.persistAll()
        }
    }

    private persistAll() {
        this.persist(0, this.geometry.size, -1)
        for (let s = 0; s < this.eraseCounts.length; s++) this.persistCounter(s)
    }

    private persist(address: number, length: number, sector: number) {
        if (this.fd < 0) return
        const unit = this.geometry.programUnit
        writeSync(this.fd, this.data, address, length, FILE_HEADER + address)
        const u0 = Math.floor(address / unit)
        const u1 = Math.ceil((address + length) / unit)
        writeSync(this.fd, this.programmed, u0, u1 - u0, FILE_HEADER + this.geometry.size + u0)
        if (sector >= 0) this.persistCounter(sector)
    }

    private persistCounter(s: number) {
        const b = Buffer.alloc(4)
        b.writeUInt32LE(this.eraseCounts[s], 0)
        writeSync(this.fd, b, 0, 4, FILE_HEADER + this.geometry.size + this.programmed.length + 4 * s)
    }
}
