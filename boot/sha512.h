/* SHA-512 (FIPS 180-4), streaming, for Ed25519's challenge SHA-512(R || A || M): built with
 * BS_SIGNATURES only. Inputs under 512 MB (the length is kept in 32 bits). */
#ifndef BS_SHA512_H
#define BS_SHA512_H
#include <stdint.h>

typedef struct {
    uint64_t h[8];
    uint8_t b[128]; /* the block being filled */
    uint32_t len;   /* bytes fed */
} bs_sha512_t;

void bs_sha512_init(bs_sha512_t *c);
void bs_sha512_update(bs_sha512_t *c, const uint8_t *p, uint32_t n);
void bs_sha512_final(bs_sha512_t *c, uint8_t out[64]);
#endif
