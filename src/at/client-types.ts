// The AT client's vocabulary, apart from the client itself (client.ts): what callers pass in
// (AtClientOptions, CommandOptions, a PayloadSink for length-framed payloads), what they get back
// (AtResponse with its line and field accessors, AtClientStats), and the client's one reusable
// record of the command in flight (Pending, internal to src/at, and the response prefix the
// receiver matches its answer by). Nothing here is called per received byte or line: the
// client's receive callbacks read and write Pending's fields directly.

import { AtFields, lineFields } from "./fields"
import { LineTable } from "./line-table"
import { FinalKind } from "./receiver"

/** Where the raw bytes of a length-framed payload go, as they arrive. */
export interface PayloadSink {
    begin(header: string, length: number): void
    /** chunk[start..end): copy what you keep, the chunk is reused. Must be quick (no awaits here). */
    data(chunk: Buffer, start: number, end: number): void
    /** ok=false: the payload was cut short or its framing was wrong; discard what you got. */
    end(ok: boolean): void
}

export interface CommandOptions {
    /** Time for the final result code, from the moment the command is written. */
    timeoutMs?: number
    /** Keep only information lines starting with this (e.g. "+QIOTMCUVER"); count others as noise. */
    expect?: string
    /** Receives a length-framed payload that is part of this command's response. */
    sink?: PayloadSink
}

export interface AtClientOptions {
    /** Default per-command timeout. Default 3000 ms. */
    timeoutMs?: number
    /** Inside a payload, the longest pause between bytes before it is declared stalled. Default 1000 ms. */
    payloadIdleMs?: number
    /** `AT` attempts per resynchronisation. Default 5. */
    syncAttempts?: number
    /** Time for each `AT` to get its OK during a resync. Default 500 ms. */
    syncTimeoutMs?: number
    /** Silence required on the line before and after the resync `AT`. Default 100 ms. */
    quietMs?: number
    /** URC lines that mean the module restarted. Default ["RDY"]. */
    rebootLines?: string[]
    /** Most information lines kept per response. Default 16. */
    maxResponseLines?: number
    /** Longest command accepted, without CR. Default 560. */
    maxCommand?: number
    table?: LineTable
    maxLine?: number
    maxPayload?: number
    /**
     * Largest slice fed to the receiver per turn (default 256, safe in the VM). Node-only users may
     * raise it: a slice per timer turn costs ≥ 1 ms in Node.
     */
    feedSlice?: number
}

/** The successful answer to a command. */
export class AtResponse {
    command: string
    lines: string[]
    /** The payload header line, "" when the response carried no payload. */
    payloadHeader: string
    /** Announced payload length, -1 when none. */
    payloadLength: number

    constructor(command: string, lines: string[], payloadHeader: string, payloadLength: number) {
        this.command = command
        this.lines = lines
        this.payloadHeader = payloadHeader
        this.payloadLength = payloadLength
    }

    /** The first line starting with `prefix` (any line when omitted); "" if none. */
    line(prefix?: string): string {
        for (const l of this.lines) if (!prefix || l.startsWith(prefix)) return l
        return ""
    }

    /** Fields of line(prefix), after its colon. */
    fields(prefix?: string): AtFields {
        return lineFields(this.line(prefix))
    }
}

export interface AtClientStats {
    commands: number
    timeouts: number
    resyncs: number
    urcs: number
    echoes: number
    /** information lines with nobody waiting, or not matching `expect` */
    noise: number
    /** final result codes with no command pending (e.g. the late OK of a timed-out command) */
    strayFinals: number
    faults: number
    /** payload bytes with nowhere to go (no sink) */
    droppedPayloadBytes: number
    handlerErrors: number
}

/** How the command in flight ended; "" while it has not. */
export type Outcome = "" | FinalKind | "reboot" | "link-lost" | "malformed"

/**
 * The command in flight. One per client, reset by AtClient.exchange for each command (one is in
 * flight at a time): a block read is a command, and a fresh ten-field object per block would sit
 * on the VM heap at its peak, next to the block being written. An interface, not a class: a
 * class's constructor and methods would cost image bytecode.
 */
export interface Pending {
    command: string
    expect: string
    sink: PayloadSink
    lines: string[]
    outcome: Outcome
    code: number
    text: string
    fault: string
    payloadHeader: string
    payloadLength: number
}

/** "AT+QIOTMCUVER=..." → "+QIOTMCUVER"; "" for basic commands (ATI, ATE0). */
export function responsePrefix(command: string): string {
    if (command.length < 4 || command.charCodeAt(2) !== 43 /* + */) return ""
    let end = 3
    while (end < command.length) {
        const c = command.charCodeAt(end)
        if (c === 61 /* = */ || c === 63 /* ? */) break
        end++
    }
    return command.slice(2, end).toUpperCase()
}
