/* Small rather than fast: the whole 64-word schedule in the context (256 B, the block its first
 * 16 words: fixed offsets address it in fewer instructions than a 16-word ring), one round loop. */
#include "sha256.h"
/* On the board only bs_sha256_flash is called: the rest stays static, inlined into it. The host
 * test (BS_HOST) also hashes what its fake devsmgr receives with them. */
#ifdef BS_HOST
#define API
#else
#define API static
#endif
#include "records.h"
#include "w25q.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* The block is kept as its 16 big-endian words, shifted in byte by byte (no load step), the
 * schedule's first 16 words in place. */
static void __attribute__((noinline)) compress(bs_sha256_t *c) {
    uint32_t *w = c->w, s[8];
    int i, j;
    bs_copy((uint8_t *)s, c->h, 32);
    for (i = 0; i < 64; i++) {
        uint32_t t1, t2, x;
        if (i >= 16) { /* the schedule extended in place after the block */
            uint32_t a = w[i - 15], b = w[i - 2];
            w[i] = (ROR(a, 7) ^ ROR(a, 18) ^ (a >> 3)) + (ROR(b, 17) ^ ROR(b, 19) ^ (b >> 10)) + w[i - 7] + w[i - 16];
        }
        x = s[4];
        t1 = s[7] + (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25)) + ((x & s[5]) ^ (~x & s[6])) + K[i] + w[i];
        x = s[0];
        t2 = (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22)) + ((x & s[1]) | (s[2] & (x | s[1])));
        for (j = 7; j > 0; j--) s[j] = s[j - 1];
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (i = 0; i < 8; i++) c->h[i] += s[i];
}

static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

API void bs_sha256_init(bs_sha256_t *c) {
    bs_copy((uint8_t *)c->h, H0, 32); /* a loop here is unrolled into 8 loads and stores */
    c->len = 0;
}

static void byte(bs_sha256_t *c, uint32_t b) {
    uint32_t *w = &c->w[(c->len >> 2) & 15];
    *w = *w << 8 | (b & 255);
    if ((++c->len & 63) == 0) compress(c);
}

void bs_sha256_update(bs_sha256_t *c, const uint8_t *p, uint32_t n) {
    while (n--) byte(c, *p++);
}

/* 0x80, zeros to byte 56 of a block (the next one when 0x80 lands at 56 or past it), then the
 * length in bits as the block's last two words (the high one 0 for inputs under 512 MB). */
API void bs_sha256_final(bs_sha256_t *c, uint8_t out[32]) {
    uint32_t bits = c->len << 3, b = 0x80;
    int i;
    do {
        byte(c, b);
        b = 0;
    } while ((c->len & 63) != 56);
    c->w[14] = 0;
    c->w[15] = bits;
    compress(c);
    for (i = 0; i < 8; i++) c->h[i] = __builtin_bswap32(c->h[i]); /* REV: big-endian out */
    bs_copy(out, c->h, 32);
}

void bs_sha256_flash(uint32_t addr, uint32_t n, uint32_t size, uint8_t out[32]) {
    bs_sha256_t c;
    bs_sha256_init(&c);
    w25q_digest(&c, addr, n);
    while (n++ < size) byte(&c, 0);
    bs_sha256_final(&c, out);
}
