/* Winbond W25Q over the board's SPI port (bs_port.h): the commands src/flash/w25q.ts uses. */
#ifndef BS_W25Q_H
#define BS_W25Q_H
#include <stdint.h>
#include "sha256.h"

#define W25Q_SECTOR 4096u

/* JEDEC ID check; the chip's size in bytes (at most 16 MB: what 3-byte addresses reach), or 0 when no W25Q answers. */
uint32_t w25q_open(void);
void w25q_read(uint32_t addr, uint8_t *p, uint32_t n);
/* 0, or -1 when the chip did not take it (write enable not latched, busy too long, or the
 * bytes read back differ: a worn or protected sector). Split at 256-byte pages. */
int w25q_program(uint32_t addr, const uint8_t *p, uint32_t n);
int w25q_erase(uint32_t addr);
/* The stage's one copy buffer (bs_boot_stage sets it): a global, so that no call passes it
 * (16 B of code fewer at every call site on Cortex-M0+), its address and size in one struct (one
 * literal reaches both). */
typedef struct {
    uint8_t *buf;
    uint32_t cap;
} w25q_copy_t;
extern w25q_copy_t w25q_copy;
#define w25q_buf (w25q_copy.buf)
#define w25q_cap (w25q_copy.cap)
/* A digest of [addr, addr + n) read through w25q_buf, the watchdog fed per read: the
 * CRC-32 (returned) when sha is NULL, with W25Q_TAIL the length up to the last byte that is not
 * 0xFF (0: all erased), else SHA-256 into sha. */
#define W25Q_TAIL ((bs_sha256_t *)1)
uint32_t w25q_digest(bs_sha256_t *sha, uint32_t addr, uint32_t n);
#endif
