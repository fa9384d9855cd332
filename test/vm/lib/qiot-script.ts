// A scripted QuecThing module side for runs inside the DeviceScript VM (no Jacdac there, so the
// engine talks to this over the in-memory pipe). It answers the SOTA dialogue of the reference
// walk-through for one package whose bytes are a pattern computed on the fly (the VM's heap
// never holds the package), with its digests given as vectors computed beforehand with Node.

import * as ds from "@devicescript/core"
import { PipeEnd } from "../../../src/link/pipe"
import { takeCommands } from "./command-lines"

export interface ScriptedPackage {
    size: number
    md5: string
    sha256: string
    crc: number
    target: string
}

/** The bytes of the pattern package: (i * 31 + 7) & 0xff. */
export function patternByte(i: number): number {
    return (i * 31 + 7) & 0xff
}

/** 8 192 bytes of the pattern; digests computed with node:crypto and zlib.crc32. */
export const PATTERN_8K: ScriptedPackage = {
    size: 8192,
    md5: "4448bc4b5b98051a0a8f767b1d69ebcb",
    sha256: "3faac63d133ee546e983a131136bc44c9d3c0910d1c6b143d60509ef90a386e7",
    crc: 783871656,
    target: "2_0_0",
}

/** The largest Jacdac Serial report payload the scripted module sends at once. */
const PACKET = 232

export class QiotScript {
    end: PipeEnd
    pkg: ScriptedPackage
    /** Payload bytes sent in AT+QIOTOTARD replies. */
    payloadBytes = 0
    private rx = ""
    private packet = Buffer.alloc(PACKET)
    /** The two long replies, built once: a module holds its own texts, they are not the MCU's heap. */
    private offerReply: Buffer
    private startReply: Buffer
    /** The block being sent (one read at a time), and the sender made once, not a closure per read. */
    private sendStart = 0
    private sendLen = 0
    private sender: () => Promise<void>

    constructor(end: PipeEnd, pkg: ScriptedPackage) {
        this.end = end
        this.pkg = pkg
        const p = pkg
        this.offerReply = Buffer.from(`\r\nOK\r\n\r\n+QIOTEVT: 7,10700,"STM32","","${p.target}",30,-113,${p.size}\r\n`)
        this.startReply = Buffer.from(
            `\r\nOK\r\n\r\n+QIOTEVT: 7,10701,"STM32",${p.size},"${p.md5}",${p.crc},"${p.sha256}"\r\n` +
                `\r\n+QIOTEVT: 7,10702\r\n\r\n+QIOTEVT: 7,10703,"STM32",${p.size},0,${p.size}\r\n`
        )
        const self = this
        this.sender = async () => {
            await self.sendBlock()
        }
        end.listen({
            data: (chunk: Buffer) => self.onData(chunk),
            link: (up: boolean) => {},
        })
    }

    private say(text: string) {
        this.sendPackets(Buffer.from(text))
    }

    /** As a Jacdac Serial server hands a reply on: in packets of at most 232 bytes. */
    private sendPackets(b: Buffer) {
        for (let off = 0; off < b.length; off += PACKET) {
            const len = Math.min(PACKET, b.length - off)
            for (let i = 0; i < len; i++) this.packet[i] = b[off + i]
            this.sendPacket(len)
        }
    }

    /** The first `len` bytes of the packet buffer (the pipe copies them: the buffer is reused). */
    private sendPacket(len: number) {
        this.end.send(len === PACKET ? this.packet : this.packet.slice(0, len))
    }

    private onData(chunk: Buffer) {
        this.rx = takeCommands(this.rx, chunk, this)
    }

    answer(cmd: string) {
        const p = this.pkg
        if (cmd === "AT" || cmd === "ATE0") return this.say("\r\nOK\r\n")
        if (cmd === "AT+QIOTSTATE?") return this.say("\r\n+QIOTSTATE: 8\r\n\r\nOK\r\n")
        if (cmd === "AT+CSQ") return this.say("\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
        if (cmd.startsWith("AT+QIOTMCUVER=")) {
            this.say("\r\nOK\r\n")
            if (cmd.indexOf(`"${p.target}"`) > 0) this.say('\r\n+QIND: "FOTA","END",0\r\n\r\n+QIOTEVT: 7,10705\r\n')
            return
        }
        if (cmd === "AT+QIOTOTAREQ=1") return this.sendPackets(this.offerReply)
        if (cmd === "AT+QIOTUPDATE=1") return this.sendPackets(this.startReply)
        if (cmd === "AT+QIOTUPDATE=3") return this.say("\r\nOK\r\n\r\n+QIOTEVT: 7,10704\r\n")
        if (cmd === "AT+QIOTOTARD=?") return this.say("\r\n+QIOTOTARD: 0,(1-1024)\r\n\r\nOK\r\n")
        if (cmd.startsWith("AT+QIOTOTARD=")) {
            const args = cmd.slice(13).split(",")
            const start = parseInt(args[0])
            const want = parseInt(args[1])
            const n = Math.min(want, p.size - start)
            // one read at a time, as the real module: a read while a block is still going out is refused
            if (!(start >= 0 && n > 0) || this.sendLen > 0) return this.say("\r\nERROR\r\n")
            this.say(`\r\n+QIOTOTARD: ${start},${n}\r\n`)
            this.payloadBytes += n
            this.sendStart = start
            this.sendLen = n
            setTimeout(this.sender, 0)
            return
        }
        this.say("\r\nERROR\r\n")
    }

    /**
     * The payload of a read, as a Jacdac Serial server delivers it: packets of at most 232 bytes,
     * one per turn (each report is handed on as it arrives), never the whole block at once.
     */
    private async sendBlock() {
        const start = this.sendStart
        const n = this.sendLen
        const packet = this.packet
        for (let off = 0; off < n; off += PACKET) {
            const len = Math.min(PACKET, n - off)
            for (let i = 0; i < len; i++) packet[i] = patternByte(start + off + i)
            this.sendPacket(len)
            await ds.sleep(0)
        }
        this.sendLen = 0
        this.say("\r\n\r\nOK\r\n")
    }
}
