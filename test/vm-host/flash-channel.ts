// Firmware entry for the end-to-end check of the flash channel (test/host/flash-channel.test.ts).
// Runs under plain `devs run` against the simulator host (sim/host): NOT under test/vm, because
// `devs run --test` carries no Jacdac traffic. It opens both Serial channels, says "READY" on the
// modem channel and takes one command line from the host:
//   "GO update <version>": boot (installing 1_0_0 permanently on a blank flash), measure the raw
//       channel, receive an 8 KB image of <version> over RemoteFlash, activate, reboot (a fresh
//       store over a fresh RemoteFlash), confirm, print figures;
//   "GO boot": boot and report what booted.
// Every report line starts with "FC "; the run ends with the sentinel "FC-DONE ...".
import * as ds from "@devicescript/core"
import { openChannels } from "../../src/simulator/channels"
import { JacdacSerialTransport } from "../../src/simulator/jacdac-serial-transport"
import { RemoteFlash } from "../../src/simulator/remote-flash"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { StoreLayout } from "../../src/flash/store-config"
import { crc32Update } from "../../src/lib/crc32"

const SECTOR = 4096
const IMAGE_SIZE = 8192
const BLOCK = 1024
/** Must match test/host/flash-channel.test.ts: meta 0-8K, slot 0 8-16K, slot 1 16-24K, scratch 24-32K. */
const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 4 * SECTOR], slotSize: 2 * SECTOR }
const SCRATCH = 6 * SECTOR

/** The image of a version: a deterministic byte stream (the host computes the same). */
class ImageStream {
    x: number
    constructor(version: string) {
        let s = 7
        for (let i = 0; i < version.length; i++) s = (s * 31 + version.charCodeAt(i)) % 65521
        this.x = s
    }
    fill(b: Buffer, n: number) {
        let x = this.x
        for (let i = 0; i < n; i++) {
            x = (x * 75 + 74) % 65537
            b[i] = x & 0xff
        }
        this.x = x
    }
}

async function imageCrc(version: string): Promise<number> {
    const g = new ImageStream(version)
    const b = Buffer.alloc(BLOCK)
    let crc = 0
    for (let off = 0; off < IMAGE_SIZE; off += BLOCK) {
        g.fill(b, BLOCK)
        crc = crc32Update(crc, b, 0, BLOCK)
        await ds.sleep(0)
    }
    return crc
}

function kbps(bytes: number, ms: number): string {
    const t = Math.max(ms, 1)
    return `${Math.round((bytes * 1000) / 1024 / t * 10) / 10} KB/s, ${Math.round((t * 1024) / bytes)} ms/KB`
}

async function waitCommand(modem: JacdacSerialTransport): Promise<string> {
    let line = ""
    let done = false
    modem.listen({
        data: (chunk: Buffer) => {
            for (let i = 0; i < chunk.length; i++) {
                const c = chunk[i]
                if (c === 10) done = true
                else if (!done && c !== 13) line += String.fromCharCode(c)
            }
        },
        link: (up: boolean) => {},
    })
    for (let k = 0; k < 100 && !done; k++) {
        await modem.write(Buffer.from("READY\n"))
        for (let w = 0; w < 10 && !done; w++) await ds.sleep(50)
    }
    if (!done) throw new Error("no command from the host")
    return line
}

async function bootStore(flash: RemoteFlash): Promise<ImageStore> {
    const s = new ImageStore(flash, LAYOUT)
    await s.mount()
    return s
}

async function receive(s: ImageStore, version: string, permanent: boolean): Promise<number> {
    const crc = await imageCrc(version)
    const t0 = ds.millis()
    await s.startReceive({ version: version, size: IMAGE_SIZE, crc32: crc })
    const g = new ImageStream(version)
    const b = Buffer.alloc(BLOCK)
    for (let off = 0; off < IMAGE_SIZE; off += BLOCK) {
        g.fill(b, BLOCK)
        await s.write(off, b)
        await s.saveJournal(off + BLOCK, off + BLOCK)
        console.log(`FC block ${(off + BLOCK) / BLOCK}/${IMAGE_SIZE / BLOCK} ${version}`)
    }
    const tw = ds.millis() - t0
    const t1 = ds.millis()
    await s.markReady()
    const tr = ds.millis() - t1
    await s.activate(permanent)
    console.log(`FC figures store-receive ${version}: ${IMAGE_SIZE} B in ${tw} ms (${kbps(IMAGE_SIZE, tw)}; erases + programs + journal records)`)
    console.log(`FC figures store-verify ${version}: CRC over ${IMAGE_SIZE} B read in 512 B pieces in ${tr} ms (${kbps(IMAGE_SIZE, tr)})`)
    return tw
}

