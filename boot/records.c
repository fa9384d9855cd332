/* Decoding reads the body straight from the flash (no buffer: it runs while the log's scan holds
 * the copy buffer). It does not decode on any read past the body, a state past "bad", a version
 * over 32, a SHA-256 over 32 or an MD5 over 16 bytes, trailing bytes, a format other than 1 or 2, or
 * an active slot other than 0, 1 or 0xFF: exactly where decodeState returns null. */
#include "records.h"
#include "w25q.h"

typedef struct {
    uint32_t at, end;
} rd_t;

static int get(rd_t *r, uint8_t *dst, uint32_t n) {
    if (r->end - r->at < n) return -1;
    w25q_read(r->at, dst, n);
    r->at += n;
    return 0;
}

uint32_t bs_get32(const uint8_t *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint8_t *bs_copy(uint8_t *p, const void *src, uint32_t n) {
    const uint8_t *s = src;
    while (n--) *p++ = *s++;
    return p;
}

int bs_differ(const uint8_t *a, const uint8_t *b, uint32_t n) {
    while (n--)
        if (*a++ != *b++) return 1;
    return 0;
}


static int slot(rd_t *r, bs_slot_t *s) {
    /* after each length byte: the version and size, crc32 and the SHA-256's length; the SHA-256
     * and the MD5's length; the MD5 */
    static const uint8_t cap[3] = {32, 32, 16}, more[3] = {9, 1, 0};
    uint32_t p = 4, k;
    if (get(r, s->raw, 4) || SLOT_STATE(s) >= SLOT_STATES) return -1;
    SLOT_FLAGS(s) &= 0x7f; /* bit 7 means nothing: encodeState drops it */
    for (k = 0; k < 3; k++) {
        uint32_t n = s->raw[p - 1];
        if (n > cap[k] || get(r, s->raw + p, n + more[k])) return -1;
        p += n + more[k];
    }
    s->len = (uint8_t)p;
    return 0;
}

/* A STATE body: active, format, the security counter's low half, session, (format 2) its high
 * half, two slots, then the progress (written, verified, the midstate's length, the midstate to
 * the end of the body). A PROGRESS
 * body: the session, which must be st's, then the progress. Only a body that decodes changes st's
 * progress. */
int bs_decode(uint32_t addr, uint32_t len, bs_state_t *st, int type) {
    uint8_t h[4], prog[9];
    rd_t r;
    r.at = addr;
    r.end = addr + len;
    if (type == REC_STATE) {
        /* active 0, 1 or 0xFF (-1: none), format 1 or 2, the security counter (written back unchanged),
         * the session: 8 bytes, or 10 with format 2's high half; a body that decodes has 10, so 10 are
         * read and the reader moves back 2 for format 1 (smaller than a second read) */
        if (get(&r, (uint8_t *)st, 10) || (uint8_t)(st->format - 1) > 1 || (uint8_t)(st->active + 1) > 2 ||
            (r.at += 2 * st->format - 4, slot(&r, &st->slot[0])) || slot(&r, &st->slot[1]))
            return -1;
    } else if (get(&r, h, 4) || bs_differ(h, st->session, 4))
        return -1;
    if (get(&r, prog, 9) || r.end - r.at != prog[8]) return -1;
    bs_copy(st->prog, prog, 9);
    st->mid_addr = r.at;
    return 0;
}

uint32_t bs_encode_state(const bs_state_t *st, uint8_t *out) {
    uint8_t *p = bs_copy(out, st, 6 + 2 * st->format); /* active, format (1 or 2: only a decoded state is written), counter, session, format 2's high half */
    p = bs_copy(p, st->slot[0].raw, st->slot[0].len);
    p = bs_copy(p, st->slot[1].raw, st->slot[1].len);
    p = bs_copy(p, st->prog, 9);
    w25q_read(st->mid_addr, p, st->prog[8]);
    return (uint32_t)(p - out) + st->prog[8];
}
