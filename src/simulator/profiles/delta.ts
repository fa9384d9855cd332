// The simulator firmware's delta profile (`npm run sim -- --delta | --compressed`): the agent
// rebuilds delta and compressed packages (detools patches, src/delta) from the running slot into
// the other one, and checks the rebuilt image as the signed profile checks a downloaded one (the
// compiled-in keys' Ed25519 signature and the security counter) before its slot is marked ready;
// the host's boot stage checks it again before it launches it.
import { FirmwareFeatures } from "../features"
import { PackageRebuilder } from "../../sota/rebuild"
import { SignedImages } from "../../sota/signed-images"
import { TRUSTED_KEYS } from "../../image/trusted-keys"

export function deltaProfile(): FirmwareFeatures {
    return { profile: "delta", rebuilder: new PackageRebuilder(), signatures: new SignedImages(TRUSTED_KEYS) }
}
