// The security counter is MCUboot's: a u32 (SEC_CNT, TLV 0x50), and imgtool's `--security-counter
// auto` makes it (major << 24) + (minor << 16) + revision, so 1.0.0 → 16 777 216. The store must
// keep all 32 bits: with 16 (saturating at 65 535) a confirmed 1.0.0 would leave every older
// release with an auto counter ≥ 65 535 passing, a rollback hole. Here an image with counter 2^24,
// signed by imgtool (`auto`) and by our packer (the same bytes), is confirmed; then images with
// counters 2^24 − 1 (imgtool, 0.255.65535 auto), 65 536 and 65 535 are refused as counter-too-low
// both by the agent's check (SignedImages, before the slot is marked ready) and by the simulator's
// boot stage (before a launch), the running image byte-identical; the raised counter survives a
// remount, and a power cut at every operation of the confirm that raises it leaves either the old
// counter (still on trial) or the new one (confirmed), never a mix or 0.
import { describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ImageStore, storeState } from "../../src/flash/image-store"
import { BadWhy } from "../../src/flash/store-port"
import { crc32 } from "../../src/lib/crc32"
import { TRUSTED_KEYS } from "../../src/image/trusted-keys"
import { parseVersion } from "../../src/image/version"
import { SignedImages } from "../../src/sota/signed-images"
import { SotaError } from "../../src/sota/reasons"
import { DEVS_MAGIC, imageSecurityCounter, runBootStage } from "../../sim/boot/boot-stage"
import { devKey } from "../../sim/boot/firmware-image"
import { PowerCut } from "../../sim/flash/nor-flash"
import type { NorFlash } from "../../sim/flash/nor-flash"
import { packSigned } from "../../tools/image/keys"
import { imgtool } from "../image/imgtool"
import { LAYOUT, midstateFor, newStore, norFlash, receive } from "../flash/fixtures"
import type { Image } from "../flash/fixtures"

const AUTO_1_0_0 = 2 ** 24
const noYield = async () => {}
const HEADER = 0x200 // imgtool --pad-header; ours the same, so the two are byte for byte comparable

/** A body the simulator's boot stage takes for a program (it starts with the .devs magic). */
function body(seed: number): Buffer {
    const b = Buffer.alloc(3000)
    DEVS_MAGIC.copy(b)
    for (let i = DEVS_MAGIC.length; i < b.length; i++) b[i] = (i * 131 + seed * 17) & 0xff
    return b
}

/** An image as the store's fixtures take it; `version` is the store's (QuecThing) form of the header's. */
function asImage(version: string, bytes: Buffer): Image {
    return {
        version,
        bytes,
        crc: crc32(bytes),
        sha256: createHash("sha256").update(bytes).digest("hex"),
        md5: createHash("md5").update(bytes).digest("hex"),
    }
}

async function ours(version: string, counter: number, seed: number): Promise<Image> {
    const packed = await packSigned(body(seed), { version: parseVersion(version), headerSize: HEADER, securityCounter: counter, yielder: noYield }, devKey())
    return asImage(version, packed.image)
}

