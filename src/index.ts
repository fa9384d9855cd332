// devicescript-quecthing-sota: QuecThing SOTA (MCU firmware over the air, through a Quectel
// module's AT commands) for a DeviceScript application. This file is the library's whole public
// API: `startSota(options)` and the types its options and events use. Everything else under src/
// is the library's inside and may change without notice. docs/LIBRARY.md is the guide;
// `npm run docs` writes docs/api.md from the doc comments reachable from here.

export { startSota, defaultLayout } from "./library/sota"
export type { Sota, SotaOptions, SotaTuning, SotaPlan, SotaProgressEvent, SotaOutcome, SotaEventReason } from "./library/sota"
export { FlashError } from "./flash/flash"
export type { Flash, FlashGeometry, FlashReason } from "./flash/flash"
export type { StoreLayout } from "./flash/store-config"
export type { UpgradeStore, ImagePlan, BootResult, DownloadJournal, BlockHasher } from "./flash/store-port"
export type { ByteTransport, TransportEvents } from "./link/transport"
export type { SotaState, SotaStats } from "./sota/progress"
export type { SotaReason } from "./sota/reasons"
export type { ImageVerifier } from "./sota/image-verifier"
