// An ImageReader over one of the store's slots, shared by the signature check (signed-images.ts)
// and the rebuild's image checks (rebuild.ts): one class instead of a class and a closure each.
// It keeps what the store threw, so a caller can tell a flash failure (passed on as the store's)
// from a fault of the image's bytes (which src/image reports as read-failed).

import { UpgradeStore } from "../flash/store-port"
import { ImageReader } from "../image/reader"

export class SlotReader implements ImageReader {
    store: UpgradeStore
    receiving: boolean
    /** The image's bytes end here: reads are cut short at it. */
    size: number
    /** What the store threw on the last failed read, else undefined (no initialiser: bytecode). */
    failure: any
    constructor(store: UpgradeStore, receiving: boolean, size: number) {
        this.store = store
        this.receiving = receiving
        this.size = size
    }
    async read(off: number, len: number): Promise<Buffer> {
        const n = Math.min(len, this.size - off)
        if (n <= 0) return Buffer.alloc(0)
        try {
            return await this.store.readImage(this.receiving, off, n)
        } catch (e) {
            this.failure = e
            throw e
        }
    }
}
