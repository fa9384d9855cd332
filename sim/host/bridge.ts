// Wiring between the VM's two Jacdac Serial channels (jacdac-io.ts) and the Node models:
//   flash channel ──ChannelGate── FlashServer ── NOR model
//   modem channel ──ChannelGate── ModemBridge ── UART line (the module emulator at its far end)
// A ChannelGate passes bytes both ways, timestamps every packet the VM sends (the VM's ≈ 50
// packets/s cap is a floor of the download: reference/devicescript.md §10 Q2), and can be frozen:
// once the host has seen what it needs, nothing the firmware still does reaches the models.
// The ModemBridge answers the firmware's one board-settings query itself (src/simulator/sim-board.ts)
// and forwards every other byte to the line unchanged; what the line delivers goes to the VM in
// order, one write at a time.

import type { ByteTransport, TransportEvents } from "../../src/link/transport"

export class ChannelGate implements ByteTransport {
    frozen = false
    /** Date.now() of each packet (data event) from the VM. */
    readonly packetTimes: number[] = []
    bytesFromVm = 0
    private events: TransportEvents = null
    private chain: Promise<void> = Promise.resolve()

    constructor(readonly inner: ByteTransport) {
        inner.listen({
            data: chunk => {
                if (this.frozen) return
                this.packetTimes.push(Date.now())
                this.bytesFromVm += chunk.length
                this.events?.data(chunk)
            },
            link: up => {
                if (!this.frozen) this.events?.link(up)
            },
        })
    }

    listen(events: TransportEvents) {
        this.events = events
    }

    /** Writes to the VM, strictly in call order. */
    write(data: Buffer): Promise<void> {
        if (this.frozen) return Promise.resolve()
        const copy = Buffer.from(data)
        this.chain = this.chain.then(() => (this.frozen ? undefined : this.inner.write(copy))).catch(() => {})
        return this.chain
    }

    /** Packets from the VM with from ≤ time ≤ to. */
    packetsBetween(from: number, to: number): number {
        let n = 0
        for (const t of this.packetTimes) if (t >= from && t <= to) n++
        return n
    }
}

/** What the host answers to AT+SIMCFG? (the firmware's board settings for this run). */
export interface BoardAnswer {
    battery: number
    selfTestPasses: boolean
    blockSize: number
    component: string
    /** The host's boot stage launched the program (sim/boot): the firmware leaves boot and reboot to it. */
    bootStage?: boolean
}

export const SIMCFG_QUERY = "AT+SIMCFG?"

export function simCfgReply(a: BoardAnswer): string {
    return `\r\n+SIMCFG: ${a.battery},${a.selfTestPasses ? 1 : 0},${a.blockSize},${a.component}${a.bootStage ? ",1" : ""}\r\nOK\r\n`
}

export class ModemBridge {
    queries = 0
    /** Every chunk the line delivers towards the MCU (before it is written to the VM). */
    onToMcu: (chunk: Buffer) => void = null

    constructor(
        readonly vm: ChannelGate,
        readonly line: ByteTransport,
        readonly board: () => BoardAnswer,
        /** Tell the VM the line went down/up (SerialChannel.setLink). */
        readonly setLink: (up: boolean) => Promise<void> = async () => {},
    ) {
        vm.listen({
            data: chunk => {
                // the firmware writes the query in one write of a few bytes: one Jacdac packet
                if (chunk.length <= 32 && chunk.toString("latin1").startsWith(SIMCFG_QUERY)) {
                    this.queries++
                    void vm.write(Buffer.from(simCfgReply(board())))
                    return
                }
                void line.write(chunk)
            },
            link: () => {},
        })
        line.listen({
            data: chunk => {
                this.onToMcu?.(chunk)
                void vm.write(chunk)
            },
            // the line dropped (the module reset) or came back: the firmware hears it as a link
            // change of its modem channel, as the node engine's AT client does from the line
            link: up => {
                if (!vm.frozen) void this.setLink(up)
            },
        })
    }
}
