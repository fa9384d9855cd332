/* The host test's world: a W25Q on a NOR image (nor_spi.c), the runtime's deploy calls (fake_devsmgr.c). */
#ifndef BS_HOST_H
#define BS_HOST_H
#include <setjmp.h>
#include <stdint.h>

enum { CUT_BEFORE, CUT_AFTER, CUT_TORN };

/* The chip: image of size bytes (a power of two ≥ 32 KB), wear flags per 4 KB sector (1: its next
 * erase fails and kills it, 2: programs fail; 1 | 4: its erases erase the first half only, report
 * nothing, and it still takes programs), writes allowed in [lo, hi) only. */
void model_load(uint8_t *image, uint32_t size, const uint8_t *wear, uint32_t lo, uint32_t hi);
/* Power off and on: the chip keeps its cells, forgets WEL, BUSY and an armed cut. */
void model_reboot(void);
/* Cut the power at the op-th program or erase from now (1-based): longjmp to jb. */
void model_arm_cut(uint32_t op, int kind, jmp_buf *jb);
extern uint32_t model_ops;        /* programs and erases since model_load */
extern int32_t model_half_erased; /* the sector an erase of flag 1 | 4 left half done, or -1 */
extern uint32_t model_boot_logs, model_boot_a, model_boot_b; /* BS_EV_BOOT events since model_load or model_reboot, the last one's a, b */
extern uint32_t model_violations; /* writes outside [lo, hi), bytes programmed twice, page wraps */
extern char model_violation[160];

/* fstor: a program whose SHA-256 is hash, or none (NULL). */
void fake_fstor(const uint8_t *hash);
/* Power off and on: fstor keeps what it holds (a deploy cut short leaves no valid program). */
void fake_reboot(void);
/* 1 when fstor holds a whole program, its hash in out. */
int fake_fstor_get(uint8_t out[32]);
/* Cut the power after n deploy writes (0: right after deploy_start; -2: during the final write). */
void fake_arm_cut(int n, jmp_buf *jb);
extern uint32_t fake_starts, fake_writes, fake_errors, fake_unfed, fake_fstor_bytes, watchdog_feeds;
#endif
