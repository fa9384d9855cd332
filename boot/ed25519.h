/* Ed25519 signature verification (RFC 8032 5.1.7) for the signed build (BS_SIGNATURES), with
 * src/crypto/ed25519.ts's rules and reasons: S < L; R and A canonical (y < p) and not one of
 * the 8 points of small order; A decodes; the cofactorless equation checked as the encoding of
 * [S]B - [k]A equal to R byte for byte. No heap, no table of points, not constant time (nothing
 * secret is handled). */
#ifndef BS_ED25519_H
#define BS_ED25519_H
#include <stdint.h>

/* checkEd25519's reasons (Ed25519Reason), bad-length aside: the sizes are fixed here */
enum { BS_ED_OK, BS_ED_NON_CANONICAL_S, BS_ED_BAD_POINT, BS_ED_SMALL_ORDER, BS_ED_BAD_SIGNATURE };

/* 0 when sig (R || S) is key's signature of the n bytes at msg, else the reason. */
int bs_ed25519_verify(const uint8_t key[32], const uint8_t *msg, uint32_t n, const uint8_t sig[64]);

#ifdef BS_HOST
extern uint32_t bs_ed25519_muls, bs_ed25519_squares; /* field multiplications so far, and the squarings among them: the cycle estimate */
#endif
#endif
