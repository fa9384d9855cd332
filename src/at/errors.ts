// Typed failures of the AT link. Every error carries a machine-readable `reason` so that
// upper layers (the SOTA engine, DFOTA) can map it to their own reason codes without
// parsing messages. DeviceScript supports Error subclasses with fields and `instanceof`.

/** Why an AT command did not succeed. */
export type AtReason =
    | "timeout" // no final result code in time
    | "error" // the module answered ERROR (or NO CARRIER, BUSY, ...)
    | "cme-error" // +CME ERROR: <n> (or +CMS ERROR: <n>)
    | "malformed" // the reply broke the framing: bad length header, missing trailer, garbage
    | "link-lost" // the transport went down
    | "module-reboot" // the module announced RDY while the command was pending
    | "no-sync" // resynchronisation (AT until OK) failed
    | "bad-command" // the command text itself is not sendable (empty, has CR/LF, too long)

export class AtError extends Error {
    /** The command that failed, without the trailing CR. */
    command: string
    reason: AtReason
    constructor(reason: AtReason, command: string, message: string) {
        super(command ? `${command}: ${message}` : message)
        this.name = "AtError"
        this.reason = reason
        this.command = command
    }
}

/** No final result code within the command's timeout. */
export class AtTimeoutError extends AtError {
    timeoutMs: number
    constructor(command: string, timeoutMs: number) {
        super("timeout", command, `no final result within ${timeoutMs} ms`)
        this.name = "AtTimeoutError"
        this.timeoutMs = timeoutMs
    }
}

/** The module answered with a plain failure result code (`ERROR`, `NO CARRIER`, ...). */
export class AtCommandError extends AtError {
    /** The final result line as received, e.g. "ERROR". */
    result: string
    constructor(command: string, result: string) {
        super("error", command, result)
        this.name = "AtCommandError"
        this.result = result
    }
}

/** `+CME ERROR: <n>` or `+CMS ERROR: <n>`. `code` is -1 when the module sent text instead of a number. */
export class AtCmeError extends AtError {
    code: number
    /** The text after the colon, e.g. "10" or "SIM not inserted". */
    text: string
    cms: boolean
    constructor(command: string, code: number, text: string, cms: boolean) {
        super("cme-error", command, `${cms ? "+CMS" : "+CME"} ERROR: ${text}`)
        this.name = "AtCmeError"
        this.code = code
        this.text = text
        this.cms = cms
    }
}

/** The reply did not follow the framing rules (see ReceiverFault for `detail`). */
export class AtMalformedError extends AtError {
    detail: string
    constructor(command: string, detail: string) {
        super("malformed", command, `malformed response (${detail})`)
        this.name = "AtMalformedError"
        this.detail = detail
    }
}

/** The link went away: transport closed, module rebooted mid-command, or it never resynchronised. */
export class AtLinkLostError extends AtError {
    constructor(reason: AtReason, command: string, message: string) {
        super(reason, command, message)
        this.name = "AtLinkLostError"
    }
}
