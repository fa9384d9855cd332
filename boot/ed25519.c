/* Ed25519 verification for the signed build, after RFC 8032 and the shape of src/crypto (the same
 * checks in the same order, the same reasons, the same Straus chain of NAF digits). GF(2^255 - 19)
 * elements are 16 limbs of 16 bits (a value below 2^256, reduced mod p only when packed), summed
 * in 32-bit words and carried back: a product of two limbs fits 32 bits (one MULS on a
 * Cortex-M0+), and no 64-bit arithmetic is needed. */
#ifdef BS_SIGNATURES
#include "ed25519.h"
#include "sha512.h"

typedef uint16_t fe[16]; /* 32 B: the verifier's 15 elements take 480 B of stack */

/* the scalar reduction shifts negative numbers right: arithmetic shifts, as GCC and Clang do */
typedef char bs_arithmetic_shift[(-1 >> 1) == -1 ? 1 : -1];

#ifdef BS_HOST
uint32_t bs_ed25519_muls, bs_ed25519_squares;
#endif

/* Little-endian constants: p, L, d, sqrt(-1), the base point's x and y, and the y of the points of
 * small order (libsodium's list, src/crypto/edwards25519.ts SMALL_ORDER_Y: 0, 1, the two of order 8, p - 1). */
static const uint8_t P[32] = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
static const uint8_t D[32] = {0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
                              0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52};
static const uint8_t SQRT_M1[32] = {0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
                                    0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b};
static const uint8_t BX[32] = {0x1a, 0xd5, 0x25, 0x8f, 0x60, 0x2d, 0x56, 0xc9, 0xb2, 0xa7, 0x25, 0x95, 0x60, 0xc7, 0x2c, 0x69,
                               0x5c, 0xdc, 0xd6, 0xfd, 0x31, 0xe2, 0xa4, 0xc0, 0xfe, 0x53, 0x6e, 0xcd, 0xd3, 0x36, 0x69, 0x21};
static const uint8_t BY[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                               0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
static const uint8_t ORDER8[2][32] = {
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}};

/* src/crypto's compare32: the 32 little-endian bytes at b, the top one masked, against c */
static int cmp32(const uint8_t *b, const uint8_t *c, uint8_t mask) {
    int i = 31, x = b[31] & mask;
    while (x == c[i] && i > 0) x = b[--i];
    return x - c[i];
}

/* o = t, 16 sums of limbs: every one carried into the next, the carry out of limb 15 (2^256 = 38
 * mod p) into limb 0, until none is left. Each round takes the value down by about 2^256, so two
 * or three. */
static void car(uint16_t *o, uint32_t *t) {
    uint32_t c = 0, i;
    do {
        for (i = 0; i < 16; i++) {
            t[i] += c;
            c = t[i] >> 16;
            t[i] &= 0xffff;
        }
        c *= 38;
    } while (c);
    for (i = 0; i < 16; i++) o[i] = (uint16_t)t[i];
}

static void add(uint16_t *o, const uint16_t *a, const uint16_t *b) {
    uint32_t t[16];
    int i;
    for (i = 0; i < 16; i++) t[i] = (uint32_t)a[i] + b[i];
    car(o, t);
}

/* a - b + 4p: 4p's limbs (0x3ffb4, 0x3fffc, ..., 0x1fffc) exceed any limb of b, so no limb goes negative */
static void sub(uint16_t *o, const uint16_t *a, const uint16_t *b) {
    uint32_t t[16];
    int i;
    for (i = 0; i < 16; i++) t[i] = a[i] + (i == 0 ? 0x3ffb4u : i == 15 ? 0x1fffcu : 0x3fffcu) - b[i];
    car(o, t);
}

/* o = a b: the 31 columns of the schoolbook product carried into 32 limbs of 16 bits, the top 16
 * folded onto the low ones times 38 (2^256 = 38 mod p). o may be a or b; a square (a == b) takes
 * 136 products instead of 256. A column sums the low
 * and the high halves of its (at most 16) products apart, each below 2^20: 32-bit arithmetic only
 * (a 64-bit sum spilled to the stack at every product on Thumb-1: twice the cycles). */
