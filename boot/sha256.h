/* SHA-256 (FIPS 180-4), streaming; inputs under 512 MB (the W25Q family ends at 64 MB). */
#ifndef BS_SHA256_H
#define BS_SHA256_H
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint32_t len; /* bytes fed */
    uint32_t w[64]; /* the block, as big-endian words, then the rest of its schedule */
} bs_sha256_t;

#ifdef BS_HOST /* static on the board (sha256.c) */
void bs_sha256_init(bs_sha256_t *c);
void bs_sha256_final(bs_sha256_t *c, uint8_t out[32]);
#endif
void bs_sha256_update(bs_sha256_t *c, const uint8_t *p, uint32_t n);
/* The SHA-256 of the n bytes at addr on the W25Q (read through w25q_buf), zero-padded to size
 * bytes, into out (which may be w25q_buf). */
void bs_sha256_flash(uint32_t addr, uint32_t n, uint32_t size, uint8_t out[32]);
#endif
