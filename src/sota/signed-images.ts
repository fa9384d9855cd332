// The agent's signature check (image-verifier.ts's port): src/image's checkImage with the trusted
// keys over the receiving slot, the store's security counter as the minimum; the typed reasons
// of a refusal become the agent's (unsigned, unknown-key, bad-signature, counter-too-low; any
// other image fault is bad-image). A flash failure while reading propagates as the store's.

import { UpgradeStore } from "../flash/store-port"
import { checkImage, readImageLayout } from "../image/check"
import { ImageError } from "../image/errors"
import { TrustedKey } from "../image/signature"
import { TLV_SEC_CNT } from "../image/tlv"
import { getU32 } from "../lib/bytes"
import { ImageVerifier } from "./image-verifier"
import { SotaError, SotaReason, storeFailure } from "./reasons"
import { SlotReader } from "./slot-reader"

/**
 * The image reasons the agent records as they are (the rest is bad-image, or unsupported-package):
 * a string searched rather than four comparisons, less bytecode.
 */
const PASSED_ON = " unsigned unknown-key bad-signature counter-too-low "

/** Images must be signed by one of `keys` (the compiled-in src/image/trusted-keys.ts). */
export class SignedImages implements ImageVerifier {
    keys: TrustedKey[]
    constructor(keys: TrustedKey[]) {
        this.keys = keys
    }

    async check(store: UpgradeStore, size: number, yielder: () => Promise<void>) {
        const r = new SlotReader(store, true, size)
        try {
            await checkImage(r, { maxSize: store.slotSize, keys: this.keys, minSecurityCounter: store.securityCounter(), chunk: 1024, yielder: yielder })
        } catch (e) {
            if (r.failure) throw storeFailure(r.failure)
            if (!(e instanceof ImageError)) throw e
            const x = e.reason
            // no MCUboot magic: not an image at all (a compressed package written as it came, say),
            // a package this firmware cannot take, as a delta
            const reason: SotaReason =
                PASSED_ON.indexOf(` ${x} `) >= 0 ? (x as SotaReason) : x === "bad-magic" ? "unsupported-package" : "bad-image"
            // the SotaError's message starts with its own reason: say x once
            const what = e.detail
            throw new SotaError(reason, reason === x ? what : `${x}: ${what}`)
        }
    }

    async runningCounter(store: UpgradeStore): Promise<number> {
        const r = new SlotReader(store, false, store.runningSize())
        const layout = await readImageLayout(r, r.size)
        for (const t of layout.tlvs) if (t.type === TLV_SEC_CNT && t.protected && t.length === 4) return getU32(await r.read(t.offset, 4), 0)
        return 0
    }
}
