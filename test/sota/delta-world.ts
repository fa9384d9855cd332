// Worlds whose package is a delta or a compressed image (issue 18): the factory image and the
// target are real MCUboot images (src/image/pack.ts) of seeded "firmware-like" bodies, the
// package is built by tools/delta (createPatch, compressImage), and the Developer Center serves
// it as a delta from the factory version or as a full package.
import { packImage } from "../../src/image/pack"
import { parseVersion } from "../../src/image/version"
import { compressImage, createPatch } from "../../tools/delta/patch"
import { imageLike, mutate } from "../delta/pairs"
import { rng } from "../helpers/rng"
import { World, WorldOptions } from "./world"

export const noYield = async () => {}

export async function mcubootImage(body: Buffer, version: string): Promise<Buffer> {
    return (await packImage(body, { version: parseVersion(version), yielder: noYield })).image
}

export interface Pair {
    old: Buffer
    nw: Buffer
}

/** An old image (1_0_0) of about `size` bytes and a new one (2_0_0) `edits` edits away. */
export async function imagePair(seed: number, size: number, edits: number): Promise<Pair> {
    const r = rng(seed)
    const body = imageLike(r, size)
    return { old: await mcubootImage(body, "1_0_0"), nw: await mcubootImage(mutate(r, body, edits), "2_0_0") }
}

export type Kind = "delta" | "compressed"

/** The package of `kind` that takes a device from `p.old` to `p.nw`. */
export function packageOf(p: Pair, kind: Kind): Buffer {
    return kind === "delta" ? createPatch(p.old, p.nw).patch : compressImage(p.nw).patch
}

/** A world running p.old whose platform offers `pkg` (a delta from 1_0_0, or a full package) delivering p.nw. */
export function deltaWorld(p: Pair, kind: Kind, o: WorldOptions = {}, pkg = packageOf(p, kind)): World {
    return new World({
        image: pkg,
        targetImage: p.nw,
        factoryImage: p.old,
        sourceVersion: kind === "delta" ? "1_0_0" : undefined,
        slotSize: Math.max(p.old.length, p.nw.length) + 4096,
        ...o,
    })
}
