/* The store's STATE and PROGRESS bodies (src/flash/store-records.ts, formats 1 and 2). A slot is kept
 * as it is encoded (state, bootsLeft, flags, version, size, crc32, sha256, md5): the stage
 * changes only its first three bytes, so encoding copies it back; what encodeState would
 * normalise (flag bit 7, the reserved bytes) is normalised here too. */
#ifndef BS_RECORDS_H
#define BS_RECORDS_H
#include <stdint.h>

#define REC_STATE 1
#define REC_PROGRESS 2

enum { SLOT_EMPTY, SLOT_RECEIVING, SLOT_READY, SLOT_TRIAL, SLOT_CONFIRMED, SLOT_BAD, SLOT_STATES };
/* BadWhy (src/flash/store-port.ts) values the stage writes */
enum { WHY_NOT_CONFIRMED = 1, WHY_IMAGE_CHECK = 3, WHY_CRC = 4 };
/* slot flags: bit 0 crc known, bits 1-5 why, bit 6 unreported */
#define FLAG_CRC 1
#define FLAG_NEWS 64

typedef struct {
    uint8_t raw[127]; /* 4 + 32 + 8 + 1 + 32 + 1 + 16 = 94 used; 128 B a slot: indexed by a shift */
    uint8_t len;
} bs_slot_t;

#define SLOT_STATE(s) ((s)->raw[0])
#define SLOT_BOOTS(s) ((s)->raw[1])
#define SLOT_FLAGS(s) ((s)->raw[2])
#define SLOT_VER_LEN(s) ((s)->raw[3])
#define SLOT_VER(s) ((s)->raw + 4)

typedef struct {
    /* the STATE body's first 8 bytes (format 1) or 10 (format 2), read and written as they are */
    int8_t active; /* -1: none */
    uint8_t format; /* 1, or 2 while the security counter is above 65 535 */
    uint8_t counter[2]; /* the security counter's low half, kept as read */
    uint8_t session[4];
    uint8_t counter_hi[2]; /* format 2: its high half, kept as read */
    uint8_t prog[9];   /* written, verified, midstate length */
    uint32_t mid_addr; /* the midstate stays on the flash (up to 255 bytes) */
    bs_slot_t slot[2];
} bs_state_t;

uint32_t bs_get32(const uint8_t *p);
/* Shared byte helpers (one copy of each loop in the image): copy n bytes, returning the end;
 * whether n bytes differ. */
uint8_t *bs_copy(uint8_t *p, const void *src, uint32_t n);
int bs_differ(const uint8_t *a, const uint8_t *b, uint32_t n);
/* after the version: the image size, then its CRC-32 */
#define SLOT_SIZE(s) bs_get32((s)->raw + 4 + SLOT_VER_LEN(s))
#define SLOT_CRC(s) bs_get32((s)->raw + 8 + SLOT_VER_LEN(s))
/* A STATE (type REC_STATE) or PROGRESS body of len bytes at addr: 0 when it decodes into st (a
 * PROGRESS only when it belongs to st's receive session); a STATE that does not leaves garbage. */
int bs_decode(uint32_t addr, uint32_t len, bs_state_t *st, int type);
/* Encode st at out (≤ 462 bytes: 10 + 2 × 94 + 9 + 255); returns the length. */
uint32_t bs_encode_state(const bs_state_t *st, uint8_t *out);
#endif
