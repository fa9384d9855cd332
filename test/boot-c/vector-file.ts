// The boot vectors' file, written by tools/boot-vectors.ts, read by the C host test
// (boot/test/host_test.c) and by boot-c.test.ts. Little-endian throughout:
//
//   "BSVEC001" (the signed set: "BSVECS01") | u32 sectors | u32 vectors | sectors × 4096 bytes (every distinct 4 KB sector once)
//   vector: u16 nameLen | name
//           u32 flashSize | u32 metaAddr | u8 metaSectors | u8 unit | u32 slot0 | u32 slot1 | u32 slotSize
//           u8 fstor (0: no program, 1: the program whose SHA-256 follows) | 32 bytes
//           u8 worn | worn × (u16 sector | u8 flags: 1 its next erase fails, 2 programs fail)
//           u32 × flashSize/4096: the flash, as sector indexes
//           expected (the TypeScript boot stage on that flash):
//           u8 outcome (0 ok, 1 no-image, 2 error) | i8 slot | u8 trial | u8 rolledBack | u8 wrote
//           u8 metaFault | u8 why | u8 failedVersionLen | failedVersion
//           u8 deploy (the program differs from fstor's) | 32 bytes: the program fstor ends with
//           u32 × metaSectors: the metadata sectors after the stage
//           i32 chain: the vector whose flash is this one's after the stage, fstor empty (-1: none)
//
// The C test's results (c-results.bin), one per vector in order: u8 outcome | i8 slot | u8 trial
// | u8 wrote | u8 metaFault | u8 why | u8 deployed, then, when it wrote, metaSectors × 4096 bytes
// of metadata after the stage. Its record cuts (c-cuts.bin), one per cut: u32 vector | u8 kind
// (0 before, 1 after, 2 torn) | metaSectors × 4096 bytes as the cut left them | the next boot's
// result as above.
import { createHash } from "node:crypto"

export const SECTOR = 4096
export const MAGIC = "BSVEC001"
/** The signed set's: decided by the TypeScript stage with the trusted keys, for the C stage built with BS_SIGNATURES. */
export const SIGNED_MAGIC = "BSVECS01"

export interface Layout {
    flashSize: number
    metaAddr: number
    metaSectors: number
    unit: number
    slots: [number, number]
    slotSize: number
}

export interface Expected {
    outcome: number
    slot: number
    trial: boolean
    rolledBack: boolean
    wrote: boolean
    metaFault: boolean
    why: number
    failedVersion: string
    deploy: boolean
    program: Buffer
    metaAfter: Buffer
}

export interface Vector {
    name: string
    layout: Layout
    /** SHA-256 of the program in fstor, or null: none. */
    fstor: Buffer
    worn: { sector: number; flags: number }[]
    flash: Buffer
    expected: Expected
    chain: number
}

export class VectorWriter {
    private sectors: Buffer[] = []
    private index = new Map<string, number>()
    private parts: Buffer[] = []
    count = 0

    private sector(b: Buffer): number {
        const key = createHash("sha1").update(b).digest("hex")
        let i = this.index.get(key)
        if (i === undefined) {
            i = this.sectors.length
            this.sectors.push(Buffer.from(b))
            this.index.set(key, i)
        }
        return i
    }

    private sectorsOf(b: Buffer): Buffer {
        const out = Buffer.alloc((b.length / SECTOR) * 4)
        for (let s = 0; s * SECTOR < b.length; s++) out.writeUInt32LE(this.sector(b.subarray(s * SECTOR, (s + 1) * SECTOR)), 4 * s)
        return out
    }

    add(v: Vector): number {
        const L = v.layout
        const e = v.expected
        const name = Buffer.from(v.name)
        const head = Buffer.alloc(2 + name.length + 22 + 33 + 1 + 3 * v.worn.length)
        let p = head.writeUInt16LE(name.length, 0)
        p += name.copy(head, p)
        p = head.writeUInt32LE(L.flashSize, p)
        p = head.writeUInt32LE(L.metaAddr, p)
        p = head.writeUInt8(L.metaSectors, p)
        p = head.writeUInt8(L.unit, p)
        p = head.writeUInt32LE(L.slots[0], p)
        p = head.writeUInt32LE(L.slots[1], p)
        p = head.writeUInt32LE(L.slotSize, p)
        p = head.writeUInt8(v.fstor ? 1 : 0, p)
        if (v.fstor) v.fstor.copy(head, p)
        p += 32
        p = head.writeUInt8(v.worn.length, p)
        for (const w of v.worn) {
            p = head.writeUInt16LE(w.sector, p)
            p = head.writeUInt8(w.flags, p)
        }
        const fv = Buffer.from(e.failedVersion)
        const exp = Buffer.alloc(8 + fv.length + 33)
        let q = 0
        for (const x of [e.outcome, e.slot & 0xff, +e.trial, +e.rolledBack, +e.wrote, +e.metaFault, e.why, fv.length]) q = exp.writeUInt8(x, q)
        q += fv.copy(exp, q)
        q = exp.writeUInt8(+e.deploy, q)
        e.program.copy(exp, q)
        const chain = Buffer.alloc(4)
        chain.writeInt32LE(v.chain, 0)
        this.parts.push(head, this.sectorsOf(v.flash), exp, this.sectorsOf(e.metaAfter), chain)
        return this.count++
    }

