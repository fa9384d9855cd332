/* The boot stage's image check (sim/boot/boot-stage.ts over src/image/check.ts): an MCUboot image
 * whose header, TLV layout and SHA-256 TLV hold, whose header version is the version the store
 * recorded, and whose body is a DeviceScript program ("DevS" magic). Built with BS_SIGNATURES,
 * also what the TypeScript stage checks with keys (the simulator's default): a KEYHASH TLV naming
 * one of bs_keys.h's trusted keys (src/image/trusted-keys.ts), an ED25519 TLV that verifies over
 * the image's SHA-256 with it, and a security counter (SEC_CNT, 0 without one) at least the
 * store's. Without it, signatures are not checked. */
#ifndef BS_IMAGE_CHECK_H
#define BS_IMAGE_CHECK_H
#include <stdint.h>
#include "records.h"

/* 0 when the image in the slot at base passes for s, else the step that failed (> 0); lim: the
 * smaller of its recorded size and the slot's. The program is then the body: header size and body size at
 * bytes 8 and 12 of the header. Hashes through w25q_buf. */
int bs_image_check(uint32_t base, uint32_t lim, const bs_slot_t *s);
#ifdef BS_SIGNATURES
extern uint32_t bs_min_counter; /* the store's security counter: the stage sets it before each check */
#endif
#endif
