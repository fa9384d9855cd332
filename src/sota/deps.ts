// What the parts of one SOTA agent share: the AT client, the QuecThing event inbox, the store
// port, the configuration, the counters and where progress goes. One object made by the engine
// and handed to the download state machine and the piece reader, instead of six fields each.

import { AtClient } from "../at/client"
import { UpgradeStore } from "../flash/store-port"
import { EventInbox } from "../qiot/inbox"
import { SotaConfig } from "./config"
import { ProgressSink, SotaStats } from "./progress"

export interface SotaDeps {
    at: AtClient
    inbox: EventInbox
    store: UpgradeStore
    cfg: SotaConfig
    stats: SotaStats
    sink: ProgressSink
}
