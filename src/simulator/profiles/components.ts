// The simulator firmware's components profile (`npm run sim -- --components N`, issue 20): the agent
// keeps a last-outcome record per component and reports it (OutcomeReporter, OutcomeKeeper on both
// stores), and walks a plan of two components: the program (its A/B slots) and a data component
// "DATA" in a store of its own. The agent checks the program's images as the signed profile does
// (signature and security counter before ready; DATA is written as it comes); no rebuilder.
//
// Flash layout (no board setting needed): sim-board.ts dataLayoutAtEnd(), which the host's
// sim/device sizes its flash by too: the data store at the flash's end (2 metadata sectors, two
// slots of DATA_SLOT_SECTORS each), the program's store layoutFromGeometry() of the sectors before.
import { FirmwareFeatures, PlanPorts } from "../features"
import { Flash } from "../../flash/flash"
import { ImageStore } from "../../flash/image-store"
import { OutcomeKeeper } from "../../flash/outcome-keeper"
import { Components } from "../../sota/components"
import { OutcomeReporter } from "../../sota/outcomes"
import { dataLayoutAtEnd, layoutFromGeometry } from "../sim-board"
import { SignedImages } from "../../sota/signed-images"
import { TRUSTED_KEYS } from "../../image/trusted-keys"

/** The data component's name and slot size in sectors (sim/cli/plan-options.ts: DATA, 4 KB slots). */
export const DATA_NAME = "DATA"
export const DATA_SLOT_SECTORS = 1

/** The data store and the outcome ports on `flash` (the consent profile adds its gate to them). */
export function wireComponents(flash: Flash): PlanPorts {
    const g = flash.geometry
    const dataLayout = dataLayoutAtEnd(g, DATA_SLOT_SECTORS)
    const data = new ImageStore(flash, dataLayout, { outcomes: new OutcomeKeeper() })
    return {
        layout: layoutFromGeometry({ sectorSize: g.sectorSize, size: dataLayout.metaAddress, programUnit: g.programUnit }),
        keeper: new OutcomeKeeper(),
        components: new Components([{ name: DATA_NAME, store: data }]),
        outcomes: new OutcomeReporter(),
    }
}

export function componentsProfile(): FirmwareFeatures {
    return { profile: "components", plan: wireComponents, signatures: new SignedImages(TRUSTED_KEYS) }
}