static void mul(uint16_t *o, const uint16_t *a, const uint16_t *b) {
    uint32_t t[32], c = 0;
    int i, k;
#ifdef BS_HOST
    bs_ed25519_muls++;
    bs_ed25519_squares += a == b;
#endif
    for (k = 0; k < 31; k++) {
        uint32_t lo = 0, hi = 0, x, n = (k < 16 ? k : 30 - k) + 1; /* a[i] b[k - i] for i from */
        const uint16_t *pa = a + (i = k < 16 ? 0 : k - 15), *pb = b + k - i + 1, *end; /* max(0, k - 15) on */
        if (a == b) n >>= 1; /* a square: the products a[i] a[j], i < j, doubled, and a[k/2]^2 */
        for (end = pa + n; pa != end;) { /* pointers, not indexes: half the instructions a product on Thumb-1 */
            x = (uint32_t)*pa++ * *--pb;
            lo += x & 0xffff;
            hi += x >> 16;
        }
        if (a == b) {
            lo <<= 1;
            hi <<= 1;
            if (!(k & 1)) { /* pa is at a[k/2] */
                x = (uint32_t)*pa * *pa;
                lo += x & 0xffff;
                hi += x >> 16;
            }
        }
        c += lo;
        t[k] = c & 0xffff;
        c = (c >> 16) + hi;
    }
    t[31] = c; /* below 2^16: the product is below 2^512 */
    for (i = 0; i < 16; i++) t[i] += 38 * t[i + 16];
    car(o, t);
}

static void copy(uint16_t *o, const uint16_t *a) {
    int i;
    for (i = 0; i < 16; i++) o[i] = a[i];
}

/* o = v, a small number (a loop: an initialised array would call memset) */
static void set(uint16_t *o, uint16_t v) {
    int i;
    for (i = 0; i < 16; i++) o[i] = i ? 0 : v;
}

/* The 32 bytes at b (bit 255 dropped) as an element */
static void unpack(uint16_t *o, const uint8_t *b) {
    int i;
    for (i = 0; i < 16; i++) o[i] = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
    o[15] &= 0x7fff;
}

/* The canonical encoding of a (below 2^256 < 3p: p taken off at most twice) */
static void pack(uint8_t *out, const uint16_t *a) {
    uint16_t t[16], m[16];
    uint32_t b, x;
    int i, j;
    copy(t, a);
    for (j = 0; j < 2; j++) {
        for (b = 0, i = 0; i < 16; i++) {
            x = t[i] - (P[2 * i] | (uint32_t)P[2 * i + 1] << 8) - b;
            m[i] = (uint16_t)x;
            b = x >> 16 & 1;
        }
        if (!b) copy(t, m);
    }
    for (i = 0; i < 16; i++) {
        out[2 * i] = (uint8_t)t[i];
        out[2 * i + 1] = (uint8_t)(t[i] >> 8);
    }
}

/* 1 when a is 0 mod p */
static int is_zero(const uint16_t *a) {
    uint8_t b[32];
    int i, x = 0;
    pack(b, a);
    for (i = 0; i < 32; i++) x |= b[i];
    return !x;
}

/* x = x^(2^n) m */
static void sqn(uint16_t *x, int n, const uint16_t *m) {
    while (n--) mul(x, x, x);
    mul(x, x, m);
}

/* o = z^(2^252 - 3) (inv 0: the square root's power, (p - 5) / 8) or z^(2^255 - 21) (inv 1: the
 * inverse, p - 2), by an addition chain after ref10's: z^11, then z^(2^k - 1) for k = 5, 10 ... 50,
 * 100 ... 250 (each step x^(2^n) times the step's start), then the tail: 254 squarings and 13
 * multiplications against 505 operations bit by bit. t: three spare elements; o may be z. */
static void power(uint16_t *o, const uint16_t *z, int inv, fe *t) {
    uint16_t *z11 = t[0], *a = t[1], *x = t[2];
    int i, j;
    mul(z11, z, z);
    copy(a, z11);
    sqn(a, 2, z); /* z^9 */
    mul(z11, z11, a);
    copy(x, z11);
    sqn(x, 1, a); /* z^31 = z^(2^5 - 1) */
    for (j = 0; j < 3; j++) { /* 2^10 - 1; 2^20 ... 2^50 - 1; 2^100 ... 2^250 - 1 */
        copy(a, x);
        for (i = j ? 4 : 1; i > 0; i--) sqn(x, j == 0 ? 5 : j == 1 ? 10 : 50, a);
    }
    if (inv)
        sqn(x, 5, z11);
    else
        sqn(x, 2, z);
    copy(o, x);
}

/* The working point (X : Y : Z : T), the completed point R0..R3 of a step, a temporary, then -A
 * and B in Niels form (y + x, y - x, 2 d x y): 15 elements, 480 bytes of stack. */
enum { X, Y, Z, T, R0, R1, R2, R3, TMP, A, B = A + 3, COUNT = B + 3 };