async function rawFigures(flash: RemoteFlash) {
    const b = Buffer.alloc(4096)
    for (let i = 0; i < b.length; i++) b[i] = (i * 7) & 0xff
    await flash.eraseSector(SCRATCH)
    await flash.eraseSector(SCRATCH + SECTOR)
    let t = ds.millis()
    await flash.program(SCRATCH, b)
    const p4 = ds.millis() - t
    const q = Buffer.alloc(1024)
    t = ds.millis()
    for (let k = 0; k < 4; k++) {
        for (let i = 0; i < q.length; i++) q[i] = (i + k) & 0xff
        await flash.program(SCRATCH + SECTOR + k * 1024, q)
    }
    const p1 = ds.millis() - t
    t = ds.millis()
    const r = await flash.read(SCRATCH, 4096)
    const r2 = await flash.read(SCRATCH + SECTOR, 4096)
    const r4 = ds.millis() - t
    let ok = r2[5] === 5 && r2[3 * 1024 + 5] === 8
    for (let i = 0; i < 4096; i++) if (r[i] !== ((i * 7) & 0xff)) ok = false
    t = ds.millis()
    for (let off = 0; off < 8192; off += 256) await flash.read(SCRATCH + off, 256)
    const r256 = ds.millis() - t
    t = ds.millis()
    await flash.eraseSector(SCRATCH)
    const e1 = ds.millis() - t
    console.log(`FC figures raw-program 4 KB in one request: ${p4} ms (${kbps(4096, p4)})`)
    console.log(`FC figures raw-program 4 x 1 KB requests: ${p1} ms (${kbps(4096, p1)})`)
    console.log(`FC figures raw-read 2 x 4 KB requests: ${r4} ms (${kbps(8192, r4)}) data ${ok ? "ok" : "WRONG"}`)
    console.log(`FC figures raw-read 32 x 256 B requests: ${r256} ms (${kbps(8192, r256)}); erase round trip ${e1} ms`)
    if (!ok) throw new Error("raw read-back differs")
}

async function main() {
    const ch = await openChannels()
    console.log(`FC channels bound in ${ch.bindMs} ms, swapped=${ch.swapped}`)
    const cmd = await waitCommand(ch.modem)
    console.log(`FC command "${cmd}"`)
    const words = cmd.split(" ")
    let flash = await RemoteFlash.open(ch.flash, { timeoutMs: 3000 })
    const g = flash.geometry
    console.log(`FC geometry sector=${g.sectorSize} unit=${g.programUnit} size=${g.size} payload=${flash.payloadLimit()}`)
    let s = await bootStore(flash)
    let booted = ""
    try {
        const b = await s.boot()
        booted = b.version
        console.log(`FC boot ${b.version} slot=${b.slot} trial=${b.trial} rolledBack=${b.rolledBack}`)
    } catch (e) {
        console.log(`FC boot none (${(e as Error).message})`)
    }
    if (words[1] === "update") {
        if (!booted) {
            await receive(s, "1_0_0", true)
            s = await bootStore(flash)
            booted = (await s.boot()).version
            console.log(`FC installed ${booted}`)
        }
        await rawFigures(flash)
        await receive(s, words[2], false)
        // the reboot into the new image: a fresh channel client and store, nothing kept in RAM
        flash = await RemoteFlash.open(ch.flash, { timeoutMs: 3000 })
        s = await bootStore(flash)
        const b = await s.boot()
        console.log(`FC boot ${b.version} slot=${b.slot} trial=${b.trial}`)
        if (b.trial) await s.confirm()
        booted = b.version
        console.log(`FC confirmed ${b.version}; link retries ${flash.stats.retries}`)
    }
    const st = storeState(s)
    console.log(`FC-DONE booted=${booted} slot0=${st.slots[0].state}:${st.slots[0].version} slot1=${st.slots[1].state}:${st.slots[1].version}`)
}

try {
    await main()
} catch (e) {
    console.log(`FC-FAIL ${(e as Error).message}`)
}
