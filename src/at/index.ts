// The AT link layer: bytes in and out of the module, lines, URCs, payloads, one command in flight.
export * from "./errors"
export * from "./transport"
export * from "./fields"
export * from "./line-table"
export * from "./receiver"
export * from "./client"
export * from "./pipe"
