/* Bit by bit, no table: the smallest form (about 30 B of code against 56 B and a 64-byte nibble
 * table); 8 shifts a byte cost ~0.1 s over a 128 KB slot on the slowest supported MCU, once a boot. */
#include "crc32.h"

uint32_t bs_crc32(uint32_t crc, const uint8_t *p, uint32_t n) {
    int k;
    crc = ~crc;
    while (n--)
        for (crc ^= *p++, k = 8; k--;) crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
    return ~crc;
}
