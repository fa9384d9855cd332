// The simulator firmware's components profile (`npm run sim -- --components N`, issue 20): the agent
// keeps a last-outcome record per component and reports it (OutcomeReporter, OutcomeKeeper on both
// stores), and walks a plan of two components: the program (its A/B slots) and a data component
// "DATA" in a store of its own. No signature check in the agent and no rebuilder (with either the
// image is over the VM's bytecode limit); the host's boot stage still checks every program image.
//
// Flash layout (no board setting needed; sim/device/device.ts dataLayoutFor() builds the same):
// the data store takes the flash's last DATA_SECTORS sectors (2 metadata sectors, two slots of
// DATA_SLOT_SECTORS each), and the program's store is layoutFromGeometry() of the sectors before it.
import { FirmwareFeatures, PlanPorts } from "../features"
import { Flash } from "../../flash/flash"
import { ImageStore } from "../../flash/image-store"
import { OutcomeKeeper } from "../../flash/outcome-keeper"
import { Components } from "../../sota/components"
import { OutcomeReporter } from "../../sota/outcomes"
import { layoutFromGeometry, META_SECTORS } from "../sim-board"

/** The data component's name and slot size in sectors (sim/cli/plan-options.ts: DATA, 4 KB slots). */
export const DATA_NAME = "DATA"
export const DATA_SLOT_SECTORS = 1

/** The data store and the outcome ports on `flash` (the consent profile adds its gate to them). */
export function wireComponents(flash: Flash): PlanPorts {
    const g = flash.geometry
    const sec = g.sectorSize
    const dataSectors = META_SECTORS + 2 * DATA_SLOT_SECTORS
    const base = (Math.floor(g.size / sec) - dataSectors) * sec
    const slot = DATA_SLOT_SECTORS * sec
    const data = new ImageStore(
        flash,
        { metaAddress: base, metaSectors: META_SECTORS, slotAddress: [base + META_SECTORS * sec, base + META_SECTORS * sec + slot], slotSize: slot },
        { outcomes: new OutcomeKeeper() }
    )
    return {
        layout: layoutFromGeometry({ sectorSize: sec, size: base, programUnit: g.programUnit }),
        keeper: new OutcomeKeeper(),
        components: new Components([{ name: DATA_NAME, store: data }]),
        outcomes: new OutcomeReporter(),
    }
}

export function componentsProfile(): FirmwareFeatures {
    return { profile: "components", plan: wireComponents }
}
