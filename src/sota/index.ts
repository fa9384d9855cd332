// The SOTA engine and its parts.
export * from "./reasons"
export * from "./port"
export * from "./qiot-events"
export * from "./qiot-commands"
export * from "./policy"
export * from "./inbox"
export * from "./block-writer"
export * from "./engine"
