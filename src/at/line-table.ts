// Which lines are unsolicited result codes, and which headers announce a length-framed binary
// payload. Written as data so that a product can register its own without touching the receiver
// (the idea of Zephyr's modem_chat URC matches; see docs/ARCHITECTURE.md).

import { AtFields } from "./fields"

/** A line whose header announces `<len>` raw bytes right after it (e.g. `+QIOTOTARD: <start>,<len>`). */
export interface PayloadRule {
    /** Line prefix before the colon, e.g. "+QIOTOTARD". */
    prefix: string
    /** Index of the field holding the byte count. */
    lengthField: number
    /**
     * Optional cheap filter: the text after the colon must start with this (spaces ignored), so
     * that lines which cannot be headers are never split into fields (every +QIOTEVT is a candidate).
     */
    head?: string
    /** Further test on the fields; false means an ordinary line with the same prefix (e.g. a `=?` answer). */
    applies: (f: AtFields) => boolean
    /** True when the header is an unsolicited result code rather than part of a command's response. */
    urc: boolean
}

export class LineTable {
    /** URC prefixes ("+QIOTEVT") or whole lines ("RDY"). */
    urcs: string[] = []
    payloads: PayloadRule[] = []

    /** Register an unsolicited result code: a `+PREFIX` (matched before the colon) or a whole line. */
    addUrc(prefixOrLine: string): LineTable {
        if (this.urcs.indexOf(prefixOrLine) < 0) this.urcs.push(prefixOrLine)
        return this
    }

    addPayload(rule: PayloadRule): LineTable {
        this.payloads.push(rule)
        return this
    }

    /**
     * Is `line` (with prefix `prefix`, "" if none) a URC? A prefix the pending command answers
     * with (`solicited`, e.g. "+CPIN" during AT+CPIN?) is a response, not a URC.
     */
    isUrc(line: string, prefix: string, solicited: string): boolean {
        if (prefix.length > 0 && prefix === solicited) return false
        for (const u of this.urcs) {
            if (u === line || (prefix.length > 0 && u === prefix)) return true
        }
        return false
    }

    /** Cheap pre-check on the raw line, so ordinary lines are never split into fields. */
    mayBePayload(prefix: string, line: string): boolean {
        for (const r of this.payloads) {
            if (r.prefix === prefix && (!r.head || startsLoose(line, prefix.length + 1, r.head))) return true
        }
        return false
    }

    payloadRule(prefix: string, fields: AtFields): PayloadRule {
        for (const r of this.payloads) {
            if (r.prefix === prefix && r.applies(fields)) return r
        }
        return null
    }
}

/** Does line[from..] start with `head`, ignoring spaces in line? charCodeAt only: cheap in the VM. */
function startsLoose(line: string, from: number, head: string): boolean {
    let i = from
    for (let k = 0; k < head.length; k++) {
        while (i < line.length && line.charCodeAt(i) === 32) i++
        if (i >= line.length || line.charCodeAt(i) !== head.charCodeAt(k)) return false
        i++
    }
    return true
}

function notRange(s: string) {
    return s.length === 0 || s[0] !== "("
}

/** The QuecThing / Quectel set: the URCs the reference documents and the binary-carrying headers. */
export function quectelLineTable(): LineTable {
    const t = new LineTable()
    t.addUrc("+QIOTEVT")
        .addUrc("+QIOTSUBEVT")
        .addUrc("+QIND")
        .addUrc("RDY")
        .addUrc("POWERED DOWN")
        .addUrc("+CFUN")
        .addUrc("+CPIN")
        .addUrc("+QUSIM")
        .addUrc("+QIURC")
    // AT+QIOTOTARD=<start>,<len> → `+QIOTOTARD: <start>,<len>` CRLF <len raw bytes>.
    // `AT+QIOTOTARD=?` answers `+QIOTOTARD: <start>,(range)`: not a header.
    t.addPayload({
        prefix: "+QIOTOTARD",
        lengthField: 1,
        applies: f => f.count() === 2 && notRange(f.str(0)) && notRange(f.str(1)),
        urc: false,
    })
    // Unbuffered downlink data: `+QIOTEVT: 5,10200,<len>` (transparent) and `5,10210,<len>` (TSL).
    t.addPayload({
        prefix: "+QIOTEVT",
        lengthField: 2,
        head: "5,102",
        applies: f => f.count() === 3 && f.str(0) === "5" && (f.str(1) === "10200" || f.str(1) === "10210"),
        urc: true,
    })
    // Buffered-mode reads: `+QIOTRD: <cur_len>,<remain_len>,<remain_pieces>` CRLF <cur_len bytes>.
    t.addPayload({
        prefix: "+QIOTRD",
        lengthField: 0,
        applies: f => f.count() >= 1 && notRange(f.str(0)),
        urc: false,
    })
    return t
}
