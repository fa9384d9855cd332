// Winbond W25Q serial NOR flash (W25Q16/32/64/128 ...) as a Flash, over a narrow SPI-bus
// interface, so the same driver runs on `@devicescript/spi` on a board (src/platform/spi-bus.ts)
// and against the command-level model in sim/flash/w25q-model.ts in tests.
// Datasheet notes (W25Q128JV rev. F):
//   - 0x9F JEDEC ID → manufacturer 0xEF, memory type (0x40 SPI / 0x70 QPI-DTR), capacity 2^N bytes;
//   - 0x06 Write Enable sets WEL (status bit 1); Page Program and Sector Erase need it and clear it;
//   - 0x02 Page Program writes up to 256 bytes; bytes past the end of the 256-byte page WRAP to the
//     page start, so the driver splits every program at page boundaries; tPP ≤ 3 ms;
//   - 0x20 Sector Erase, 4 KB; tSE typ. 45 ms, max 400 ms;
//   - 0x05 Read Status Register-1: BUSY is bit 0 (a program/erase is running, other instructions
//     are ignored), WEL bit 1;
//   - 0x03 Read Data, 24-bit address, any length (up to 50 MHz).
// Programming can only clear bits; this driver, like every Flash, programs a byte once per erase.

import * as ds from "@devicescript/core"
import { checkErase, checkProgram, checkRange, Flash, FlashError, FlashGeometry } from "./flash"

/** The driver's only view of the bus: one transaction with chip select held low throughout. */
export interface SpiBus {
    /** Send `tx`, then clock in `rxLength` bytes, then release chip select. */
    transfer(tx: Buffer, rxLength: number): Promise<Buffer>
}

export const W25Q_CMD_JEDEC_ID = 0x9f
export const W25Q_CMD_READ = 0x03
export const W25Q_CMD_WRITE_ENABLE = 0x06
export const W25Q_CMD_PAGE_PROGRAM = 0x02
export const W25Q_CMD_SECTOR_ERASE = 0x20
export const W25Q_CMD_READ_STATUS1 = 0x05
export const W25Q_STATUS_BUSY = 0x01
export const W25Q_STATUS_WEL = 0x02
export const W25Q_MANUFACTURER = 0xef
export const W25Q_PAGE = 256
export const W25Q_SECTOR = 4096

export interface W25qOptions {
    /** Program unit the store aligns to. The chip programs single bytes; default 1. */
    programUnit?: number
    /** Bytes per read transaction (an SPI buffer in RAM). Default 512. */
    readChunk?: number
    /** Give up on BUSY after this long. Defaults: 20 ms for a page program, 500 ms for an erase. */
    programTimeoutMs?: number
    eraseTimeoutMs?: number
    /** Delay between status polls while BUSY. Default 1 ms. */
    pollMs?: number
}

export class W25qFlash implements Flash {
    readonly geometry: FlashGeometry
    private bus: SpiBus
    private readChunk: number
    private programTimeoutMs: number
    private eraseTimeoutMs: number
    private pollMs: number

    private constructor(bus: SpiBus, size: number, o: W25qOptions) {
        this.bus = bus
        this.geometry = { sectorSize: W25Q_SECTOR, programUnit: o.programUnit || 1, size: size }
        this.readChunk = o.readChunk || 512
        this.programTimeoutMs = o.programTimeoutMs || 20
        this.eraseTimeoutMs = o.eraseTimeoutMs || 500
        this.pollMs = o.pollMs === undefined ? 1 : o.pollMs
    }

    /** Identify the chip (JEDEC ID) and return a driver sized from its capacity code. */
    static async open(bus: SpiBus, options?: W25qOptions): Promise<W25qFlash> {
        const id = await bus.transfer(Buffer.from([W25Q_CMD_JEDEC_ID]), 3)
        const cap = id[2]
        if (id[0] !== W25Q_MANUFACTURER || cap < 0x0f || cap > 0x19)
            throw new FlashError("bad-device", 0, `JEDEC ID ${id.toString("hex")} is not a W25Q`)
        const size = 1 << cap
        return new W25qFlash(bus, size, options || {})
    }

    async read(address: number, length: number): Promise<Buffer> {
        checkRange(this.geometry, address, length)
        if (length <= this.readChunk) return await this.bus.transfer(cmdAddr(W25Q_CMD_READ, address, 0), length)
        const out = Buffer.alloc(length)
        for (let off = 0; off < length; off += this.readChunk) {
            const n = Math.min(this.readChunk, length - off)
            const part = await this.bus.transfer(cmdAddr(W25Q_CMD_READ, address + off, 0), n)
            out.set(part, off)
        }
        return out
    }

    async program(address: number, data: Buffer): Promise<void> {
        checkProgram(this.geometry, address, data.length)
        let off = 0
        while (off < data.length) {
            const a = address + off
            const n = Math.min(data.length - off, W25Q_PAGE - (a % W25Q_PAGE)) // never wrap a page
            const tx = cmdAddr(W25Q_CMD_PAGE_PROGRAM, a, n)
            for (let i = 0; i < n; i++) tx[4 + i] = data[off + i]
            await this.writeEnable(a)
            await this.bus.transfer(tx, 0)
            await this.waitReady(a, this.programTimeoutMs)
            off += n
        }
    }

    async eraseSector(address: number): Promise<void> {
        checkErase(this.geometry, address)
        await this.writeEnable(address)
        await this.bus.transfer(cmdAddr(W25Q_CMD_SECTOR_ERASE, address, 0), 0)
        await this.waitReady(address, this.eraseTimeoutMs)
    }

    async readStatus(): Promise<number> {
        const st = await this.bus.transfer(Buffer.from([W25Q_CMD_READ_STATUS1]), 1)
        return st[0]
    }

    private async writeEnable(address: number) {
        await this.bus.transfer(Buffer.from([W25Q_CMD_WRITE_ENABLE]), 0)
        const st = await this.readStatus()
        // 0xFF is what a floating MISO reads: no chip, or a chip still busy
        if ((st & W25Q_STATUS_WEL) === 0 || st === 0xff)
            throw new FlashError("bad-device", address, `write enable did not latch (status 0x${hex2(st)})`)
    }

    private async waitReady(address: number, timeoutMs: number) {
        const deadline = ds.millis() + timeoutMs
        for (;;) {
            const st = await this.readStatus()
            if ((st & W25Q_STATUS_BUSY) === 0) return
            if (ds.millis() > deadline) throw new FlashError("timeout", address, `still busy after ${timeoutMs} ms`)
            await ds.sleep(this.pollMs)
        }
    }
}

/** Command byte, 24-bit big-endian address, then `extra` bytes of room for data. */
function cmdAddr(cmd: number, address: number, extra: number): Buffer {
    const b = Buffer.alloc(4 + extra)
    b[0] = cmd
    b[1] = (address >> 16) & 0xff
    b[2] = (address >> 8) & 0xff
    b[3] = address & 0xff
    return b
}

function hex2(n: number): string {
    const d = "0123456789abcdef"
    return d[(n >> 4) & 15] + d[n & 15]
}
