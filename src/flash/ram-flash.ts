// A NOR flash in RAM, portable: the backend of the VM test suite and a reference for the rules
// (see flash.ts). It enforces them all, including "a unit is programmed once between erases",
// so code that passes on it does not rely on anything a real NOR chip would not do.
// Memory: size bytes of data plus one byte per program unit; keep it small in the VM.
// Bytes are stored inverted (0 = erased) so that a fresh device needs no fill loop: filling
// 16 KB byte by byte alone would blow DeviceScript's 131 072-opcode step budget. Every operation
// yields for real (at its start and every KB), as an I/O-bound flash driver would.

import * as ds from "@devicescript/core"
import { checkErase, checkGeometry, checkProgram, checkRange, Flash, FlashError, FlashGeometry } from "./flash"

export class RamFlash implements Flash {
    readonly geometry: FlashGeometry
    /** The complement of the flash contents. */
    private inv: Buffer
    /** 1 when the unit was programmed since its sector's last erase. */
    private programmed: Buffer
    /** Erases per sector, for wear figures. */
    readonly eraseCounts: number[]
    programOps: number
    eraseOps: number

    constructor(geometry: FlashGeometry) {
        checkGeometry(geometry)
        this.geometry = geometry
        this.inv = Buffer.alloc(geometry.size)
        this.programmed = Buffer.alloc(geometry.size / geometry.programUnit)
        this.eraseCounts = []
        for (let s = 0; s < geometry.size / geometry.sectorSize; s++) this.eraseCounts.push(0)
        this.programOps = 0
        this.eraseOps = 0
    }

    async read(address: number, length: number): Promise<Buffer> {
        await ds.sleep(0)
        checkRange(this.geometry, address, length)
        const out = Buffer.alloc(length)
        for (let i = 0; i < length; i++) {
            out[i] = this.inv[address + i] ^ 0xff
            if ((i & 1023) === 1023) await ds.sleep(0)
        }
        return out
    }

    async program(address: number, data: Buffer): Promise<void> {
        await ds.sleep(0)
        const g = this.geometry
        checkProgram(g, address, data.length)
        const u0 = address / g.programUnit
        const n = data.length / g.programUnit
        for (let u = u0; u < u0 + n; u++)
            if (this.programmed[u]) throw new FlashError("not-erased", u * g.programUnit, "unit already programmed")
        for (let u = u0; u < u0 + n; u++) this.programmed[u] = 1
        // logical &= data  <=>  complement |= ~data
        for (let i = 0; i < data.length; i++) {
            this.inv[address + i] |= data[i] ^ 0xff
            if ((i & 1023) === 1023) await ds.sleep(0)
        }
        this.programOps++
    }

    async eraseSector(address: number): Promise<void> {
        await ds.sleep(0)
        const g = this.geometry
        checkErase(g, address)
        for (let i = 0; i < g.sectorSize; i++) {
            this.inv[address + i] = 0
            if ((i & 1023) === 1023) await ds.sleep(0)
        }
        const u0 = address / g.programUnit
        for (let u = u0; u < u0 + g.sectorSize / g.programUnit; u++) this.programmed[u] = 0
        this.eraseCounts[address / g.sectorSize]++
        this.eraseOps++
    }
}
