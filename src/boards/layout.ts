// Where the image store lives on a board's external W25Q flash. Portable (no pins, no SPI), so
// Node tests check it against the store's own layout rules.
//
//   0x000000  metadata log, 2 sectors (8 KB): the store's append-only records (A/B select,
//             slot states, download journal), two sectors so one can be erased while the other
//             holds the newest valid record
//   0x002000  slot 0, `slotSize` bytes
//   ........  slot 1, `slotSize` bytes
//   ........  the rest of the chip is left to the application
//
// What a slot holds on a DeviceScript board is the application payload: a `.devs` bytecode
// image (architecture-independent; `npm run build:boards` keeps it under 64 KB). The runtime
// itself stores the bytecode it runs in its own internal flash partition (fstor: 256 KB on
// ESP32, 128 KB on RP2040, shared with settings), so 128 KB per slot leaves room to grow and
// never more than fstor could take.

import { StoreLayout } from "../flash/store-config"

export const W25Q_SECTOR_SIZE = 4096
export const BOARD_META_SECTORS = 2
/** Per slot: a DeviceScript bytecode image with headroom (see the header). */
export const BOARD_SLOT_SIZE = 128 * 1024

/** Metadata at 0, then two slots of `slotSize` (rounded up to sectors); throws when the chip is too small. */
export function boardLayout(flashSize: number, slotSize?: number): StoreLayout {
    const want = slotSize || BOARD_SLOT_SIZE
    const slot = Math.ceil(want / W25Q_SECTOR_SIZE) * W25Q_SECTOR_SIZE
    const meta = BOARD_META_SECTORS * W25Q_SECTOR_SIZE
    const end = meta + 2 * slot
    if (end > flashSize) throw new Error(`two ${slot}-byte slots and ${meta} bytes of metadata need ${end} bytes; the flash has ${flashSize}`)
    return { metaAddress: 0, metaSectors: BOARD_META_SECTORS, slotAddress: [meta, meta + slot], slotSize: slot }
}
