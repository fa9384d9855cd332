// The simulator firmware's delta profile (`npm run sim -- --delta | --compressed`): the agent
// rebuilds delta and compressed packages (detools patches, src/delta) from the running slot into
// the other one. No signature check in the agent (with it the image is over the VM's bytecode
// limit); the host's boot stage still checks every image's signature before it launches it.
import { FirmwareFeatures } from "../features"
import { PackageRebuilder } from "../../sota/rebuild"

export function deltaProfile(): FirmwareFeatures {
    return { profile: "delta", rebuilder: new PackageRebuilder() }
}
