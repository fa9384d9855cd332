// The VM side of bench/delta-flow-vm.ts: a whole delta upgrade's download and apply inside the
// VM, as the agent runs it (SotaEngine with PackageRebuilder: the module's blocks → DeltaApplier →
// the receiving slot, checkpoints in the journal, the rebuilt image's own checks), or the same
// target image as a full package, against a scripted module that serves the package from the
// fixture's pieces (bench/vm/delta-flow-fixture.gen.ts, written by the bench). The factory image
// (a real MCUboot image: a delta checks its base) is on a RAM flash of 6 sectors, two 8 KB slots.
import * as ds from "@devicescript/core"
import { AtClient } from "../../src/at/client"
import { createPipe, PipeEnd } from "../../src/link/pipe"
import { RamFlash } from "../../src/flash/ram-flash"
import { ImageStore } from "../../src/flash/image-store"
import { StoreLayout } from "../../src/flash/store-config"
import { SotaEngine } from "../../src/sota/engine"
import { PackageRebuilder } from "../../src/sota/rebuild"
import { takeCommands } from "../../test/vm/lib/command-lines"

const SECTOR = 4096
const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 4 * SECTOR], slotSize: 2 * SECTOR }
const PACKET = 232

export interface FlowPackage {
    source: string
    pieces: Buffer[]
    size: number
    md5: string
    sha256: string
    crc: number
}

class Reboot extends Error {}

/** Bytes [off, off + n) of a package kept in 16 KB pieces. */
function byteAt(pieces: Buffer[], i: number): number {
    return pieces[i >> 14][i & 16383]
}

/** A scripted module: the SOTA dialogue for one package (a delta when it has a source). */
class Module {
    end: PipeEnd
    p: FlowPackage
    rx = ""
    packet = Buffer.alloc(PACKET)
    sendStart = 0
    sendLen = 0
    constructor(end: PipeEnd, p: FlowPackage) {
        this.end = end
        this.p = p
        const self = this
        end.listen({ data: (chunk: Buffer) => self.onData(chunk), link: (up: boolean) => {} })
    }
    say(text: string) {
        const b = Buffer.from(text)
        for (let off = 0; off < b.length; off += PACKET) this.end.send(b.slice(off, Math.min(b.length, off + PACKET)))
    }
    onData(chunk: Buffer) {
        this.rx = takeCommands(this.rx, chunk, this)
    }
    answer(cmd: string) {
        const p = this.p
        if (cmd === "AT" || cmd === "ATE0") return this.say("\r\nOK\r\n")
        if (cmd === "AT+QIOTSTATE?") return this.say("\r\n+QIOTSTATE: 8\r\n\r\nOK\r\n")
        if (cmd === "AT+CSQ") return this.say("\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
        if (cmd.startsWith("AT+QIOTMCUVER=")) return this.say("\r\nOK\r\n")
        if (cmd === "AT+QIOTOTAREQ=1") return this.say(`\r\nOK\r\n\r\n+QIOTEVT: 7,10700,"STM32","${p.source}","2_0_0",30,-113,${p.size}\r\n`)
        if (cmd === "AT+QIOTUPDATE=1")
            return this.say(
                `\r\nOK\r\n\r\n+QIOTEVT: 7,10701,"STM32",${p.size},"${p.md5}",${p.crc},"${p.sha256}"\r\n\r\n+QIOTEVT: 7,10702\r\n\r\n+QIOTEVT: 7,10703,"STM32",${p.size},0,${p.size}\r\n`
            )
        if (cmd === "AT+QIOTUPDATE=3") return this.say("\r\nOK\r\n\r\n+QIOTEVT: 7,10704\r\n")
        if (cmd === "AT+QIOTOTARD=?") return this.say("\r\n+QIOTOTARD: 0,(1-1024)\r\n\r\nOK\r\n")
        if (cmd.startsWith("AT+QIOTOTARD=")) {
            const args = cmd.slice(13).split(",")
            const start = parseInt(args[0])
            const n = Math.min(parseInt(args[1]), p.size - start)
            if (!(start >= 0 && n > 0) || this.sendLen > 0) return this.say("\r\nERROR\r\n")
            this.say(`\r\n+QIOTOTARD: ${start},${n}\r\n`)
            this.sendStart = start
            this.sendLen = n
            const self = this
            setTimeout(async () => await self.sendBlock(), 0)
            return
        }
        this.say("\r\nERROR\r\n")
    }
    async sendBlock() {
        const start = this.sendStart
        const n = this.sendLen
        for (let off = 0; off < n; off += PACKET) {
            const len = Math.min(PACKET, n - off)
            for (let i = 0; i < len; i++) this.packet[i] = byteAt(this.p.pieces, start + off + i)
            this.end.send(len === PACKET ? this.packet : this.packet.slice(0, len))
            await ds.sleep(0)
        }
        this.sendLen = 0
        this.say("\r\nOK\r\n")
    }
}

/** The RAM flash with the factory image (its pieces) installed and confirmed. */
export async function factoryFlash(image: Buffer[], size: number): Promise<RamFlash> {
    const flash = new RamFlash({ sectorSize: SECTOR, programUnit: 8, size: 6 * SECTOR })
    const s = new ImageStore(flash, LAYOUT)
    await s.mount()
    await s.startReceive({ version: "1_0_0", size })
    for (let off = 0; off < size; off += 1024) {
        const n = Math.min(1024, size - off)
        const b = Buffer.alloc(Math.ceil(n / 8) * 8)
        for (let i = 0; i < b.length; i++) b[i] = i < n ? byteAt(image, off + i) : 0xff
        await s.write(off, b)
    }
    await s.markReady()
    await s.activate(true)
    return flash
}

/** The MCU's end of a pipe to the scripted module serving `p` (made before the ballast: the module is another chip). */
export function moduleLink(p: FlowPackage): PipeEnd {
    const ends = createPipe()
    new Module(ends[1], p)
    return ends[0]
}

function engine(mcu: PipeEnd, flash: RamFlash): SotaEngine {
    return new SotaEngine(
        new AtClient(mcu, { quietMs: 20 }),
        new ImageStore(flash, LAYOUT),
        {
            reboot: async () => {
                throw new Reboot("reboot")
            },
            battery: async () => 100,
        },
        { component: "STM32", offerTimeoutMs: 2000, resultTimeoutMs: 2000, rebuilder: new PackageRebuilder() }
    )
}

/** Start-up alone: true when the factory version runs. */
export async function startup(mcu: PipeEnd, flash: RamFlash): Promise<boolean> {
    return (await engine(mcu, flash).start()).version === "1_0_0"
}

/** Start-up, then the package's download (and its apply, for a delta) up to the reboot: true when it got there. */
export async function upgrade(mcu: PipeEnd, flash: RamFlash): Promise<boolean> {
    const e = engine(mcu, flash)
    await e.start()
    try {
        await e.checkForUpdate()
    } catch (err) {
        return err instanceof Reboot
    }
    return false
}
