// The only thing the AT layer knows about the wire: bytes out, bytes in, link up or down.
// Implementations: BytePipe (in-memory, src/at/pipe.ts), JacdacSerialTransport
// (src/platform, a ds.Serial role), and Node adapters in sim/ (TCP, serial port, UART model).

export interface TransportEvents {
    /** Bytes from the module, in order. A chunk may be any size; the buffer is only valid during the call. */
    data(chunk: Buffer): void
    /** The link went down (false) or came back (true). */
    link(up: boolean): void
}

export interface ByteTransport {
    /** Queue bytes for the module. Resolves when they have been handed to the link. */
    write(data: Buffer): Promise<void>
    /** Install the (single) receiver of incoming bytes and link changes. */
    listen(events: TransportEvents): void
}
