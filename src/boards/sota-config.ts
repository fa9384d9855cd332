// The SOTA agent's settings every board shares, in a module of their own so that a Node test can run
// a board's agent (common.ts needs real pins and I2C). Signatures are required by default (issue 17):
// a downloaded image must be signed by one of the compiled-in keys (src/image/trusted-keys.ts,
// generated from keys/trusted-keys.json: replace the dev key with your own before a product ships)
// with a security counter at least the store's before its slot is marked ready, and a confirm
// raises the store's counter to the running image's.
import { SotaConfig } from "../sota/config"
import { SignedImages } from "../sota/signed-images"
import { TRUSTED_KEYS } from "../image/trusted-keys"

export function boardSotaConfig(component: string): SotaConfig {
    return { component, signatures: new SignedImages(TRUSTED_KEYS) }
}
