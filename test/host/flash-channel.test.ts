// End to end through the real DeviceScript VM: `devs devtools` hub + jacdac-ts host with the NOR
// model (persisted to a temp file) behind the flash channel, and `devs run` of
// test/vm-host/flash-channel.ts, which opens both channels and runs the image store over
// RemoteFlash. Checks the NOR contents from Node after each run, kills the VM in the middle of a
// receive (a power cut of the MCU) and shows the flash survived: the relaunched VM boots the old
// image, then finishes the update. Prints the throughput the VM measured. ~40 s.
// One hub per machine: the test fails at once, with a clear message, if ports 8081-8083 are taken.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { StoreLayout } from "../../src/flash/store-config"
import { FlashServer } from "../../sim/flash/flash-server"
import { NorFlash } from "../../sim/flash/nor-flash"
import { Hub } from "../../sim/host/hub"
import { portTaken } from "../../sim/host/processes"
import { JacdacIo } from "../../sim/host/jacdac-io"
import { buildDevs, Vm } from "../../sim/host/vm"

const root = new URL("../..", import.meta.url).pathname
const SECTOR = 4096
const IMAGE_SIZE = 8192
/** Must match test/vm-host/flash-channel.ts. */
const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 4 * SECTOR], slotSize: 2 * SECTOR }

/** The firmware's ImageStream, in Node. */
function image(version: string): Buffer {
    let s = 7
    for (let i = 0; i < version.length; i++) s = (s * 31 + version.charCodeAt(i)) % 65521
    const b = Buffer.alloc(IMAGE_SIZE)
    let x = s
    for (let i = 0; i < IMAGE_SIZE; i++) {
        x = (x * 75 + 74) % 65537
        b[i] = x & 0xff
    }
    return b
}

/** The store state as the firmware would mount it, read from the NOR model directly (no writes). */
async function mounted(nor: NorFlash) {
    const s = new ImageStore(nor, LAYOUT, { yielder: async () => {}, yieldEvery: 1 << 30 })
    await s.mount()
    return { st: storeState(s), journal: s.journal() }
}

describe("the hub", () => {
    it("refuses to start when one of its ports is taken, and says which", async () => {
        const blocker = createServer()
        await new Promise<void>((resolve, reject) => blocker.once("error", reject).listen(8083, "127.0.0.1", () => resolve()))
        try {
            await expect(Hub.start({ root })).rejects.toThrow(/port 8083 already taken/)
            expect(await portTaken(8081)).toBe(false) // nothing was started
        } finally {
            await new Promise(r => blocker.close(r))
        }
    })
})

