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
//   - 0x03 Read Data, 24-bit address, any length (up to 50 MHz);
//   - parts above 16 MB (W25Q256JV: capacity code 0x19, 32 MB; W25Q512JV: 0x20, 64 MB) cannot be
//     reached with 24-bit addresses: in 3-byte mode the top address byte comes from the Extended
//     Address Register, so 0x03/0x02/0x20 at 16 MB + x would hit x (or, with the register left
//     set, another 16 MB). They take 0x13 Read, 0x12 Page Program and 0x21 Sector Erase with a
//     4-byte address, which need no mode and ignore the register; smaller parts keep 3 bytes.
// Programming can only clear bits; this driver, like every Flash, programs a byte once per erase.

import * as ds from "@devicescript/core"
import { checkErase, checkProgram, checkRange, Flash, FlashError, FlashGeometry, hex32 } from "./flash"

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
export const W25Q_CMD_READ4 = 0x13
export const W25Q_CMD_PAGE_PROGRAM4 = 0x12
export const W25Q_CMD_SECTOR_ERASE4 = 0x21
/** Parts larger than this take 4-byte addresses. */
export const W25Q_3BYTE_LIMIT = 1 << 24
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
    /** Parts above 16 MB: 4-byte addresses and the 0x13/0x12/0x21 commands for every access. */
    private wide: boolean

    private constructor(bus: SpiBus, size: number, o: W25qOptions) {
        this.bus = bus
        this.wide = size > W25Q_3BYTE_LIMIT
        this.geometry = { sectorSize: W25Q_SECTOR, programUnit: o.programUnit || 1, size: size }
        this.readChunk = o.readChunk || 512
        this.programTimeoutMs = o.programTimeoutMs || 20
        this.eraseTimeoutMs = o.eraseTimeoutMs || 500
        this.pollMs = o.pollMs === undefined ? 1 : o.pollMs
    }

    /**
     * Identify the chip (JEDEC ID) and return a driver sized from its capacity code: 0x0F (32 KB)
     * to 0x19 (32 MB) are 2^code bytes, 0x20 is 64 MB (W25Q512JV); anything else is refused.
     */
    static async open(bus: SpiBus, options?: W25qOptions): Promise<W25qFlash> {
        const id = await bus.transfer(Buffer.from([W25Q_CMD_JEDEC_ID]), 3)
        const cap = id[2]
        if (id[0] !== W25Q_MANUFACTURER || !((cap >= 0x0f && cap <= 0x19) || cap === 0x20))
            throw new FlashError("bad-device", 0, `JEDEC ID ${id.toString("hex")} is not a W25Q this driver knows`)
        const size = cap === 0x20 ? 1 << 26 : 1 << cap
        return new W25qFlash(bus, size, options || {})
    }

    async read(address: number, length: number): Promise<Buffer> {
        checkRange(this.geometry, address, length)
        const cmd = this.wide ? W25Q_CMD_READ4 : W25Q_CMD_READ
        if (length <= this.readChunk) return await this.bus.transfer(cmdAddr(cmd, address, 0, this.wide), length)
        const out = Buffer.alloc(length)
        for (let off = 0; off < length; off += this.readChunk) {
            const n = Math.min(this.readChunk, length - off)
            const part = await this.bus.transfer(cmdAddr(cmd, address + off, 0, this.wide), n)
            out.set(part, off)
        }
        return out
    }

    async program(address: number, data: Buffer): Promise<void> {
        checkProgram(this.geometry, address, data.length)
        const head = this.wide ? 5 : 4
        let off = 0
        while (off < data.length) {
            const a = address + off
            const n = Math.min(data.length - off, W25Q_PAGE - (a % W25Q_PAGE)) // never wrap a page
            const tx = cmdAddr(this.wide ? W25Q_CMD_PAGE_PROGRAM4 : W25Q_CMD_PAGE_PROGRAM, a, n, this.wide)
            for (let i = 0; i < n; i++) tx[head + i] = data[off + i]
            await this.writeEnable(a)
            await this.bus.transfer(tx, 0)
            await this.waitReady(a, this.programTimeoutMs)
            off += n
        }
    }

    async eraseSector(address: number): Promise<void> {
        checkErase(this.geometry, address)
        await this.writeEnable(address)
        await this.bus.transfer(cmdAddr(this.wide ? W25Q_CMD_SECTOR_ERASE4 : W25Q_CMD_SECTOR_ERASE, address, 0, this.wide), 0)
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
            throw new FlashError("bad-device", address, `write enable did not latch (status 0x${hex32(st).slice(6)})`) // FlashError's hex32: no second hex function
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

/** Command byte, big-endian address (24-bit, or 32-bit when `wide`), then `extra` bytes of room for data. */
function cmdAddr(cmd: number, address: number, extra: number, wide: boolean): Buffer {
    const a = wide ? 2 : 1
    const b = Buffer.alloc(a + 3 + extra)
    b[0] = cmd
    if (wide) b[1] = (address >>> 24) & 0xff
    b[a] = (address >> 16) & 0xff
    b[a + 1] = (address >> 8) & 0xff
    b[a + 2] = address & 0xff
    return b
}
