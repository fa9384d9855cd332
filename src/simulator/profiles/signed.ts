// The simulator firmware's default profile: the agent requires signed images (the compiled-in
// keys' Ed25519 signature and the security counter, checked before a slot is marked ready; the
// confirm raises the store's counter). No rebuilder: a delta or compressed package is refused as
// unsupported-package. Nothing else is imported, so nothing else is compiled.
import { FirmwareFeatures } from "../features"
import { SignedImages } from "../../sota/signed-images"
import { TRUSTED_KEYS } from "../../image/trusted-keys"

export function signedProfile(): FirmwareFeatures {
    return { profile: "signed", signatures: new SignedImages(TRUSTED_KEYS) }
}
