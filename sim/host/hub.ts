// The `devs devtools` hub: the Jacdac frame router between the VM (`devs run`) and the Node
// simulator (jacdac-io.ts). It serves ws://127.0.0.1:8081 (one frame per message), TCP 8082 and
// the debugger on 8083 (reference/devicescript.md §2). One hub per machine: if any of the ports is
// taken, start() fails and says so instead of attaching to a stranger's hub.

import { ChildProcess } from "node:child_process"
import { join } from "node:path"
import { lineReader, portTaken, sleep, spawnTracked, stopChild } from "./processes"

export const HUB_PORTS = [8081, 8082, 8083]

export interface HubOptions {
    /** Project root (where node_modules/.bin/devicescript and devsconfig.json are). */
    root: string
    /** Hub output lines. */
    log?: (line: string) => void
    /** Give up when the hub does not listen within this. Default 20 s. */
    startTimeoutMs?: number
}

export class Hub {
    readonly child: ChildProcess
    private constructor(child: ChildProcess) {
        this.child = child
    }

    get pid(): number {
        return this.child.pid ?? -1
    }

    static async start(o: HubOptions): Promise<Hub> {
        const taken: number[] = []
        for (const p of HUB_PORTS) if (await portTaken(p)) taken.push(p)
        if (taken.length)
            throw new Error(
                `port ${taken.join(", ")} already taken: another \`devs devtools\` hub or simulator is running ` +
                    `(see \`ss -ltnp | grep 808\`); stop it first, only one hub can run on this machine`
            )
        const log = o.log ?? (() => {})
        const child = spawnTracked(join(o.root, "node_modules/.bin/devicescript"), ["devtools"], { cwd: o.root })
        const out: string[] = []
        const onLine = (l: string) => {
            out.push(l)
            if (out.length > 50) out.shift()
            log(l)
        }
        child.stdout!.on("data", lineReader(onLine))
        child.stderr!.on("data", lineReader(onLine))
        const hub = new Hub(child)
        const deadline = Date.now() + (o.startTimeoutMs ?? 20_000)
        try {
            while (!(await portTaken(8081))) {
                if (child.exitCode !== null || child.signalCode !== null)
                    throw new Error(`devs devtools exited (${child.exitCode ?? child.signalCode}):\n${out.join("\n")}`)
                if (Date.now() > deadline) throw new Error(`devs devtools did not listen on 8081 in time:\n${out.join("\n")}`)
                await sleep(100)
            }
        } catch (e) {
            await hub.stop()
            throw e
        }
        return hub
    }

    /** Stop the hub (by its process id) and wait until its ports are free again. */
    async stop(): Promise<void> {
        await stopChild(this.child)
        for (let i = 0; i < 50; i++) {
            let any = false
            for (const p of HUB_PORTS) if (await portTaken(p, 200)) any = true
            if (!any) return
            await sleep(100)
        }
        throw new Error(`hub stopped but a port of ${HUB_PORTS.join("/")} is still taken`)
    }
}
