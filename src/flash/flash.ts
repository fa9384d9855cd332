// The Flash interface: what the image store needs from a NOR device, and nothing more.
// NOR rules hold for every implementation (RAM, SPI W25Q, the simulator's model):
//   - erase works on whole sectors and sets every byte to 0xFF;
//   - program only turns 1 bits into 0 bits, and a program unit is programmed once between erases;
//   - program addresses and lengths are multiples of the program unit, erase addresses are
//     sector-aligned, and nothing reaches past `size`.
// Every operation returns a Promise, so a backend may sit behind SPI or a Jacdac channel.

import { StoreError } from "./store-port"
import { allBytes } from "../lib/bytes"

/** Why a flash operation failed. */
export type FlashReason =
    | "unaligned" // program not on the program unit, erase not on a sector boundary
    | "out-of-range" // address or length beyond the device
    | "not-erased" // a unit programmed twice without an erase in between
    | "worn-out" // the sector passed its erase endurance and no longer erases or programs
    | "timeout" // the device stayed busy too long
    | "bad-device" // the device did not identify as expected (JEDEC ID, status)
    | "verify" // read-back after program or erase did not match
    | "link" // the device is remote (the simulator's flash channel) and the channel failed

/** A StoreError, so that whatever a store port throws is one type (store-port.ts). */
export class FlashError extends StoreError {
    // `reason` (inherited) holds a FlashReason
    address: number
    constructor(reason: FlashReason, address: number, message: string) {
        super(null, `flash ${reason} at 0x${hex32(address)}: ${message}`, true)
        this.name = "FlashError"
        this.reason = reason
        this.address = address
    }
}

export interface FlashGeometry {
    /** Erase granularity in bytes (a power of two). */
    sectorSize: number
    /** Program granularity in bytes (a power of two, ≤ sectorSize). */
    programUnit: number
    /** Device size in bytes (a multiple of sectorSize). */
    size: number
}

export interface Flash {
    readonly geometry: FlashGeometry
    /** Read `length` bytes at `address` into a new Buffer. */
    read(address: number, length: number): Promise<Buffer>
    /** Program `data` at `address`: address and data.length are multiples of the program unit. */
    program(address: number, data: Buffer): Promise<void>
    /** Erase the sector that starts at `address` to 0xFF. */
    eraseSector(address: number): Promise<void>
}

/** Throw unless [address, address+length) lies inside the device. */
export function checkRange(g: FlashGeometry, address: number, length: number) {
    if (!(address >= 0 && length >= 0 && address + length <= g.size) || address !== Math.floor(address))
        throw new FlashError("out-of-range", address, `${length} bytes past size ${g.size}`)
}

/** Throw unless a program of `length` bytes at `address` is in range and unit-aligned. */
export function checkProgram(g: FlashGeometry, address: number, length: number) {
    checkRange(g, address, length)
    if (address % g.programUnit !== 0 || length % g.programUnit !== 0)
        throw new FlashError("unaligned", address, `program of ${length} bytes, unit ${g.programUnit}`)
}

/** Throw unless `address` starts a sector of the device. */
export function checkErase(g: FlashGeometry, address: number) {
    checkRange(g, address, g.sectorSize)
    if (address % g.sectorSize !== 0)
        throw new FlashError("unaligned", address, `erase not on a ${g.sectorSize}-byte sector boundary`)
}

/** Throw unless a geometry is usable: powers of two, unit ≤ sector, size a whole number of sectors. */
export function checkGeometry(g: FlashGeometry) {
    const s = g.sectorSize
    const u = g.programUnit
    // powers of two (n & (n - 1) clears the lowest set bit), inline: a helper function costs a 16 B descriptor
    if (!(s > 0 && (s & (s - 1)) === 0 && u > 0 && (u & (u - 1)) === 0) || u > s)
        throw new FlashError("bad-device", 0, `bad geometry: sector ${g.sectorSize}, unit ${g.programUnit}`)
    if (g.size <= 0 || g.size % g.sectorSize !== 0)
        throw new FlashError("bad-device", 0, `size ${g.size} is not a whole number of sectors`)
}

const HEXD = "0123456789abcdef"

/** 8 hex digits; `toString(16)` does not exist in DeviceScript. */
export function hex32(n: number): string {
    let s = ""
    for (let sh = 28; sh >= 0; sh -= 4) s += HEXD[(n >>> sh) & 15]
    return s
}

/**
 * Program `data` at `address` but skip every program unit that is all 0xFF: those bytes already
 * read 0xFF after the erase, and leaving them unprogrammed keeps one invariant the image store
 * relies on: a unit has been programmed if and only if it reads something other than 0xFF. So
 * after a cut, "reads erased" means "may be programmed", even past a torn write whose data held
 * 0xFF units (a strict NOR, or an MCU flash with ECC, forbids programming such a unit twice).
 * Runs of units that hold data go out as one program each. Returns the programs issued.
 */
export async function programSkippingErased(flash: Flash, address: number, data: Buffer): Promise<number> {
    const unit = flash.geometry.programUnit
    checkProgram(flash.geometry, address, data.length)
    let ops = 0
    let runStart = -1
    for (let u = 0; u <= data.length; u += unit) {
        const erased = u === data.length || allBytes(data, u, u + unit, 0xff) // the end closes the last run
        if (!erased && runStart < 0) runStart = u
        else if (erased && runStart >= 0) {
            const whole = runStart === 0 && u === data.length
            await flash.program(address + runStart, whole ? data : data.slice(runStart, u))
            ops++
            runStart = -1
        }
    }
    return ops
}
