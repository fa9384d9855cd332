// A command handler: reads the parsed command, changes the module, fills the reply.
// It runs when the command is executed; the reply goes out after the module's latency, and
// work queued with `m.afterReply` (URCs that follow OK) runs once the reply is on the wire.
import type { AtCommand } from "../at-command"
import type { QuecModule } from "../module"
import type { Reply } from "../reply"

export type CommandHandler = (m: QuecModule, cmd: AtCommand, r: Reply) => void
