// The SOTA engine in DeviceScript's own VM: a whole upgrade (offer, download with the block
// pipeline, verification, activation, reboot, self-test, confirm, report) against a scripted
// module over the in-memory pipe and the portable RAM flash. Proves the engine runs within
// the VM's opcode and heap limits, not only under vitest.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { ImageStore } from "../../src/flash/image-store"
import { patternByte } from "./lib/qiot-script"
import { factoryFlash, LAYOUT, upgradeFlow } from "./lib/upgrade-flow"

describe("SOTA engine in the VM", () => {
    test("1_0_0 → 2_0_0: download, verify, activate, reboot, self-test, confirm, 10705", async () => {
        const flash = await factoryFlash()
        const r = await upgradeFlow(flash)
        console.log(`8 KB downloaded, verified and activated in ${r.downloadMs} ms (${r.blocks} blocks)`)
        expect(r.rebooted).toBe(true)
        expect(r.module.payloadBytes).toBe(8192)
        expect(r.second.version).toBe("2_0_0")
        expect(r.second.trial).toBe("confirmed")
        expect(r.second.platform).toBe("done")
        // the slot holds exactly the package (compared 1 KB at a time: the RAM flash fills the heap)
        const check = new ImageStore(flash, LAYOUT)
        await check.mount()
        let same = true
        for (let off = 0; off < 8192; off += 1024) {
            const part = await check.read(1, off, 1024)
            for (let i = 0; i < 1024; i++) if (part[i] !== patternByte(off + i)) same = false
            await ds.sleep(0)
        }
        expect(same).toBe(true)
        expect(r.states).toBe(
            "booting,registering,reported,requesting,offered,downloading,verifying,activating,rebooting,booting,registering,self-test,confirmed,reported"
        )
    })
})