/* (R0 : R2) x (R1 : R3) back to X, Y, Z, and T when the next step adds */
static void complete(fe *w, int need_t) {
    mul(w[X], w[R0], w[R3]);
    mul(w[Y], w[R1], w[R2]);
    mul(w[Z], w[R2], w[R3]);
    if (need_t) mul(w[T], w[R0], w[R1]);
}

/* P = 2P (ref10's p2_dbl): 7 or 8 multiplications */
static void dbl(fe *w, int need_t) {
    mul(w[R0], w[X], w[X]);
    mul(w[R2], w[Y], w[Y]);
    mul(w[R3], w[Z], w[Z]);
    add(w[R3], w[R3], w[R3]);
    add(w[TMP], w[X], w[Y]);
    mul(w[TMP], w[TMP], w[TMP]);
    add(w[R1], w[R2], w[R0]);
    sub(w[R2], w[R2], w[R0]);
    sub(w[R0], w[TMP], w[R1]);
    sub(w[R3], w[R3], w[R2]);
    complete(w, need_t);
}

/* P = P + Q, or P - Q when neg (ref10's madd and msub); q: A or B */
static void madd(fe *w, int q, int neg, int need_t) {
    add(w[R0], w[Y], w[X]);
    sub(w[R1], w[Y], w[X]);
    mul(w[R2], w[R0], w[q + neg]);
    mul(w[R1], w[R1], w[q + 1 - neg]);
    mul(w[R3], w[q + 2], w[T]);
    add(w[TMP], w[Z], w[Z]);
    sub(w[R0], w[R2], w[R1]);
    add(w[R1], w[R2], w[R1]);
    if (neg) {
        sub(w[R2], w[TMP], w[R3]);
        add(w[R3], w[TMP], w[R3]);
    } else {
        add(w[R2], w[TMP], w[R3]);
        sub(w[R3], w[TMP], w[R3]);
    }
    complete(w, need_t);
}

/* The affine point (x, y) into Niels form at w[q] (x, y clobbered: x ends as x y) */
static void niels(fe *w, int q, uint16_t *x, uint16_t *y) {
    add(w[q], y, x);
    sub(w[q + 1], y, x);
    mul(x, x, y);
    unpack(y, D);
    add(y, y, y);
    mul(w[q + 2], x, y);
}

/* RFC 8032 5.1.3: decode A (y canonical, checked) and store -A in Niels form; 0 when
 * x^2 = (y^2 - 1) / (d y^2 + 1) has no root, or x = 0 with the sign bit set. */
static int decode_negated(fe *w, const uint8_t *b) {
    uint16_t *y = w[X], *u = w[Y], *v = w[Z], *v3 = w[T], *x = w[TMP], *c = w[R3], *vxx = w[R0];
    unpack(y, b);
    mul(u, y, y);
    unpack(c, D);
    mul(v, u, c);
    set(c, 1);
    sub(u, u, c); /* y^2 - 1 */
    add(v, v, c); /* d y^2 + 1 */
    mul(v3, v, v);
    mul(v3, v3, v);
    mul(x, v3, v3);
    mul(x, x, v);
    mul(x, x, u); /* u v^7 */
    power(x, x, 0, w + R0);
    mul(x, x, v3);
    mul(x, x, u); /* the candidate root u v^3 (u v^7)^((p-5)/8) */
    mul(vxx, x, x);
    mul(vxx, vxx, v);
    sub(c, vxx, u);
    if (!is_zero(c)) {
        add(c, vxx, u);
        if (!is_zero(c)) return 0;
        unpack(c, SQRT_M1); /* v x^2 = -u: the root is x sqrt(-1) */
        mul(x, x, c);
    }
    {
        uint8_t bx[32];
        int sign = b[31] >> 7, z = 0, i;
        pack(bx, x);
        for (i = 0; i < 32; i++) z |= bx[i];
        if (sign && !z) return 0;
        if ((bx[0] & 1) == sign) { /* -A: the x of the other sign */
            set(c, 0);
            sub(x, c, x);
        }
    }
    niels(w, A, x, y);
    return 1;
}

/* out = the 64 little-endian bytes at h mod L (src/crypto/scalar25519.ts scalarReduce: every
 * intermediate below 2^29 in magnitude) */
