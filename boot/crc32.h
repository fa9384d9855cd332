/* CRC-32/ISO-HDLC, as src/lib/crc32.ts: start with 0, feed pieces, get the final value. */
#ifndef BS_CRC32_H
#define BS_CRC32_H
#include <stdint.h>
uint32_t bs_crc32(uint32_t crc, const uint8_t *p, uint32_t n);
#endif
