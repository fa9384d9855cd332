// A deterministic byte pattern of any size for VM suites and benches. Even filling 16 KB in one
// turn exceeds the VM's opcode slice, so it yields every 1 KB.
import * as ds from "@devicescript/core"

export async function pattern(n: number): Promise<Buffer> {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) {
        b[i] = (i * 31 + 7) & 0xff
        if ((i & 1023) === 1023) await ds.sleep(0)
    }
    return b
}