static void __attribute__((noinline)) reduce(uint8_t *out, const uint8_t *h) { /* its 256 B of frame apart from the point steps' */
    int32_t x[64], carry, xi, top;
    int i, j;
    for (i = 0; i < 64; i++) x[i] = h[i];
    for (i = 63; i >= 32; i--) {
        carry = 0;
        xi = 16 * x[i];
        for (j = i - 32; j < i - 12; j++) {
            int32_t v = x[j] + carry - xi * L[j - (i - 32)];
            carry = (v + 128) >> 8;
            x[j] = v - carry * 256;
        }
        x[j] += carry;
        x[i] = 0;
    }
    carry = 0;
    top = x[31] >> 4;
    for (j = 0; j < 32; j++) {
        x[j] += carry - top * L[j];
        carry = x[j] >> 8;
        x[j] &= 255;
    }
    for (j = 0; j < 32; j++) x[j] -= carry * L[j];
    for (i = 0; i < 32; i++) {
        x[i + 1] += x[i] >> 8;
        out[i] = (uint8_t)(x[i] & 255);
    }
}

/* 3k into out (k < 2^253: 3k fits 32 bytes) */
static void triple(uint8_t *out, const uint8_t *k) {
    uint32_t c = 0, i;
    for (i = 0; i < 32; i++) {
        c += 3u * k[i];
        out[i] = (uint8_t)c;
        c >>= 8;
    }
}

/* Digit j (0..253) of k's non-adjacent form, -1, 0 or 1: bit j+1 of 3k minus bit j+1 of k */
static int naf(const uint8_t *k3, const uint8_t *k, int j) {
    return (k3[(j + 1) >> 3] >> ((j + 1) & 7) & 1) - (k[(j + 1) >> 3] >> ((j + 1) & 7) & 1);
}

int bs_ed25519_verify(const uint8_t key[32], const uint8_t *msg, uint32_t n, const uint8_t sig[64]) {
    union { /* the hash is done before the points start: one frame, 260 B less stack */
        fe w[COUNT];
        struct {
            bs_sha512_t c;
            uint8_t h[64];
        } s;
    } u;
    fe *w = u.w;
    uint8_t *h = u.s.h, k[32], k3[32], s3[32];
    int i, j, started = 0;
    const uint8_t *s = sig + 32;
    if (cmp32(s, L, 0xff) >= 0) return BS_ED_NON_CANONICAL_S;
    if (cmp32(sig, P, 0x7f) >= 0 || cmp32(key, P, 0x7f) >= 0) return BS_ED_BAD_POINT;
    for (i = 0; i < 5; i++) { /* y = 0, 1, p - 1 (p's bytes, the first one less), the two of order 8 */
        for (j = 0; j < 32; j++) h[j] = i < 2 ? (uint8_t)(!j && i) : i == 2 ? (uint8_t)(P[j] - !j) : ORDER8[i - 3][j];
        if (!cmp32(sig, h, 0x7f) || !cmp32(key, h, 0x7f)) return BS_ED_SMALL_ORDER;
    }
    /* k = SHA-512(R || A || M) mod L */
    bs_sha512_init(&u.s.c);
    bs_sha512_update(&u.s.c, sig, 32);
    bs_sha512_update(&u.s.c, key, 32);
    bs_sha512_update(&u.s.c, msg, n);
    bs_sha512_final(&u.s.c, h);
    reduce(k, h);
    if (!decode_negated(w, key)) return BS_ED_BAD_POINT;
    /* B into its Niels slots, the running point the neutral one (0 : 1 : 1 : 0) */
    unpack(w[X], BX);
    unpack(w[Y], BY);
    niels(w, B, w[X], w[Y]);
    set(w[X], 0);
    set(w[Y], 1);
    set(w[Z], 1);
    set(w[T], 0);
    /* [S]B - [k]A by one chain of 254 doublings with the NAF digits of both scalars (Straus) */
    triple(s3, s);
    triple(k3, k);
    for (j = 253; j >= 0; j--) {
        int ds = naf(s3, s, j), dk = naf(k3, k, j);
        if (started) dbl(w, ds || dk);
        if (ds) {
            madd(w, B, ds < 0, dk != 0);
            started = 1;
        }
        if (dk) {
            madd(w, A, dk < 0, 0); /* the slots hold -A */
            started = 1;
        }
    }
    /* its encoding (RFC 8032 5.1.2) against R */
    power(w[TMP], w[Z], 1, w + R0);
    mul(w[R0], w[X], w[TMP]);
    mul(w[R1], w[Y], w[TMP]);
    pack(k3, w[R0]); /* the scalars are done with: x's bytes, then y's */
    pack(k, w[R1]);
    k[31] |= (uint8_t)((k3[0] & 1) << 7);
    for (i = 0; i < 32; i++)
        if (k[i] != sig[i]) return BS_ED_BAD_SIGNATURE;
    return BS_ED_OK;
}
#else
typedef int bs_ed25519_unused; /* the plain build: an empty unit */
#endif
