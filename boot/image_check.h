/* The boot stage's image check (sim/boot/boot-stage.ts over src/image/check.ts): an MCUboot image
 * whose header, TLV layout and SHA-256 TLV hold, whose header version is the version the store
 * recorded, and whose body is a DeviceScript program ("DevS" magic). Signatures are not checked
 * (the signing issue's), as in the TypeScript. */
#ifndef BS_IMAGE_CHECK_H
#define BS_IMAGE_CHECK_H
#include <stdint.h>
#include "records.h"

typedef struct {
    uint32_t base, slot_size; /* the slot on the W25Q */
    uint32_t body, body_len;  /* out: the program, offset and length in the slot */
} bs_image_t;

/* 0 when the image in the slot passes for s (its recorded size is the image's limit), else the
 * step that failed (> 0). w25q_buf: scratch for the hash. */
int bs_image_check(bs_image_t *img, const bs_slot_t *s);
#endif
