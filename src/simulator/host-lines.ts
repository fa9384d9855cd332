// The simulator firmware's side of the host's line protocol, shared by the simulator's own program
// (firmware.ts) and the harness that runs an application in the simulator (examples/simulator):
// one machine-readable line per event (sim/cli/vm-engine.ts reads them), a reset the host
// performs when its boot stage launched the program, and the SHA-256 the program reports of its
// own image.
import * as ds from "@devicescript/core"
import { Flash } from "../flash/flash"
import { StoreLayout } from "../flash/store-config"
import { readImageLayout } from "../image/check"
import { TLV_SHA256 } from "../image/tlv"
import { toHex } from "../lib/bytes"

/** One line the host reads: `<TAG> <json>`. */
export function say(tag: string, json: string) {
    console.log(`${tag} ${json}`)
}

/** A reset: the host's when its boot stage launched the program (the stage runs before the next one), else the VM's own. */
export async function hostReset(why: string, hostBoots: boolean) {
    if (!hostBoots) ds.restart()
    say("SOTA-RESET", JSON.stringify({ why: why }))
    while (true) await ds.sleep(60000)
}

/** The SHA-256 TLV of the image in `slot`: the hash the boot stage checked before it launched the program. */
export async function slotImageSha(f: Flash, layout: StoreLayout, slot: number): Promise<string> {
    const base = layout.slotAddress[slot]
    const size = layout.slotSize
    const reader = {
        read: async (off: number, len: number) => await f.read(base + off, Math.max(0, Math.min(len, size - off))),
    }
    const img = await readImageLayout(reader, size)
    for (const t of img.tlvs) if (t.type === TLV_SHA256) return toHex(await reader.read(t.offset, t.length))
    return ""
}
