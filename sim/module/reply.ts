// What the module sends back for one command, and how it looks on the wire.
// Quectel frames every information text and result code as <CR><LF>text<CR><LF> (ATV1); a
// response with information lines is `\r\n` line `\r\n` [line `\r\n`]... `\r\nOK\r\n`.
// A length-framed payload (`+QIOTOTARD: <start>,<len>`) is the header line, CR LF, exactly
// <len> raw bytes, then CR LF, as in the reference: header CRLF <data> CRLF (blank) OK.
// URCs are `\r\n<text>\r\n`, always between whole responses, never inside one.

export type ReplyPart =
    | { kind: "info"; text: string }
    | { kind: "payload"; header: (length: number) => string; data: Buffer }

export type FinalResult = "OK" | "ERROR"

export class Reply {
    parts: ReplyPart[] = []
    final: FinalResult | null = null
    /** Work to do once the reply is on the wire (URCs that follow OK, cloud requests). */
    after: (() => void)[] = []

    info(text: string): this {
        this.parts.push({ kind: "info", text })
        return this
    }

    /** A payload whose header is built from the length actually announced. */
    payload(header: (length: number) => string, data: Buffer): this {
        this.parts.push({ kind: "payload", header, data })
        return this
    }

    ok(): this {
        this.final = "OK"
        return this
    }

    /** Fail: information lines collected so far are dropped (a real module sends only ERROR). */
    error(): this {
        this.parts = []
        this.after = []
        this.final = "ERROR"
        return this
    }

    then(fn: () => void): this {
        this.after.push(fn)
        return this
    }

    hasPayload(): boolean {
        return this.parts.some(p => p.kind === "payload")
    }
}

export interface EncodeOptions {
    /** Announce payload length + lieBy instead of the real length (the bytes sent stay the same). */
    lieBy?: number
    /** Stop after this many payload bytes: no trailer, no final result (the module died). */
    cutPayloadAfter?: number
}

const CRLF = "\r\n"

export function encodeLine(text: string): Buffer {
    return Buffer.from(CRLF + text + CRLF, "latin1")
}

/** The bytes of a reply. With cutPayloadAfter the returned buffer ends inside the payload. */
export function encodeReply(reply: Reply, opts: EncodeOptions = {}): Buffer {
    const out: Buffer[] = []
    let first = true
    for (const p of reply.parts) {
        if (first) out.push(Buffer.from(CRLF))
        first = false
        if (p.kind === "info") {
            out.push(Buffer.from(p.text + CRLF, "latin1"))
            continue
        }
        const claimed = p.data.length + (opts.lieBy || 0)
        out.push(Buffer.from(p.header(claimed) + CRLF, "latin1"))
        if (opts.cutPayloadAfter !== undefined) {
            out.push(p.data.subarray(0, Math.min(p.data.length, opts.cutPayloadAfter)))
            return Buffer.concat(out)
        }
        out.push(p.data)
        out.push(Buffer.from(CRLF))
    }
    if (reply.final !== null) out.push(encodeLine(reply.final))
    return Buffer.concat(out)
}
