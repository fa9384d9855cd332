/* The store's metadata log (src/flash/meta-log.ts): records of magic 0xA5, type, length and its
 * complement, format 1, sequence, body, CRC-32, each written twice, over a ring of ≥ 2 W25Q
 * sectors. The mount keeps where the newest STATE and PROGRESS are, not their bodies. */
#ifndef BS_META_LOG_H
#define BS_META_LOG_H
#include <stdint.h>
#include "records.h"

typedef struct {
    uint32_t seq, body; /* body: its flash address */
    uint16_t len;
    uint8_t found;
} bs_rec_t;

#define LOG_BAD_STATE 3

typedef struct {
    uint32_t base;
    uint8_t sectors, unit; /* unit: the store's program unit, a power of two ≤ 32 */
    uint32_t tail; /* where the next record goes in the newest record's sector */
    /* the newest record of all (body: its sector; seq 0 in sector -1 when the log is empty: the
     * append's next record and sector), REC_STATE: the newest STATE that decodes,
     * REC_PROGRESS, LOG_BAD_STATE: the newest STATE that does not */
    bs_rec_t rec[4];
} bs_log_t;

/* a is found and newer than b (RFC 1982 order of u32 sequences), or b is not found */
int bs_rec_newer(const bs_rec_t *a, const bs_rec_t *b);
/* Scan every sector through w25q_buf. A STATE counts only when it decodes (into *check, as
 * scratch): the newest readable STATE, as mount(stateReadable). */
void bs_log_mount(bs_log_t *lg, bs_state_t *check);
/* Append st as a STATE record, encoded in w25q_buf (16 + 462 + unit bytes at most: the copy
 * buffer's 512 hold it) before anything is erased (the midstate it copies may lie in the sector
 * the log wraps onto); the log wraps onto the next sector, erased, when both copies do not fit.
 * 0, or -1 when the flash did not take it. */
int bs_log_state(bs_log_t *lg, const bs_state_t *st);
#endif
