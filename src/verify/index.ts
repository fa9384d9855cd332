// Streaming digests that respect the VM's step budget, with a midstate for the download journal.
export * from "./block-hash"
export * from "./md5"
export * from "./sha256"
export * from "./digest-set"
