/* A port of MetaLog.mount/append and scanSector: the same records found in the same order (sector
 * by sector, offset by offset), the same newest-per-type fold, the same append point (past the
 * last byte that is not 0xFF, or past the last valid record when that is later), the same wrap.
 * Headers are read from the chip one at a time: a healthy sector is records back to back, so only
 * torn or damaged stretches are walked a unit at a time. The TypeScript store never programs a
 * unit that is all 0xFF (programSkippingErased: MCU flashes with ECC refuse a second program);
 * this stage writes a W25Q and
 * programs the record's bytes only; the rest of its last unit stays erased. */
#include "meta_log.h"
#include "crc32.h"
#include "w25q.h"

#define MAGIC 0xa5
#define HEADER 12

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the boot stage writes little-endian fields as words"
#endif

int bs_rec_newer(const bs_rec_t *a, const bs_rec_t *b) {
    /* RFC 1982 order of the u32 sequences: a - b in [1, 2^31) */
    return a->found && (!b->found || (int32_t)(a->seq - b->seq) > 0);
}

/* r becomes the record (seq, body, len) when that is newer. */
static void keep(bs_rec_t *r, uint32_t seq, uint32_t body, uint32_t len) {
    bs_rec_t c;
    c.found = 1;
    c.seq = seq;
    c.body = body;
    c.len = (uint16_t)len;
    if (bs_rec_newer(&c, r)) *r = c;
}

/* A valid record at body - HEADER: the newest of all (its sector kept as the body: the current
 * sector), the newest STATE that decodes (into check, as scratch), the newest that does not (the
 * mount logs a fallback when it is newer than the one used), the newest PROGRESS. */
static void found(bs_log_t *lg, int sector, const uint8_t *h, uint32_t body, bs_state_t *check) {
    uint32_t seq = bs_get32(h + 8), len = h[2] | (uint32_t)h[3] << 8, type = h[1];
    keep(&lg->rec[0], seq, (uint32_t)sector, 0);
    if (type == REC_STATE || type == REC_PROGRESS)
        keep(&lg->rec[type == REC_STATE && bs_decode(body, len, check, REC_STATE) ? LOG_BAD_STATE : type], seq, body, len);
}

static void scan(bs_log_t *lg, int sector, bs_state_t *check) {
    uint32_t unit = lg->unit, base = lg->base + (uint32_t)sector * W25Q_SECTOR, p, tail;
    uint8_t h[HEADER];
    tail = w25q_digest(W25Q_TAIL, base, W25Q_SECTOR); /* past the last byte that is not 0xFF */
    tail = (tail + unit - 1) & ~(unit - 1);
    for (p = 0; p < tail; p += unit) {
        uint32_t len, e;
        w25q_read(base + p, h, HEADER);
        len = h[2] | (uint32_t)h[3] << 8;
        e = p + HEADER + len;
        if (h[0] == MAGIC && h[6] == 1 && (len ^ 0xffff) == (h[4] | (uint32_t)h[5] << 8) &&
            len <= W25Q_SECTOR / 4 - 16 - unit && e + 4 <= W25Q_SECTOR) {
            /* the CRC-32 over the record and its own CRC (little-endian) is the constant residue
             * 0x2144DF1C exactly when the CRC is right: no separate read of it */
            if (w25q_digest(0, base + p, HEADER + len + 4) == 0x2144df1cu) {
                found(lg, sector, h, base + p + HEADER, check);
                p += ((16 + len + unit - 1) & ~(unit - 1)) - unit;
            }
        }
    }
    /* p is the tail, or past it when the last record's last units were all 0xFF (left
     * unprogrammed): the append point */
    if (lg->rec[0].body == (uint32_t)sector) lg->tail = p;
}

void bs_log_mount(bs_log_t *lg, bs_state_t *check) {
    int s;
    lg->tail = W25Q_SECTOR; /* stays full without a record: the first append erases sector 0 */
    for (s = 0; s < 4; s++) lg->rec[s].found = 0;
    lg->rec[0].seq = 0;           /* an empty log: the first record is 1 ... */
    lg->rec[0].body = 0xffffffff; /* ... in sector 0 */
    for (s = 0; s < lg->sectors; s++) scan(lg, s, check);
}

int bs_log_state(bs_log_t *lg, const bs_state_t *st) {
    bs_rec_t *last = &lg->rec[0];
    uint8_t *buf = w25q_buf;
    uint32_t h[3];
    uint32_t len = bs_encode_state(st, buf + HEADER), unit = lg->unit, size = (16 + len + unit - 1) & ~(unit - 1), addr, i;
    if (lg->tail + 2 * size > W25Q_SECTOR) {
        uint32_t next = last->body + 1;
        if (next >= lg->sectors) next = 0;
        if (w25q_erase(lg->base + next * W25Q_SECTOR)) return -1;
        last->body = next;
        lg->tail = 0;
    }
    /* magic, type, length | its complement, format 1 | sequence, as little-endian words */
    h[0] = MAGIC | REC_STATE << 8 | len << 16;
    h[1] = ~len + (2u << 16); /* (len ^ 0xffff) | 1 << 16 for len < 2^16, without a literal */
    h[2] = last->seq + 1;
    bs_copy(buf, h, HEADER);
    h[0] = bs_crc32(0, buf, HEADER + len);
    bs_copy(buf + HEADER + len, h, 4);
    addr = lg->base + last->body * W25Q_SECTOR + lg->tail;
    /* copy 0, then copy 1: a cut during copy 1 leaves copy 0 whole and the record in force. The
     * rest of each copy's units stays erased (past the tail: all 0xFF), so only the record goes out */
    for (i = 0; i < 2; i++)
        if (w25q_program(addr + i * size, buf, 16 + len)) return -1;
    lg->tail += 2 * size;
    last->seq++;
    return 0;
}
