// The simulator's default firmware entry (what `npm run build:devs` and postinstall compile): the
// program of firmware.ts as the factory version. `npm run sim` builds its images from generated
// entries of the same shape, one identity line each (sim/boot/firmware-image.ts).
import { runFirmware } from "./firmware"

await runFirmware("SOTA-FIRMWARE 1_0_0 good")
