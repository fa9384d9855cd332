// `--serve-module PORT`: the module emulator and its Developer Center (the same plan as a normal
// run: --size/--image, --from/--to, --piece, --block, --latency, module and byte --faults, --baud
// for the UART model) behind a TCP server on 127.0.0.1, one client at a time, until Ctrl-C.
// Another program — `npm run sim -- --modem tcp://127.0.0.1:PORT`, a terminal, a firmware on a
// board through a bridge — then talks to the emulator as to a module on a serial line.
//
// The module lives as long as the server: a client that disconnects and comes back finds it as
// it left it (registered, echo off, the plan where it was), like a module whose UART cable was
// unplugged for a moment. When the module itself restarts (a reboot fault), the connection is
// closed, as a USB-attached module's port disappears while it reboots; the client reconnects.

import * as net from "node:net"
import { buildDevCenter, DeviceOptions, emulatorOptions, makeImage } from "../device/device"
import { LineTap } from "../device/tap"
import { UartLine, ByteFaultRates, ScriptedByteFault } from "../link/uart-line"
import { QuecModule } from "../module/module"
import type { FaultRule } from "../module/faults"
import { SimOptions } from "./options"
import { View } from "./view"

export interface ModuleServer {
    port: number
    /** Stop serving: the client is disconnected, the port closed. */
    close(): Promise<void>
}

/** Start serving; resolves once the port listens. Throws a one-line Error when it cannot. */
export async function startModuleServer(o: SimOptions, view: View): Promise<ModuleServer> {
    const image = o.image ?? makeImage(o.size || 27954, o.seed)
    const moduleFaults: FaultRule[] = []
    const script: ScriptedByteFault[] = []
    let rates: ByteFaultRates = {}
    for (const f of o.faults) {
        if (f.kind === "module") moduleFaults.push(f.rule(o.block))
        else if (f.kind === "byte") script.push(f.fault)
        else if (f.kind === "rate") rates = { ...rates, ...f.rates }
        else throw new Error(`--fault ${f.kind} acts on the MCU side; --serve-module serves only the module`)
    }
    const dev: DeviceOptions = {
        image,
        fromVersion: o.from,
        toVersion: o.to,
        offerRunning: o.from === o.to,
        component: o.component,
        module: { pieceSize: o.piece || image.length, maxRead: o.block, latencyMs: o.latency, faults: moduleFaults, seed: o.seed },
    }
    const { dc } = buildDevCenter(dev, image)
    const line = new UartLine({ baud: o.baud, seed: o.seed, script, toMcu: rates })
    const module = new QuecModule(line.module, emulatorOptions(dev, dc))
    // the client stands where the MCU would: its bytes go in at the line's MCU end
    const mcu = new LineTap(line.mcu, o.trace ? t => view.trace(t) : undefined)
    let client: net.Socket = null
    mcu.listen({
        data: chunk => {
            if (client) client.write(chunk)
        },
        // the module reset (a fault, DFOTA): its line goes down. A module on USB vanishes from the
        // host until it has rebooted, so the connection is closed; the client connects again
        link: up => {
            if (up || !client) return
            view.line("the module restarts: closing the connection, as its USB port would vanish")
            client.destroy()
        },
    })

    const server = net.createServer(socket => {
        const who = `${socket.remoteAddress}:${socket.remotePort}`
        if (client) {
            view.line(`refused ${who}: one client at a time`)
            socket.destroy()
            return
        }
        client = socket
        socket.setNoDelay(true)
        view.line(`client ${who} connected`)
        socket.on("data", chunk => {
            if (client === socket) mcu.write(chunk).catch(() => {})
        })
        socket.on("error", () => {})
        socket.on("close", () => {
            if (client === socket) client = null
            view.line(`client ${who} disconnected`)
        })
    })
    await new Promise<void>((resolve, reject) => {
        server.once("error", (err: any) => {
            const why = err.code === "EADDRINUSE" ? "the port is in use" : err.code === "EACCES" ? "not permitted" : err.message
            reject(new Error(`--serve-module ${o.serveModule}: ${why}`))
        })
        server.listen(o.serveModule, "127.0.0.1", () => resolve())
    })
    const port = (server.address() as net.AddressInfo).port
    return {
        port,
        close: () =>
            new Promise<void>(resolve => {
                if (client) client.destroy()
                server.close(() => resolve())
            }),
    }
}

/** Serve until SIGINT/SIGTERM. Returns the exit code. */
export async function serveModule(o: SimOptions, view: View): Promise<number> {
    let s: ModuleServer
    try {
        s = await startModuleServer(o, view)
    } catch (err: any) {
        process.stderr.write(`sim: ${err.message}\n`)
        return 2
    }
    // this line is for people and for programs waiting for the port: printed even with --json
    process.stdout.write(`serving the module emulator on tcp://127.0.0.1:${s.port}\n`)
    view.line("Ctrl-C stops it")
    await new Promise<void>(resolve => {
        process.once("SIGINT", () => resolve())
        process.once("SIGTERM", () => resolve())
    })
    await s.close()
    view.line("stopped")
    return 0
}
