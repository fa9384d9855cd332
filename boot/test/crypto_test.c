/* The signed build's crypto (BS_SIGNATURES) on test/boot-c/ed25519-cases.ts's file: every case gets
 * the TypeScript verifier's reason, valid signatures pass, a flipped bit fails, node:crypto agrees
 * on every case but the strict rules' edges; SHA-512 gives node:crypto's digest for every length
 * 0..300. With --bench (an -O2 build, tools/boot-c.mjs): the time and the field multiplications of
 * a verification on this host.
 * Usage: crypto_test CASES [--bench]. Exit 1 on any failure. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../ed25519.h"
#include "../sha512.h"

static const char *const kinds[] = {"rfc8032", "valid", "flipped-r", "flipped-s", "flipped-message", "flipped-key", "edge"};
static const char *const reasons[] = {"ok", "non-canonical-s", "bad-point", "small-order", "bad-signature"};

static uint32_t u32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int main(int argc, char **argv) {
    FILE *f;
    long size;
    uint8_t *d, *p;
    uint32_t n, i, bad = 0, node_bad = 0, node_edge = 0, count[7] = {0}, hashes, hbad = 0;
    int bench = argc == 3 && !strcmp(argv[2], "--bench");
    if (argc < 2 || !(f = fopen(argv[1], "rb"))) fprintf(stderr, "usage: crypto_test CASES [--bench]\n"), exit(2);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    d = malloc((size_t)size);
    if (fread(d, 1, (size_t)size, f) != (size_t)size || memcmp(d, "BSED0001", 8)) fprintf(stderr, "%s: not a case file\n", argv[1]), exit(2);
    fclose(f);
    n = u32(d + 8);
    if (bench) { /* the valid cases whose message is a SHA-256, as an image's */
        struct timespec t0, t1;
        uint32_t runs = 0, muls0, squares0;
        double us;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0); /* CPU time: the machine is shared */
        muls0 = bs_ed25519_muls;
        squares0 = bs_ed25519_squares;
        for (p = d + 12, i = 0; i < n; i++, p += 103 + u32(p + 99)) {
            if (p[2] != 1 || u32(p + 99) != 32) continue;
            if (bs_ed25519_verify(p + 3, p + 103, 32, p + 35)) printf("bench: a valid case failed\n"), exit(1);
            runs++;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / runs;
        printf("ed25519 verify (host, gcc -O2): %.0f us of CPU per signature of a 32-byte digest over %u signatures, %u field multiplications each (%u of them squarings)\n",
               us, (unsigned)runs, (unsigned)((bs_ed25519_muls - muls0) / runs), (unsigned)((bs_ed25519_squares - squares0) / runs));
        return 0;
    }
    for (p = d + 12, i = 0; i < n; i++) {
        uint32_t len = u32(p + 99);
        int want = p[0], node = p[1], kind = p[2], got = bs_ed25519_verify(p + 3, p + 103, len, p + 35);
        count[kind]++;
        if (got != want || (kind <= 1 && got) || (kind >= 2 && kind <= 5 && !got)) {
            if (bad++ < 20) printf("  ed25519 case %u (%s): %s, the TypeScript %s\n", (unsigned)i, kinds[kind], reasons[got], reasons[want]);
        }
        if (node != 2 && node != !got) {
            if (kind == 6)
                node_edge++; /* OpenSSL is not strict (a small-order key) */
            else if (node_bad++ < 20)
                printf("  ed25519 case %u (%s): %s, node:crypto %s\n", (unsigned)i, kinds[kind], reasons[got], node ? "accepts" : "refuses");
        }
        p += 103 + len;
    }
    printf("ed25519 cases: %u cases (rfc8032 %u, valid %u, flipped %u, edges %u), %u disagreements with the TypeScript, %u with node:crypto "
           "(edges where OpenSSL is not strict: %u)\n",
           (unsigned)n, (unsigned)count[0], (unsigned)count[1], (unsigned)(count[2] + count[3] + count[4] + count[5]), (unsigned)count[6],
           (unsigned)bad, (unsigned)node_bad, (unsigned)node_edge);
    hashes = u32(p);
    for (p += 4, i = 0; i < hashes; i++) {
        uint32_t len = u32(p);
        uint8_t out[64];
        bs_sha512_t c;
        bs_sha512_init(&c);
        bs_sha512_update(&c, p + 4, len);
        bs_sha512_final(&c, out);
        if (memcmp(out, p + 4 + len, 64) && hbad++ < 5) printf("  sha-512 of %u bytes differs\n", (unsigned)len);
        p += 4 + len + 64;
    }
    printf("sha-512 answers: %u messages, %u failures\n", (unsigned)hashes, (unsigned)hbad);
    free(d);
    return bad || node_bad || hbad || n < 5 ? 1 : 0;
}
