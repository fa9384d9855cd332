// An ImageReader over a file, read a piece at a time (the check never holds the whole image, and
// neither does this reader): what a flash slot's reader will be on the device.

import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import type { ImageReader } from "../../src/image/reader"

export interface FileReader extends ImageReader {
    /** The file's length in bytes. */
    size: number
    close(): void
}

export function openImageFile(path: string): FileReader {
    const fd = openSync(path, "r")
    const size = fstatSync(fd).size
    return {
        size,
        async read(offset: number, len: number): Promise<Buffer> {
            const n = Math.max(0, Math.min(len, size - offset))
            const b = Buffer.alloc(n)
            let got = 0
            while (got < n) {
                const r = readSync(fd, b, got, n - got, offset + got)
                if (r === 0) break
                got += r
            }
            return got === n ? b : b.subarray(0, got)
        },
        close: () => closeSync(fd),
    }
}
