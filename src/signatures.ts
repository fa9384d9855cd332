// devicescript-quecthing-sota's signed-image entry: `startSota({ ..., signatures: new
// SignedImages(TRUSTED_KEYS) })`, TRUSTED_KEYS being the module `npm run image -- keys` writes.
// An entry of its own, so that a program that does not check signatures carries none of the
// image check's and Ed25519's ≈ 7 KB of bytecode.

export { SignedImages } from "./sota/signed-images"
export type { TrustedKey } from "./image/signature"
