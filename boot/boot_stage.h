/* The board's boot stage: the role sim/boot/boot-stage.ts plays in the simulator, in C99 for the
 * DeviceScript runtime, run once after devs_service_full_init() and before the VM first starts.
 *
 *   1. mount the image store's metadata log on the W25Q (the newest STATE that decodes, plus a
 *      newer PROGRESS of the same receive);
 *   2. decide (trial accounting, rollback), check the chosen slot (the CRC-32 recorded for it,
 *      then the image: MCUboot header and TLVs, SHA-256 TLV, header version = the recorded
 *      version, a DevS program); a slot that fails is marked bad and the other runs;
 *   3. record the decision (one STATE record) before anything runs: the TypeScript firmware
 *      learns it with StoreOptions.externalBoot;
 *   4. deploy the chosen slot's program into fstor (devsmgr) when its SHA-256 differs from the
 *      program there; the watchdog is fed between chunks.
 * Every failure leaves the runtime's current program in fstor and is logged (bs_log); only a
 * failure after devsmgr_deploy_start() cannot, and the next boot deploys again. */
#ifndef BS_BOOT_STAGE_H
#define BS_BOOT_STAGE_H
#include <stdint.h>

/* Where the store sits on the W25Q: src/boards/layout.ts (boardLayout) on a board. */
typedef struct {
    uint32_t meta_addr;
    uint8_t meta_sectors; /* ≥ 2 */
    uint8_t unit;         /* the store's program unit: 1 for the W25Q driver; a power of two ≤ 32 */
    uint32_t slot_addr[2];
    uint32_t slot_size;
    /* the largest program fstor takes (BS_FSTOR_MAX_PROGRAM): a bigger one is not deployed, since
     * devsmgr_deploy_start() refusing it would leave the runtime without a program until a reset */
    uint32_t max_program;
} bs_layout_t;

/* The largest program devsmgr_deploy_start() takes into an fstor partition of `bytes` that holds
 * no other large setting (jacdac-c source/jd_fstor.c: 4 KB pages, pages/16 header pages (1 to
 * 0xF0) kept twice, find_free_data() finds at most all data pages but one; devsmgr.c puts a
 * 128-byte header before the program). RP2040, 128 KB: 110 464 B; ESP32, its 256 KB partition:
 * 225 152 B. The layout's max_program. */
#define BS_FSTOR_PAGES(bytes) ((bytes) / 4096u)
#define BS_FSTOR_HEADER_PAGES(bytes) \
    (BS_FSTOR_PAGES(bytes) / 16 < 1 ? 1u : BS_FSTOR_PAGES(bytes) / 16 > 0xf0 ? 0xf0u : BS_FSTOR_PAGES(bytes) / 16)
#define BS_FSTOR_MAX_PROGRAM(bytes) \
    ((BS_FSTOR_PAGES(bytes) - 2 * BS_FSTOR_HEADER_PAGES(bytes) - 1) * 4096u - 128u)

enum { BS_OK, BS_NO_IMAGE, BS_ERROR };

/* Log events: bs_log(event, a, b) */
enum {
    BS_EV_CONFIG = 1,   /* a: 1 buffer, 2 layout */
    BS_EV_NO_FLASH,     /* no W25Q answered */
    BS_EV_FALLBACK,     /* the newest STATE does not decode: the newest that does (a: its seq) */
    BS_EV_CRC_BAD,      /* a: slot */
    BS_EV_IMAGE_BAD,    /* a: slot, b: the check's step */
    BS_EV_RANGE,        /* a recorded size reaches past the chip (a: slot) */
    BS_EV_NO_IMAGE,     /* nothing bootable */
    BS_EV_META_FAULT,   /* the record did not land: unrecorded boot (a: slot) */
    BS_EV_BOOT,         /* a: slot, b: byte 0 trial, byte 1 rolled back, byte 2 wrote (each 0 or 1) */
    BS_EV_SAME_PROGRAM, /* fstor already holds it (a: size) */
    BS_EV_DEPLOY,       /* a: size: deploy started */
    BS_EV_DEPLOY_FAIL,  /* a: 1 start (or refused: b the size), 2 write, 3 finish; b: devsmgr's code, negated */
    BS_EV_DEPLOYED,     /* a: size */
};

typedef struct {
    uint8_t outcome; /* BS_OK: slot runs; else nothing was written and fstor is untouched */
    int8_t slot;
    uint8_t trial, rolled_back, wrote, meta_fault;
    uint8_t why;                    /* news: why the other slot is bad and not yet reported (0: none) */
    uint8_t failed_ver_len;         /* and its version */
    const uint8_t *failed_ver;
    uint8_t deployed;               /* 1: the program was written into fstor */
    int8_t deploy_error;            /* 0, or the step that failed (BS_EV_DEPLOY_FAIL's a) */
} bs_result_t;

/* buf: the one copy buffer, cap bytes, a multiple of 32 from 512 to 4064. */
void bs_boot_stage(const bs_layout_t *layout, uint8_t *buf, uint32_t cap, bs_result_t *res);
#endif
