// Command-level model of a Winbond W25Q serial NOR flash, on top of the NOR model (nor-flash.ts),
// so that power cuts, torn writes, wear and file persistence come from the same place. It
// implements the SpiBus the driver uses, one transaction per chip-select assertion:
//   0x9F JEDEC ID (EF 40 <capacity code>: log2 size up to 32 MB, 0x20 for 64 MB), 0x05 status-1
//   (BUSY, WEL), 0x06 write enable, 0x04 write disable, 0x03 read, 0x02 page program (wraps inside
//   the 256-byte page, like the chip), 0x20 4 KB sector erase, all with 3-byte addresses; and, as
//   the 32 MB and 64 MB parts have them, 0x13 read, 0x12 page program and 0x21 sector erase with
//   4-byte addresses. The 3-byte commands reach the lowest 16 MB only (the chip's Extended Address
//   Register at its power-up value 0), so on a 32 MB part 16 MB + x aliases x, as on the chip.
//   Program and erase need WEL and clear it; while BUSY the chip ignores every
//   instruction but status reads (a read returns 0xFF here). Stricter than the chip in one way: a
//   byte may be programmed once per erase (the NOR model's rule; the image store never does more).
import { SpiBus } from "../../src/flash/w25q"
import { NorFlash } from "./nor-flash"

export interface W25qModelOptions {
    /** Status reads that still show BUSY after a program or erase. Default 0 (done at once). */
    busyPolls?: number
    /** Fault: BUSY never clears. */
    stuckBusy?: boolean
    /** Fault: write enable is ignored (WP# pin, dead chip). */
    ignoreWriteEnable?: boolean
    /** Fault: the chip is absent; MISO floats high. */
    absent?: boolean
}

export class W25qModel implements SpiBus {
    readonly nor: NorFlash
    readonly opts: W25qModelOptions
    private wel = false
    private busyLeft = 0
    /** Transactions by command byte, for tests. */
    readonly commands: Record<number, number> = {}

    constructor(nor: NorFlash, opts: W25qModelOptions = {}) {
        const g = nor.geometry
        if (g.sectorSize !== 4096 || g.programUnit !== 1 || (g.size & (g.size - 1)) !== 0)
            throw new Error("a W25Q is byte-programmable with 4 KB sectors and a power-of-two size")
        this.nor = nor
        this.opts = opts
    }

    async transfer(tx: Buffer, rxLength: number): Promise<Buffer> {
        const rx = Buffer.alloc(rxLength, 0xff)
        if (this.opts.absent || tx.length === 0) return rx
        const cmd = tx[0]
        this.commands[cmd] = (this.commands[cmd] || 0) + 1
        if (cmd === 0x05) {
            const busy = this.opts.stuckBusy || this.busyLeft > 0
            if (this.busyLeft > 0) this.busyLeft--
            rx.fill((busy ? 1 : 0) | (this.wel ? 2 : 0))
            return rx
        }
        if (this.opts.stuckBusy || this.busyLeft > 0) return rx // ignored while busy
        const wide = cmd === 0x13 || cmd === 0x12 || cmd === 0x21
        const head = wide ? 5 : 4
        const size = this.nor.geometry.size
        // address bits above the capacity are ignored, as on the chip
        const addr = (wide ? tx.readUInt32BE(1) : (tx[1] << 16) | (tx[2] << 8) | tx[3]) & (size - 1)
        switch (cmd) {
            case 0x9f: {
                const cap = size === 1 << 26 ? 0x20 : Math.log2(size)
                Buffer.from([0xef, 0x40, cap]).copy(rx, 0, 0, Math.min(3, rxLength))
                return rx
            }
            case 0x06:
                if (!this.opts.ignoreWriteEnable) this.wel = true
                return rx
            case 0x04:
                this.wel = false
                return rx
            case 0x03:
            case 0x13: {
                const n = Math.min(rxLength, size - addr)
                ;(await this.nor.read(addr, n)).copy(rx, 0)
                return rx
            }
            case 0x02:
            case 0x12: {
                if (!this.wel || tx.length < head + 1) return rx
                this.wel = false
                const data = tx.subarray(head)
                const pageStart = addr & ~0xff
                const first = Math.min(data.length, 256 - (addr - pageStart))
                // the chip keeps the last 256 bytes sent and wraps within the page
                await this.nor.program(addr, Buffer.from(data.subarray(0, first)))
                if (data.length > first) await this.nor.program(pageStart, Buffer.from(data.subarray(first, Math.min(data.length, 256))))
                this.busyLeft = this.opts.busyPolls ?? 0
                return rx
            }
            case 0x20:
            case 0x21:
                if (!this.wel) return rx
                this.wel = false
                await this.nor.eraseSector(addr & ~0xfff)
                this.busyLeft = this.opts.busyPolls ?? 0
                return rx
            default:
                return rx
        }
    }
}
