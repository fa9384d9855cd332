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

/* H0 (8 words) then K (64): the first 32 bits of the fractional parts of the square roots of the
 * first 8 primes and of the cube roots of the first 64 (FIPS 180-4 4.2.2, 5.3.3), computed at the
 * first hash (about 7 M cycles on an M0+): 300 B of RAM (three more words: each root is built in
 * place over four) for 288 B of tables, in 96 B less code than the tables. */
static uint32_t HK[75];
#define K (HK + 8)

/* d = a * b in 13 bytes (byte columns 0..12, every column a 32-bit sum); returns the last column
 * with its carry, floor(a * b / 2^96) while a * b < 2^105 */
static uint32_t __attribute__((noinline)) mul(uint8_t *d, const uint8_t *a, const uint8_t *b) {
    uint32_t m, i, c = 0;
    for (m = 0; m < 13; m++) {
        c >>= 8;
        for (i = 0; i <= m; i++) c += a[i] * b[m - i];
        d[m] = (uint8_t)c;
    }
    return c;
}

/* Bit by bit from 2^34, the largest x with x^2 <= p * 2^64 (x^2 / 2^64 is byte 8 of x^2, under
 * 64: no carry past it) or x^3 <= p * 2^96 (neither is ever equal: the roots are irrational);
 * the primes by trial subtraction. No division, no 64-bit arithmetic. */
static void constants(uint32_t *s) {
    uint32_t p = 1, d, r, n, c, bit, *x, *t = s + 4;
    for (n = 0; n < 72; n++) {
        if (n == 8) p = 1;
        do { /* the next prime: its least divisor above 1 is itself */
            p++;
            d = 1;
            do
                for (r = p, d++; r > d;) r -= d;
            while (r != d);
        } while (d != p);
        x = HK + n; /* and the next three words, still 0 */
        for (bit = 35; bit--;) {
            x[bit >> 5] ^= 1u << (bit & 31);
            c = mul((uint8_t *)s, (uint8_t *)x, (uint8_t *)x);
            if (n >= 8)
                c = mul((uint8_t *)t, (uint8_t *)s, (uint8_t *)x);
            else
                c = ((uint8_t *)s)[8];
            if (c >= p) x[bit >> 5] ^= 1u << (bit & 31);
        }
        x[1] = 0;
    }
}

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

API void bs_sha256_init(bs_sha256_t *c) {
    if (!HK[0]) constants(c->w); /* the schedule: scratch until the first block */
    bs_copy((uint8_t *)c->h, HK, 32); /* a loop here is unrolled into 8 loads and stores */
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
