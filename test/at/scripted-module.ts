// A byte-level scripted peer for client tests: it reads command lines (ended by CR) from its
// pipe end and answers from a script, with optional delays. No AT knowledge beyond that.
import { PipeEnd } from "../../src/link/pipe"

/** A reply: bytes to send, each part after `after` ms (relative to the previous part). */
export type ReplyPart = { after?: number; data: string | Buffer }
export type Reply = string | Buffer | ReplyPart[] | null

export class ScriptedModule {
    echo = true
    /** Command lines received, in order. */
    received: string[] = []
    private rx = ""
    private rules: { match: (cmd: string) => boolean; reply: (cmd: string) => Reply }[] = []

    constructor(readonly end: PipeEnd) {
        end.listen({
            data: chunk => this.onData(chunk),
            link: () => {
                this.rx = ""
            },
        })
    }

    /** Answer commands equal to `cmd` (or matching a predicate). Later rules win. */
    on(cmd: string | ((c: string) => boolean), reply: Reply | ((cmd: string) => Reply)) {
        const match = typeof cmd === "string" ? (c: string) => c === cmd : cmd
        const fn = typeof reply === "function" ? reply : () => reply
        this.rules.unshift({ match, reply: fn })
        return this
    }

    /** Send unsolicited bytes now. */
    send(data: string | Buffer) {
        this.end.send(typeof data === "string" ? Buffer.from(data) : data)
    }

    private onData(chunk: Buffer) {
        this.rx += chunk.toString("latin1")
        let cr: number
        while ((cr = this.rx.indexOf("\r")) >= 0) {
            const cmd = this.rx.slice(0, cr).replace(/^\n+/, "")
            this.rx = this.rx.slice(cr + 1)
            this.received.push(cmd)
            if (this.echo) this.send(cmd + "\r")
            const rule = this.rules.find(r => r.match(cmd))
            const reply = rule ? rule.reply(cmd) : "\r\nERROR\r\n"
            this.play(reply)
        }
    }

    private play(reply: Reply) {
        if (reply === null) return
        if (typeof reply === "string" || Buffer.isBuffer(reply)) return this.send(reply)
        let t = 0
        for (const part of reply) {
            t += part.after || 0
            if (t === 0) this.send(part.data)
            else setTimeout(() => this.send(part.data), t)
        }
    }
}
