// What the parts of one SOTA agent share: the AT client, the QuecThing event inbox, the store
// port, the configuration, the counters and where progress goes. The download state machine and
// the piece reader see only this interface; the engine is the object behind it (one object fewer
// on the VM heap than a separate bundle), but they never reach the engine's own methods.

import { AtClient } from "../at/client"
import { UpgradeStore } from "../flash/store-port"
import { EventInbox } from "../qiot/inbox"
import { SotaConfig } from "./config"
import { ProgressSink, SotaStats } from "./progress"

export interface SotaDeps extends ProgressSink {
    readonly at: AtClient
    readonly inbox: EventInbox
    readonly store: UpgradeStore
    readonly cfg: SotaConfig
    readonly stats: SotaStats
    /** The program's running version. */
    readonly running: string
    /** Bring the module back after a reset or a dropped line (registered again): "" or why not (one copy of the call, for the start-up and the download). */
    reconnect(): Promise<string>
    /** AT+QIOTUPDATE=0 on a plan the module may still hold, and its 10706 when it answered OK (the start-up's stale plan, the download's restart). */
    endPlan(): Promise<void>
}