describe("flash channel through the DeviceScript VM", () => {
    let dir = ""
    let hub: Hub = null
    let io: JacdacIo = null
    let vm: Vm = null
    let nor: NorFlash = null
    let server: FlashServer = null
    let command = ""
    const log: string[] = []

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "flash-channel-"))
        const devs = join(dir, "flash-channel.devs")
        await buildDevs(root, "test/vm-host/flash-channel.ts", devs)
        nor = new NorFlash({ sectorSize: SECTOR, programUnit: 8, size: 8 * SECTOR, file: join(dir, "nor.bin") })
        hub = await Hub.start({ root })
        // FLASH_CHANNEL_PIN=1: also pin the roles through the VM's Role Manager (§10 Q1 option 3)
        io = await JacdacIo.start({ log: l => log.push(l), pin: process.env.FLASH_CHANNEL_PIN === "1" })
        server = new FlashServer(nor, io.flash, { log: l => log.push(l) })
        let rx = ""
        io.modem.listen({
            data: chunk => {
                rx += chunk.toString("latin1")
                let nl: number
                while ((nl = rx.indexOf("\n")) >= 0) {
                    const line = rx.slice(0, nl)
                    rx = rx.slice(nl + 1)
                    if (line === "READY") void io.modem.write(Buffer.from(`GO ${command}\n`))
                }
            },
            link: () => {},
        })
        vm = new Vm(devs, { root, onLine: l => log.push(`vm: ${l}`) })
    }, 60_000)

    afterAll(async () => {
        // everything we started, by process id, whatever happened
        await vm?.stop().catch(() => {})
        await io?.stop().catch(() => {})
        await hub?.stop().catch(e => console.log(String(e)))
        nor?.close()
        if (dir) rmSync(dir, { recursive: true, force: true })
    }, 30_000)

    async function run(cmd: string, until: string, timeoutMs = 60_000) {
        command = cmd
        vm.start()
        const failed = vm.waitFor("FC-FAIL", timeoutMs + 1000).then(l => {
            throw new Error(`the firmware failed: ${l}`)
        })
        failed.catch(() => {})
        try {
            return await Promise.race([vm.waitFor(until, timeoutMs), failed])
        } catch (e) {
            console.log(log.slice(-40).join("\n"))
            throw e
        }
    }

    it("installs, updates, boots and confirms over the channel; a VM killed mid-receive leaves the flash intact", async () => {
        const v1 = image("1_0_0")
        const v2 = image("2_0_0")
        const v3 = image("3_0_0")

        // run 1: blank flash → install 1_0_0, update to 2_0_0, reboot, confirm; figures
        const t0 = Date.now()
        const done1 = await run("update 2_0_0", "FC-DONE")
        const lines1 = vm.lines.slice()
        await vm.stop()
        expect(lines1.join("\n")).not.toContain("FC-FAIL")
        expect(done1).toBe("FC-DONE booted=2_0_0 slot0=confirmed:1_0_0 slot1=confirmed:2_0_0")
        expect(lines1).toContain("FC boot 2_0_0 slot=1 trial=true")
        const figures = lines1.filter(l => l.startsWith("FC figures") || l.startsWith("FC channels") || l.startsWith("FC geometry"))
        console.log(`run 1 (${Date.now() - t0} ms):\n  ${figures.join("\n  ")}`)
        // the host reads the NOR model itself
        expect(nor.peek(LAYOUT.slotAddress[0], IMAGE_SIZE).equals(v1)).toBe(true)
        expect(nor.peek(LAYOUT.slotAddress[1], IMAGE_SIZE).equals(v2)).toBe(true)
        let m = await mounted(nor)
        expect(m.st.active).toBe(1)
        expect(m.st.slots[1]).toMatchObject({ state: "confirmed", version: "2_0_0", size: IMAGE_SIZE })
        expect(m.st.slots[0]).toMatchObject({ state: "confirmed", version: "1_0_0" })

        // run 2: update to 3_0_0, power cut (SIGKILL) after the 4th of 8 blocks
        await run("update 3_0_0", "FC block 4/8 3_0_0")
        await vm.kill()
        const afterKill = nor.snapshot()
        m = await mounted(nor)
        expect(m.st.active).toBe(1)
        expect(m.st.slots[1]).toMatchObject({ state: "confirmed", version: "2_0_0" })
        expect(m.st.slots[0]).toMatchObject({ state: "receiving", version: "3_0_0" })
        expect(m.journal.written).toBeGreaterThanOrEqual(4096)
        expect(nor.peek(LAYOUT.slotAddress[0], 4096).equals(v3.subarray(0, 4096))).toBe(true)
        expect(nor.peek(LAYOUT.slotAddress[1], IMAGE_SIZE).equals(v2)).toBe(true)
        console.log(`run 2: killed the VM after "FC block 4/8"; journal written=${m.journal.written}`)

        // run 3: the relaunched VM boots the old image
        const done3 = await run("boot", "FC-DONE")
        await vm.stop()
        expect(vm.lines).toContain("FC boot 2_0_0 slot=1 trial=false rolledBack=false")
        expect(done3).toBe("FC-DONE booted=2_0_0 slot0=receiving:3_0_0 slot1=confirmed:2_0_0")
        expect(Buffer.from(nor.data).equals(Buffer.from(afterKill.data))).toBe(true) // a plain boot writes nothing

        // run 4: and it can still take the update
        const done4 = await run("update 3_0_0", "FC-DONE")
        await vm.stop()
        expect(done4).toBe("FC-DONE booted=3_0_0 slot0=confirmed:3_0_0 slot1=confirmed:2_0_0")
        expect(nor.peek(LAYOUT.slotAddress[0], IMAGE_SIZE).equals(v3)).toBe(true)
        console.log(`flash server: ${JSON.stringify(server.stats)}; VM opens of the flash channel: ${io.flash.opens}`)
        console.log(log.filter(l => l.startsWith("jacdac:")).join("\n"))
        console.log(`flash channel e2e: 4 VM runs, 1 kill mid-receive, flash survived`)
    }, 180_000)
})