    /** Point a vector's chain at another (both already added). */
    setChain(from: number, to: number) {
        // the chain field is the last part written for each vector: five parts per vector
        this.parts[from * 5 + 4].writeInt32LE(to, 0)
    }

    signed = false

    bytes(): Buffer {
        const head = Buffer.alloc(16)
        head.write(this.signed ? SIGNED_MAGIC : MAGIC, 0, "latin1")
        head.writeUInt32LE(this.sectors.length, 8)
        head.writeUInt32LE(this.count, 12)
        return Buffer.concat([head, ...this.sectors, ...this.parts])
    }
}

export function readVectors(file: Buffer): Vector[] {
    const magic = file.toString("latin1", 0, 8)
    if (magic !== MAGIC && magic !== SIGNED_MAGIC) throw new Error("not a boot vector file")
    const nSectors = file.readUInt32LE(8)
    const n = file.readUInt32LE(12)
    const sectorAt = (i: number) => file.subarray(16 + i * SECTOR, 16 + (i + 1) * SECTOR)
    let p = 16 + nSectors * SECTOR
    const u8 = () => file.readUInt8(p++)
    const u32 = () => ((p += 4), file.readUInt32LE(p - 4))
    const sectors = (count: number) => {
        const parts: Buffer[] = []
        for (let i = 0; i < count; i++) parts.push(sectorAt(u32()))
        return Buffer.concat(parts)
    }
    const out: Vector[] = []
    for (let k = 0; k < n; k++) {
        const nameLen = file.readUInt16LE(p)
        const name = file.toString("utf8", p + 2, p + 2 + nameLen)
        p += 2 + nameLen
        const layout: Layout = { flashSize: u32(), metaAddr: u32(), metaSectors: u8(), unit: u8(), slots: [u32(), u32()], slotSize: u32() }
        const hasFstor = u8()
        const fstor = hasFstor ? Buffer.from(file.subarray(p, p + 32)) : null
        p += 32
        const worn: Vector["worn"] = []
        for (let w = u8(); w > 0; w--) {
            const sector = file.readUInt16LE(p)
            p += 2
            worn.push({ sector, flags: u8() })
        }
        const flash = sectors(layout.flashSize / SECTOR)
        const outcome = u8()
        const slot = (u8() << 24) >> 24
        const [trial, rolledBack, wrote, metaFault] = [u8(), u8(), u8(), u8()].map(x => x === 1)
        const why = u8()
        const fl = u8()
        const failedVersion = file.toString("utf8", p, p + fl)
        p += fl
        const deploy = u8() === 1
        const program = Buffer.from(file.subarray(p, p + 32))
        p += 32
        const metaAfter = sectors(layout.metaSectors)
        const chain = file.readInt32LE(p)
        p += 4
        out.push({ name, layout, fstor, worn, flash, expected: { outcome, slot, trial, rolledBack, wrote, metaFault, why, failedVersion, deploy, program, metaAfter }, chain })
    }
    return out
}

export interface CResult {
    outcome: number
    slot: number
    trial: boolean
    wrote: boolean
    metaFault: boolean
    why: number
    deployed: boolean
    /** The metadata after the stage (as before it when nothing was written). */
    metaAfter: Buffer
}

function readResult(file: Buffer, p: number, metaBefore: Buffer): [CResult, number] {
    const wrote = file[p + 3] === 1
    const r: CResult = {
        outcome: file[p],
        slot: (file[p + 1] << 24) >> 24,
        trial: file[p + 2] === 1,
        wrote,
        metaFault: file[p + 4] === 1,
        why: file[p + 5],
        deployed: file[p + 6] === 1,
        metaAfter: wrote ? Buffer.from(file.subarray(p + 7, p + 7 + metaBefore.length)) : metaBefore,
    }
    return [r, p + 7 + (wrote ? metaBefore.length : 0)]
}

export function metaOf(v: Vector): Buffer {
    const L = v.layout
    return v.flash.subarray(L.metaAddr, L.metaAddr + L.metaSectors * SECTOR)
}

export function readCResults(file: Buffer, vectors: Vector[]): CResult[] {
    let p = 0
    return vectors.map(v => {
        const [r, next] = readResult(file, p, metaOf(v))
        p = next
        return r
    })
}

export interface CCut {
    vector: number
    kind: number
    /** The metadata as the cut left it. */
    meta: Buffer
    /** The C stage's next boot on it. */
    next: CResult
}

export function readCCuts(file: Buffer, vectors: Vector[]): CCut[] {
    const out: CCut[] = []
    for (let p = 0; p < file.length; ) {
        const vector = file.readUInt32LE(p)
        const kind = file[p + 4]
        const n = vectors[vector].layout.metaSectors * SECTOR
        const meta = Buffer.from(file.subarray(p + 5, p + 5 + n))
        const [next, q] = readResult(file, p + 5 + n, meta)
        out.push({ vector, kind, meta, next })
        p = q
    }
    return out
}
