// The port through which the agent checks a downloaded image's signature and security counter
// before the slot is marked ready, and learns the running image's counter when it confirms it.
// An integrator plugs signed-images.ts's SignedImages (the compiled-in keys) into
// SotaConfig.signatures; without one no signature is checked. A port rather than an import, as
// for the rebuilder: the image check and Ed25519 are ≈ 7 KB of bytecode that only a program
// that makes a SignedImages compiles.

import { UpgradeStore } from "../flash/store-port"

export interface ImageVerifier {
    /**
     * The receiving slot's image (its first `size` bytes: the package, or a rebuilt image) is
     * signed by a trusted key and its security counter is at least the store's. Throws SotaError
     * (unsigned, unknown-key, bad-signature, counter-too-low, bad-image).
     */
    check(store: UpgradeStore, size: number, yielder: () => Promise<void>): Promise<void>
    /** The running image's security counter (0 without one): what its confirm raises the store's to. */
    runningCounter(store: UpgradeStore): Promise<number>
}
