// What the SOTA engine needs from the device, and nothing more (the shape of AWS IoT OTA's
// platform interface): an image store, a reboot, and a few sensors. ImageStore (src/flash)
// satisfies SotaStore as it is; tests and boards supply SotaPlatform.

export interface SotaBoot {
    slot: number
    version: string
    trial: boolean
    rolledBack: boolean
}

export interface SotaJournal {
    version: string
    total: number
    md5: string
    sha256: string
    written: number
    verified: number
    midstate: Buffer
}

export interface SotaPlanImage {
    version: string
    size: number
    md5?: string
    sha256?: string
}

export interface SotaStore {
    readonly layout: { slotSize: number }
    readonly flash: { geometry: { programUnit: number; sectorSize: number } }
    /** Read the metadata (once per start-up, before boot). */
    mount(): Promise<void>
    boot(): Promise<SotaBoot>
    confirm(): Promise<boolean>
    reject(): Promise<void>
    journal(): SotaJournal
    startReceive(plan: SotaPlanImage, options?: { allowDowngrade?: boolean }): Promise<number>
    write(offset: number, data: Buffer): Promise<void>
    saveJournal(written: number, verified: number, midstate?: Buffer): Promise<void>
    /** `verify` gets the CRC-32 the store measured over the slot's bytes. */
    markReady(verify?: (slot: number, size: number, crc: number) => Promise<boolean>): Promise<void>
    activate(options?: { permanent?: boolean; allowDowngrade?: boolean }): Promise<number>
}

export interface SotaPlatform {
    /** Restart the MCU. On a device it does not return; a simulator may throw to unwind. */
    reboot(): Promise<void>
    /** Battery level in percent; return 100 when mains-powered. */
    battery(): Promise<number>
    /** The application's own check of a new image (beyond "the module answers and the platform is up"). */
    selfTest?(): Promise<boolean>
}