/** `imgtool sign --key <the TEST key> --version <v> --security-counter auto`. */
function byImgtool(version: string, seed: number): Image {
    const dir = mkdtempSync(join(tmpdir(), "counter32-"))
    try {
        writeFileSync(join(dir, "body.bin"), body(seed))
        const out = join(dir, "signed.img")
        const key = new URL("../../keys/dev-ed25519.TEST-KEY.pem", import.meta.url).pathname
        const r = imgtool(["sign", "--key", key, "--version", version.split("_").join("."), "--security-counter", "auto", "--header-size", `${HEADER}`, "--pad-header", "-S", "0x20000", join(dir, "body.bin"), out])
        expect(r.status, r.out).toBe(0)
        return asImage(version, readFileSync(out))
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

const stage = (f: NorFlash) => runBootStage(f, LAYOUT, { keys: TRUSTED_KEYS })

/** The program's store after the boot stage: it learns the slot the stage chose, counts nothing. */
async function mounted(f: NorFlash): Promise<ImageStore> {
    const s = newStore(f, { externalBoot: true, allowDowngrade: true })
    await s.mount()
    return s
}

/** Receive `img` into the slot that is not running, with a journal record per block; not marked ready yet. */
async function load(s: ImageStore, img: Image, block = 1024) {
    await s.startReceive({ version: img.version, size: img.bytes.length, sha256: img.sha256, md5: img.md5, crc32: img.crc })
    for (let off = 0; off < img.bytes.length; off += block) {
        const end = Math.min(off + block, img.bytes.length)
        await s.write(off, img.bytes.subarray(off, end))
        await s.saveJournal(end, end, midstateFor(end))
    }
}

/** The factory image (counter 1) confirmed in slot 0, `next` received, checked as the agent does, and activated on trial. */
async function trialOf(next: Image, block = 1024): Promise<NorFlash> {
    const f = norFlash()
    const s = await mounted(f)
    await receive(s, await ours("0_9_0", 1, 1))
    await s.activate(true, 1)
    await stage(f)
    const s2 = await mounted(f)
    await s2.boot()
    const agent = new SignedImages(TRUSTED_KEYS)
    await load(s2, next, block)
    await agent.check(s2, next.bytes.length, noYield) // the agent's check before the slot is marked ready
    await s2.markReady()
    await s2.activate()
    return f
}

/** Boot the trial through the simulator's boot stage and confirm it with its own SEC_CNT, as the agent does. */
async function bootAndConfirm(f: NorFlash): Promise<ImageStore> {
    const l = await stage(f)
    expect(l).toMatchObject({ slot: 1, trial: true, refused: [] })
    const s = await mounted(f)
    await s.boot()
    expect(await s.confirm(await new SignedImages(TRUSTED_KEYS).runningCounter(s))).toBe(true)
    return s
}

async function agentReason(s: ImageStore, img: Image): Promise<string> {
    try {
        await new SignedImages(TRUSTED_KEYS).check(s, img.bytes.length, noYield)
        return "ok"
    } catch (e) {
        if (e instanceof SotaError) return e.reason
        throw e
    }
}

describe("a 32-bit security counter (imgtool's auto counters)", () => {
    it("imgtool sign --security-counter auto at 1.0.0 gives 2^24, and our packer signs the same bytes", async () => {
        const theirs = byImgtool("1_0_0", 2)
        expect(await imageSecurityCounter(theirs.bytes)).toBe(AUTO_1_0_0)
        expect((await ours("1_0_0", AUTO_1_0_0, 2)).bytes.equals(theirs.bytes)).toBe(true)
        expect(await imageSecurityCounter(byImgtool("0_255_65535", 3).bytes)).toBe(AUTO_1_0_0 - 1)
    })

    for (const signer of ["imgtool", "ours"] as const)
        it(`confirming a counter of 2^24 (${signer}) keeps it whole: 2^24 − 1, 65 536 and 65 535 are refused (agent and boot stage), the running image byte-identical`, async () => {
            const v1 = signer === "imgtool" ? byImgtool("1_0_0", 2) : await ours("1_0_0", AUTO_1_0_0, 2)
            const f = await trialOf(v1)
            await bootAndConfirm(f)
            const s = await mounted(f)
            expect(s.securityCounter()).toBe(AUTO_1_0_0)
            expect((await mounted(f)).securityCounter()).toBe(AUTO_1_0_0) // and again: a remount reads it back
            const running = f.peek(LAYOUT.slotAddress[1], v1.bytes.length)
            expect(running.equals(v1.bytes)).toBe(true)

            const older = [byImgtool("0_255_65535", 4), await ours("1_0_1", 65536, 5), await ours("1_0_2", 65535, 6)]
            for (const img of older) {
                // the agent: the receiving slot is checked with the store's counter as the minimum
                const a = await mounted(f)
                await a.boot()
                await load(a, img)
                expect(await agentReason(a, img), img.version).toBe("counter-too-low")
                await a.markBad()
                // the boot stage: the same image activated behind the agent's back is refused before it runs
                const b = await mounted(f)
                await b.boot()
                await receive(b, img)
                await b.activate()
                const l = await stage(f)
                expect(l, img.version).toMatchObject({ slot: 1, version: "1_0_0", securityCounter: AUTO_1_0_0, rolledBack: true, why: BadWhy.ImageCheck })
                expect(l.refused[0].reason).toContain("counter-too-low")
                expect(f.peek(LAYOUT.slotAddress[1], v1.bytes.length).equals(running)).toBe(true)
                expect((await mounted(f)).securityCounter()).toBe(AUTO_1_0_0)
            }
        })

    it("a power cut at every operation of the confirm that raises 1 → 2^24: (trial, 1) or (confirmed, 2^24), never a mix or 0", async () => {
        const v1 = await ours("1_0_0", AUTO_1_0_0, 2)
        let points = 0
        let widest = 0
        // the receive's journal records fill the log to different depths, so some confirms open a sector
        for (const block of [256, 384, 512, 640, 768, 896, 1024, 1536, 3600]) {
            const dry = await trialOf(v1, block)
            await stage(dry)
            const ds = await mounted(dry)
            await ds.boot()
            dry.resetCounters()
            await ds.confirm(AUTO_1_0_0)
            const ops = dry.ops
            widest = Math.max(widest, ops)
            for (const kind of ["before", "after", "torn"] as const)
                for (let op = 1; op <= ops; op++) {
                    const f = await trialOf(v1, block)
                    await stage(f)
                    const s = await mounted(f)
                    await s.boot()
                    f.armCut({ op, kind, at: 0.5, seed: op * 7 + block })
                    let cut = false
                    try {
                        await s.confirm(AUTO_1_0_0)
                    } catch (e) {
                        if (!(e instanceof PowerCut)) throw e
                        cut = true
                    }
                    f.disarm()
                    f.powerOn()
                    expect(cut, `${block}/${kind}/${op}`).toBe(true)
                    points++
                    for (let again = 0; again < 2; again++) {
                        const st = storeState((await mounted(f)))
                        const pair = [st.slots[1].state, st.counter]
                        if (pair[0] === "confirmed") expect(pair, `${block}/${kind}/${op}`).toEqual(["confirmed", AUTO_1_0_0])
                        else expect(pair, `${block}/${kind}/${op}`).toEqual(["trial", 1])
                    }
                }
        }
        expect(widest).toBeGreaterThan(1) // at least one confirm erased a sector before its record
        expect(points).toBeGreaterThan(20)
    })
})
