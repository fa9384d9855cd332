// Where the raw bytes of one AT+QIOTOTARD reply go as they arrive: copied into the block buffer
// the engine lends it, never past its end. The engine then checks that the reply was whole
// (ok, and got = the length it asked for) before the block is hashed or written.

import { PayloadSink } from "../at/client-types"

export class BlockSink implements PayloadSink {
    /** The buffer the next reply is copied into (set by the engine before each read). */
    block: Buffer
    /** Bytes copied so far. */
    got = 0
    /** False when the announced length exceeds the block or the payload ended badly. */
    ok = false

    constructor(block: Buffer) {
        this.block = block
    }

    begin(header: string, length: number) {
        this.got = 0
        this.ok = length <= this.block.length
    }

    data(chunk: Buffer, start: number, end: number) {
        if (!this.ok) return
        const block = this.block
        const n = Math.min(end - start, block.length - this.got)
        for (let i = 0; i < n; i++) block[this.got + i] = chunk[start + i]
        this.got += n
    }

    end(ok: boolean) {
        if (!ok) this.ok = false
    }
}
