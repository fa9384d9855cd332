// Shared helpers of the flash tests: a small layout, deterministic images, and the device-side
// steps of an update (receive in blocks with a journal, verify, activate, boot, confirm).
import { crc32 } from "../../src/lib/crc32"
import { Flash } from "../../src/flash/flash"
import { BlockImageStore, ImageStore } from "../../src/flash/image-store"
import { StoreLayout, StoreOptions } from "../../src/flash/store-config"
import { StoreError } from "../../src/flash/store-port"
import { NorFlash } from "../../sim/flash/nor-flash"
import { W25qModel, W25qModelOptions } from "../../sim/flash/w25q-model"
import { W25qFlash } from "../../src/flash/w25q"
import { createHash } from "node:crypto"

export const SECTOR = 4096
/** Metadata: 2 sectors at 0; slot 0 at 8 KB and slot 1 at 16 KB, 8 KB each. */
export const LAYOUT: StoreLayout = { metaAddress: 0, metaSectors: 2, slotAddress: [2 * SECTOR, 4 * SECTOR], slotSize: 2 * SECTOR }
export const FLASH_SIZE = 6 * SECTOR

export function norFlash(programUnit = 8, extra: Partial<{ endurance: number; file: string }> = {}): NorFlash {
    return new NorFlash({ sectorSize: SECTOR, programUnit, size: FLASH_SIZE, ...extra })
}

/** Node tests skip the real yields (ds.sleep(0) costs a timer tick in Node). */
export const FAST: StoreOptions = { yielder: async () => {}, yieldEvery: 1 << 30 }

/**
 * The store tests and sweeps model the strictest trial setting, one boot (the default is 2, tested
 * on its own), so that every expected rollback is exactly one boot away.
 */
export function newStore(flash: Flash, opts: StoreOptions = {}): ImageStore {
    return new ImageStore(flash, LAYOUT, { ...FAST, maxTrialBoots: 1, ...opts })
}

export interface Image {
    version: string
    bytes: Buffer
    crc: number
    sha256: string
    md5: string
}

/** A deterministic image; sizes that are not a multiple of the unit exercise the padded tail. */
export function makeImage(version: string, size: number, seed: number): Image {
    const b = Buffer.alloc(size)
    let x = seed * 2654435761 + 1
    for (let i = 0; i < size; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0
        b[i] = x >>> 24
    }
    return {
        version,
        bytes: b,
        crc: crc32(b),
        sha256: createHash("sha256").update(b).digest("hex"),
        md5: createHash("md5").update(b).digest("hex"),
    }
}

/**
 * Caller-side verification (an agent that checks the slot itself): SHA-256 over the slot's
 * bytes, then markReady() when it matches, else markBad() and the store's typed error.
 */
export async function markVerified(store: BlockImageStore, img: Image, slot: number) {
    const b = await store.read(slot, 0, img.bytes.length)
    if (createHash("sha256").update(b).digest("hex") === img.sha256) return await store.markReady()
    await store.markBad()
    throw new StoreError("digest-mismatch", "SHA-256 of the slot")
}

export interface ReceiveOpts {
    block?: number
    /** Save the journal after every n blocks (0: never). */
    journalEvery?: number
    /** Called once the "receiving" record is written. */
    onStarted?: () => void
}

/** Receive a whole image into the inactive slot and mark it ready. */
export async function receive(store: BlockImageStore, img: Image, o: ReceiveOpts = {}): Promise<number> {
    const block = o.block ?? 1024
    const every = o.journalEvery ?? 1
    const slot = await store.startReceive({ version: img.version, size: img.bytes.length, sha256: img.sha256, md5: img.md5, crc32: img.crc })
    if (o.onStarted) o.onStarted()
    let n = 0
    for (let off = 0; off < img.bytes.length; off += block) {
        const end = Math.min(off + block, img.bytes.length)
        await store.write(off, img.bytes.subarray(off, end))
        n++
        if (every > 0 && n % every === 0) await store.saveJournal(end, end, midstateFor(end))
    }
    await markVerified(store, img, slot)
    return slot
}

/** A stand-in digest midstate of realistic size (SHA-256 + MD5 contexts ≈ 192 bytes). */
export function midstateFor(n: number): Buffer {
    const b = Buffer.alloc(192)
    for (let i = 0; i < b.length; i++) b[i] = (n * 31 + i * 7) & 0xff
    return b
}

/** A fresh device with `img` installed permanently in slot 0, booted. */
export async function provision(flash: Flash, img: Image, opts: StoreOptions = {}): Promise<ImageStore> {
    const s = newStore(flash, opts)
    await s.mount()
    await receive(s, img)
    await s.activate(true)
    const s2 = newStore(flash, opts)
    await s2.mount()
    await s2.boot()
    return s2
}

/** Power-cycle: a new store object over the same flash (RAM state lost), mounted and booted. */
export async function reboot(flash: Flash, opts: StoreOptions = {}) {
    const s = newStore(flash, opts)
    await s.mount()
    const r = await s.boot()
    return { store: s, boot: r }
}

/** A flash under test: what the store uses, and the NOR model underneath for cuts and inspection. */
export interface TestDevice {
    name: string
    nor: NorFlash
    flash: Flash
}

export function norDevice(programUnit = 8): TestDevice {
    const nor = norFlash(programUnit)
    return { name: `NOR unit ${programUnit}`, nor, flash: nor }
}

/** The W25Q driver over the command-level W25Q model (byte-programmable NOR, 32 KB part). */
export async function w25qDevice(programUnit = 1, model: W25qModelOptions = {}): Promise<TestDevice & { chip: W25qModel }> {
    const nor = new NorFlash({ sectorSize: SECTOR, programUnit: 1, size: 32768 })
    const chip = new W25qModel(nor, model)
    const flash = await W25qFlash.open(chip, { programUnit, pollMs: 0 })
    return { name: `W25Q driver unit ${programUnit}`, nor, flash, chip }
}

/** The same store tests run on both backends. */
export const BACKENDS: [string, () => Promise<TestDevice>][] = [
    ["NOR model", async () => norDevice(8)],
    ["W25Q driver + W25Q model", async () => w25qDevice(8)],
]
