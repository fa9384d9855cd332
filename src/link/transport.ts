// The only thing the AT layer knows about the wire: bytes out, bytes in, link up or down.
// Implementations: BytePipe (in-memory, src/link/pipe.ts), JacdacSerialTransport
// (src/platform, a ds.Serial role), and Node adapters in sim/ (TCP, serial port, UART model).

export interface TransportEvents {
    /**
     * Bytes from the module, in order. A chunk may be any size. The chunk is handed over: the
     * transport must not modify it afterwards (Jacdac packets, Node socket chunks and the pipe's
     * copies are all fresh buffers), so the receiver can queue it without a copy.
     */
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
