// The scripted modules' side of the AT link (test/vm/lib/qiot-script.ts, bench/vm/delta-flow.ts):
// the MCU's commands arrive in chunks cut anywhere; each complete one (up to its CR) is answered.

/** A scripted module: answers one command line. */
export interface CommandTarget {
    answer(cmd: string): void
}

/** The text held so far plus `chunk`: each complete command goes to `target.answer`; returns the rest. */
export function takeCommands(rx: string, chunk: Buffer, target: CommandTarget): string {
    let text = rx + chunk.toString("utf-8")
    let cr = text.indexOf("\r")
    while (cr >= 0) {
        target.answer(text.slice(0, cr))
        text = text.slice(cr + 1)
        cr = text.indexOf("\r")
    }
    return text
}
