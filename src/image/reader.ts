// How an image is read: one small async function, so the same check runs over a slot in flash
// (through the Flash interface, in bounded memory), a file in Node, or a Buffer in tests.

export interface ImageReader {
    /**
     * Up to `len` bytes from `offset`; fewer (or none) only where the image's bytes end (the end
     * of the file, of the slot). A read that fails throws; the check reports it as `read-failed`.
     */
    read(offset: number, len: number): Promise<Buffer>
}

/** An ImageReader over bytes already in memory (tests, the builder, the VM suite). A plain object, not a class: no prototype on the VM heap. */
export function bufferReader(bytes: Buffer): ImageReader {
    return {
        read: async (offset: number, len: number) => {
            const end = Math.min(bytes.length, offset + len)
            if (offset >= end) return Buffer.alloc(0)
            return bytes.slice(offset, end)
        },
    }
}
