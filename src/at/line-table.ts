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

/**
 * The table the receiver classifies lines by: plain data, matched by AtReceiver.endLine. A
 * product extends the Quectel one by pushing onto its arrays (`table.urcs.push("+MYURC")`).
 * An interface, not a class: the matching lives in the receiver (its only user), so the table
 * costs no methods in the image.
 */
export interface LineTable {
    /** URC prefixes ("+QIOTEVT", matched before the colon) or whole lines ("RDY"). */
    urcs: string[]
    /** Payload headers; for one line, the first rule whose prefix matches and that applies wins. */
    payloads: PayloadRule[]
}

/** Does line[from..] start with `head`, ignoring spaces in line? charCodeAt only: cheap in the VM. */
export function startsLoose(line: string, from: number, head: string): boolean {
    let i = from
    for (let k = 0; k < head.length; k++) {
        while (i < line.length && line.charCodeAt(i) === 32) i++
        if (i >= line.length || line.charCodeAt(i) !== head.charCodeAt(k)) return false
        i++
    }
    return true
}

/** Field i is not a `(range)` (an `=?` answer): empty or not starting with "(". */
function notRange(f: AtFields, i: number) {
    const s = f.str(i)
    return s.length === 0 || s[0] !== "("
}

/** The QuecThing / Quectel set: the URCs the reference documents and the binary-carrying headers. */
export function quectelLineTable(): LineTable {
    return {
        // a literal, not String.split: split is library bytecode (~340 B) that nothing else here needs
        urcs: ["+QIOTEVT", "+QIOTSUBEVT", "+QIND", "RDY", "POWERED DOWN", "+CFUN", "+CPIN", "+QUSIM", "+QIURC"],
        payloads: [
            // AT+QIOTOTARD=<start>,<len> → `+QIOTOTARD: <start>,<len>` CRLF <len raw bytes>.
            // `AT+QIOTOTARD=?` answers `+QIOTOTARD: <start>,(range)`: not a header.
            {
                prefix: "+QIOTOTARD",
                lengthField: 1,
                applies: f => f.values.length === 2 && notRange(f, 0) && notRange(f, 1),
                urc: false,
            },
            // Unbuffered downlink data: `+QIOTEVT: 5,10200,<len>` (transparent) and `5,10210,<len>` (TSL).
            {
                prefix: "+QIOTEVT",
                lengthField: 2,
                head: "5,102",
                applies: f => f.values.length === 3 && f.str(0) === "5" && (f.str(1) === "10200" || f.str(1) === "10210"),
                urc: true,
            },
            // Buffered-mode reads: `+QIOTRD: <cur_len>,<remain_len>,<remain_pieces>` CRLF <cur_len bytes>.
            {
                prefix: "+QIOTRD",
                lengthField: 0,
                applies: f => f.values.length >= 1 && notRange(f, 0),
                urc: false,
            },
        ],
    }
}
