// The simulator firmware's consent profile (`npm run sim -- --components 2 --defer-once` in the VM,
// issue 20): the components profile's ports, and the application's consent hook of --defer-once:
// "later" for 3 s (the module's clock, AT+CCLK?) the first time it is asked about the program, "now"
// after and for DATA (a hook keeps nothing over a reboot, and DATA comes in the 2_0_0 program's boot:
// so the run defers once, as the node engine's hook, which lives across its boots, does). The
// engine refuses the deferred plan (AT+QIOTUPDATE=0, the platform counts a refusal) and asks for it
// again by itself at that time; the platform, in its rejection period, still answers a device that
// asks.
import { FirmwareFeatures, PlanPorts } from "../features"
import { Flash } from "../../flash/flash"
import { AtClient } from "../../at/client"
import { ConsentGate } from "../../sota/consent-gate"
import { consentLater, consentNow, ConsentDecision, ConsentRequest } from "../../sota/consent"
import { moduleTime } from "../../sota/clock"
import { DATA_NAME, wireComponents } from "./components"
import { SignedImages } from "../../sota/signed-images"
import { TRUSTED_KEYS } from "../../image/trusted-keys"

let asked = 0

function wireConsent(flash: Flash, at: AtClient): PlanPorts {
    const p = wireComponents(flash)
    p.consent = new ConsentGate(async (req: ConsentRequest): Promise<ConsentDecision> => {
        if (req.component === DATA_NAME || asked++ > 0) return consentNow()
        const t = await moduleTime(at)
        return consentLater(t.now + 3, "deferred once (--defer-once)")
    })
    return p
}

export function consentProfile(): FirmwareFeatures {
    return { profile: "consent", plan: wireConsent, signatures: new SignedImages(TRUSTED_KEYS) }
}
