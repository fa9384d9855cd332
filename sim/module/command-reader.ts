// The module's receive side: bytes from the MCU → command lines, as V.250 describes it.
// A line ends at CR (S3); LF (S4) is ignored; backspace (S5) deletes the previous character.
// Bytes before the "AT" prefix are discarded, and a line with no "AT" in it is ignored
// without a reply (a real module cannot tell noise from an unfinished command). An over-long
// line is discarded up to its CR and answered with ERROR. Echo is the caller's business: it
// sees every byte through `onBytes` before the line is parsed, as a real module echoes
// characters while they are being typed.

const CR = 13
const LF = 10
const BS = 8

export interface CommandReaderEvents {
    /** A complete command line (from "AT", without CR). */
    line(text: string): void
    /** A line longer than the limit was dropped. */
    overflow(): void
}

export class CommandReader {
    private buf: number[] = []
    private overflowed = false

    constructor(
        private events: CommandReaderEvents,
        private maxLine: number,
    ) {}

    /** Forget a partial line (power loss). */
    reset() {
        this.buf = []
        this.overflowed = false
    }

    feed(chunk: Buffer) {
        for (let i = 0; i < chunk.length; i++) {
            const b = chunk[i]
            if (b === LF) continue
            if (b === BS) {
                if (this.buf.length > 0) this.buf.pop()
                continue
            }
            if (b === CR) {
                this.endLine()
                continue
            }
            if (this.overflowed) continue
            if (this.buf.length >= this.maxLine) {
                this.overflowed = true
                this.buf = []
                continue
            }
            this.buf.push(b)
        }
    }

    private endLine() {
        if (this.overflowed) {
            this.overflowed = false
            this.buf = []
            this.events.overflow()
            return
        }
        const bytes = Buffer.from(this.buf)
        this.buf = []
        // find the "AT" prefix (either case); anything before it is line noise
        let start = -1
        for (let i = 0; i + 1 < bytes.length; i++) {
            const a = bytes[i] | 0x20
            const t = bytes[i + 1] | 0x20
            if (a === 0x61 && t === 0x74) {
                start = i
                break
            }
        }
        if (start < 0) return
        this.events.line(bytes.slice(start).toString("latin1").trimEnd())
    }
}
