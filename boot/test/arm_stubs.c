/* For the Cortex-M0+ size figures only (tools/boot-c.mjs): the board's port as empty functions
 * and an entry that runs the stage once. Its own bytes are subtracted from the figures. */
#include "../boot_stage.h"
#include "../bs_port.h"

void bs_spi_select(void) {}
void bs_spi_deselect(void) {}
void bs_spi_write(const uint8_t *p, uint32_t n) { (void)p, (void)n; }
void bs_spi_read(uint8_t *p, uint32_t n) { (void)p, (void)n; }
void bs_watchdog(void) {}
void bs_log(uint8_t e, uint32_t a, uint32_t b) { (void)e, (void)a, (void)b; }
int devsmgr_deploy_start(uint32_t size) { return (int)size; }
int devsmgr_deploy_write(const void *buf, unsigned size) { return buf ? (int)size : 0; }
int devsmgr_get_hash(uint8_t hash[32]) { return hash[0]; }

static uint8_t copy[512]; /* the one copy buffer: the caller's */

void bs_cross_entry(void) {
    static const bs_layout_t board = {0, 2, 1, {8192, 8192 + 131072}, 131072, BS_FSTOR_MAX_PROGRAM(128u * 1024)}; /* src/boards/layout.ts; RP2040 fstor */
    bs_result_t r;
    bs_boot_stage(&board, copy, sizeof copy, &r);
    for (;;) {
    }
}
