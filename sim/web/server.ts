// The web view: a run of the simulator (VM engine) served as a local page. The run is `npm run
// sim`'s own (runVmEngine with a WebView, sim/cli unchanged but for VmEngineEnv.world, which hands
// over the run's world); this adds an HTTP server on 127.0.0.1 that
//   GET  /            the page (page.ts)
//   GET  /state       the model as JSON (tests, scripts)
//   GET  /events      the model as Server-Sent Events, sent again on every change (at most every 150 ms)
//   POST /action/cut-power | reboot-module | corrupt-bytes
// The flash is read every 300 ms through the NOR model's peek() (store-reader.ts): watching does
// not count as a flash operation. The actions act on the world as the fault specs do:
//   cut-power      the NOR model cuts the power at its next program or erase (as cut@op=N); the
//                  VM engine sees the flash go off, kills the VM and boots it again through the
//                  boot stage; the download resumes from its journal
//   reboot-module  the module emulator restarts (RDY), as --fault reboot@...
//   corrupt-bytes  the next 3 bytes from the module to the MCU are XOR-ed, as --fault corrupt@...
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { SimDevice } from "../device/device"
import type { SimOptions } from "../cli/options"
import { exitCode, SimSummary } from "../cli/summary"
import { runVmEngine, VmEngineEnv } from "../cli/vm-engine"
import { PAGE } from "./page"
import { readStore } from "./store-reader"
import { WebModelBuilder, WebView } from "./web-view"

export interface WebSimOptions {
    /** 0: any free port. Default 8090. */
    port?: number
    /** Print the AT dialogue and the VM's lines on the console too (the page always has them). */
    trace?: boolean
    out?: (s: string) => void
    err?: (s: string) => void
    env?: VmEngineEnv
}

export interface WebSim {
    url: string
    model: WebModelBuilder
    /** The run's summary, when it is over (the server keeps serving until close()). */
    done: Promise<SimSummary>
    close(): Promise<void>
}

function json(res: ServerResponse, code: number, body: unknown) {
    res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store" })
    res.end(JSON.stringify(body))
}

/** Start the server, then the run; resolves once the page can be opened. */
export async function startWebSim(o: SimOptions, w: WebSimOptions = {}): Promise<WebSim> {
    if (o.engine !== "vm") throw new Error("the web view follows the VM engine")
    const model = new WebModelBuilder(`${o.component} ${o.from} → ${o.to}, ${o.engine} engine`)
    const view = new WebView(model, o.json, !!(w.trace ?? o.trace), w.out, w.err)
    let device: SimDevice = null
    const clients = new Set<ServerResponse>()
    let sentRev = -1
    let timer: NodeJS.Timeout = null
    const push = () => {
        if (timer) return
        timer = setTimeout(() => {
            timer = null
            if (model.m.rev === sentRev) return
            sentRev = model.m.rev
            const data = `data: ${JSON.stringify(model.m)}\n\n`
            for (const c of clients) c.write(data)
        }, 150)
    }
    model.onChange(push)

    const actions: Record<string, () => string> = {
        "cut-power": () => {
            device.flash.armCut({ op: 1, kind: "before" })
            return "armed: the power goes at the flash's next program or erase"
        },
        "reboot-module": () => {
            device.module.reboot()
            return "the module restarts (RDY)"
        },
        "corrupt-bytes": () => {
            const line = device.line
            if (!line) throw new Error("no UART model in this run")
            const next = line.stats("to-mcu").bytesIn
            for (let i = 1; i <= 3; i++) line.addFault({ dir: "to-mcu", index: next + i, action: "corrupt", xor: 0x20 })
            return `bytes ${next + 1}–${next + 3} towards the MCU will arrive corrupted`
        },
    }

    const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const url = req.url ?? "/"
        if (req.method === "GET" && url === "/") {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
            res.end(PAGE)
        } else if (req.method === "GET" && url === "/state") json(res, 200, model.m)
        else if (req.method === "GET" && url === "/events") {
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" })
            res.write(`data: ${JSON.stringify(model.m)}\n\n`)
            clients.add(res)
            req.on("close", () => clients.delete(res))
        } else if (req.method === "POST" && url.startsWith("/action/")) {
            const what = url.slice("/action/".length)
            const act = actions[what]
            if (!act) return json(res, 404, { ok: false, text: `no action ${what}` })
            if (!device || model.m.phase === "done") return json(res, 409, { ok: false, text: "no run in progress" })
            try {
                const text = act()
                model.action(what, text)
                json(res, 200, { ok: true, text })
            } catch (e: any) {
                json(res, 500, { ok: false, text: e?.message ?? String(e) })
            }
        } else json(res, 404, { ok: false, text: "not found" })
    })
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject)
        server.listen(w.port ?? 8090, "127.0.0.1", () => resolve())
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    view.line(`web view: ${url}`)

    let poll: NodeJS.Timeout = null
    const readFlash = async () => {
        if (!device) return
        model.store(await readStore(device.flash, device.layout))
    }
    const env: VmEngineEnv = {
        ...(w.env ?? {}),
        world: d => {
            device = d
            w.env?.world?.(d)
            poll = setInterval(() => void readFlash(), 300)
            void readFlash()
        },
    }
    // the AT dialogue comes to the View as trace lines only with --trace: the page always wants it
    const done = runVmEngine({ ...o, trace: true }, view, env).then(async s => {
        if (poll) clearInterval(poll)
        await readFlash()
        s.exitCode = exitCode(s.result, s.healthy, o.strict, s.reason)
        view.summary(s)
        return s
    })
    return {
        url,
        model,
        done,
        close: async () => {
            if (poll) clearInterval(poll)
            for (const c of clients) c.end()
            clients.clear()
            await new Promise<void>(resolve => server.close(() => resolve()))
        },
    }
}
