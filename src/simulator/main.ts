// The simulator's default firmware entry (what `npm run build:devs` and postinstall compile): the
// program of firmware.ts as the factory version, in the default (signed) profile. `npm run sim`
// builds its images from generated entries of the same shape, one identity line and one profile
// each (sim/boot/firmware-image.ts).
import { runFirmware } from "./firmware"
import { signedProfile } from "./profiles/signed"

await runFirmware("SOTA-FIRMWARE 1_0_0 good", signedProfile())
