// What the SOTA agent needs from the device besides its image store (flash/store-port.ts), and
// nothing more (the shape of AWS IoT OTA's platform interface): a reboot and a few sensors.
// Boards, the simulator and tests supply it.

export interface SotaPlatform {
    /** Restart the MCU. On a device it does not return; a simulator may throw to unwind. */
    reboot(): Promise<void>
    /** Battery level in percent; return 100 when mains-powered. */
    battery(): Promise<number>
    /** The application's own check of a new image (beyond "the module answers and the platform is up"). */
    selfTest?(): Promise<boolean>
}
