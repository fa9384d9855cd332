// The simulator's boot stage: the role MCUboot plays on a chip, run by the host at every power-on
// and reset before the program starts (both engines). It mounts the image store from the NOR
// model, runs the store's boot decision (the pure decideBoot of src/flash/boot-decision.ts, via
// ImageStore.boot: trial accounting, rollback) and records it BEFORE the image runs, so a trial
// boot is counted even if the image never gets as far as a line of code. The chosen slot must
// pass, besides the store's CRC-32, the image check:
//   - an MCUboot image (src/image/check.ts: magic, sizes inside the slot, TLV layout, SHA-256 TLV);
//   - with `keys` (the simulator passes the compiled-in src/image/trusted-keys.ts): signed by one of
//     them (KEYHASH, ED25519 over the SHA-256) and its security counter at least the store's;
//   - its header's version is the version the store recorded for the slot;
//   - its body is a DeviceScript program (the "DevS" magic of a .devs file).
// A slot that fails is marked bad (BadWhy.ImageCheck, kept as the last outcome) and the other slot
// runs. The program then learns the choice from the store (externalBoot), as it would on a board.
// A power cut during the stage (its one record) is the flash's PowerCut: the caller powers on
// and runs the stage again.

import type { Flash } from "../../src/flash/flash"
import { ImageStore, storeState } from "../../src/flash/image-store"
import type { StoreLayout } from "../../src/flash/store-config"
import { BadWhy, BootResult } from "../../src/flash/store-port"
import { checkImage } from "../../src/image/check"
import { ImageError } from "../../src/image/errors"
import { bufferReader } from "../../src/image/reader"
import type { TrustedKey } from "../../src/image/signature"
import { sameVersion } from "../../src/image/version"
import { ImageReader } from "../../src/image/reader"
import { toHex } from "../../src/lib/bytes"

/** The first bytes of every DeviceScript bytecode file (.devs). */
export const DEVS_MAGIC = Buffer.from([0x44, 0x65, 0x76, 0x53, 0x0a, 0x6e, 0x29, 0xf1])

export interface Launch extends BootResult {
    /** The program the stage launches: the image's body. */
    program: Buffer
    /** The image's SHA-256 (its TLV, checked). */
    sha256: string
    /** Why each slot the stage refused this boot failed its check. */
    refused: { slot: number; reason: string }[]
    /** The trusted key that signed the launched image (-1: signatures not required). */
    signedBy: number
    /** The launched image's SEC_CNT (-1: none). */
    securityCounter: number
}

export interface BootStageOptions {
    /** Require images signed by one of these keys, with a security counter at least the store's. */
    keys?: TrustedKey[]
}

/** The SEC_CNT of an image's bytes (0 without one, or when the bytes are no image): what a factory install records. */
export async function imageSecurityCounter(bytes: Buffer): Promise<number> {
    try {
        const c = await checkImage(bufferReader(bytes), { yielder: async () => {}, chunk: 1 << 16, budget: 1 << 30 })
        return Math.max(0, c.securityCounter)
    } catch {
        return 0
    }
}

function slotReader(store: ImageStore, slot: number): ImageReader {
    return { read: async (off, len) => store.read(slot, off, Math.max(0, Math.min(len, store.slotSize - off))) }
}

/**
 * Run the boot stage on `flash`: decide, check, record; the launched program's bytes. Throws the
 * store's "no-image" when no slot can run, and the flash's PowerCut when the power goes.
 */
export async function runBootStage(flash: Flash, layout: StoreLayout, opts: BootStageOptions = {}): Promise<Launch> {
    const store = new ImageStore(flash, layout, { yielder: async () => {}, yieldEvery: 1 << 30 })
    await store.mount()
    const refused: Launch["refused"] = []
    const found: { sha256: Buffer; start: number; end: number; signedBy: number; securityCounter: number }[] = []
    const keys = opts.keys
    const check = async (slot: number, size: number): Promise<number> => {
        const reader = slotReader(store, slot)
        try {
            const img = await checkImage(reader, {
                maxSize: size,
                keys,
                minSecurityCounter: keys ? store.securityCounter() : undefined,
                yielder: async () => {},
                chunk: 4096,
                budget: 1 << 30,
            })
            const recorded = storeState(store).slots[slot].version
            if (!sameVersion(recorded, img.header.version)) {
                refused.push({ slot, reason: `the image is version ${img.header.version.major}.${img.header.version.minor}.${img.header.version.revision}, the store recorded ${recorded}` })
                return BadWhy.ImageCheck
            }
            const start = img.header.hdrSize
            const magic = await reader.read(start, DEVS_MAGIC.length)
            if (!magic.equals(DEVS_MAGIC)) {
                refused.push({ slot, reason: "the body is not a DeviceScript program" })
                return BadWhy.ImageCheck
            }
            found[slot] = { sha256: img.sha256, start, end: start + img.header.imgSize, signedBy: img.signedBy, securityCounter: img.securityCounter }
            return 0
        } catch (e) {
            if (!(e instanceof ImageError)) throw e // a power cut, a failing flash: not the image's fault
            refused.push({ slot, reason: e.message })
            return BadWhy.ImageCheck
        }
    }
    const boot = await store.boot(check)
    const f = found[boot.slot]
    const program = await store.read(boot.slot, f.start, f.end - f.start)
    return { ...boot, program, sha256: toHex(f.sha256), refused, signedBy: f.signedBy, securityCounter: f.securityCounter }
}
