/* What a board gives the boot stage, and the DeviceScript runtime calls it deploys through.
 * The board implements the first six (SPI to the W25Q with chip select as two calls, a
 * watchdog feed, a log); the devsmgr ones are the runtime's own (runtime/devicescript/devsmgr.c). */
#ifndef BS_PORT_H
#define BS_PORT_H

#include <stdint.h>

void bs_spi_select(void);   /* chip select low: a transaction starts */
void bs_spi_deselect(void); /* chip select high: it ends (a program or erase starts here) */
void bs_spi_write(const uint8_t *p, uint32_t n);
void bs_spi_read(uint8_t *p, uint32_t n); /* n may be 0 (a command without data) */

/* Fed between chunks of every long loop (CRC, SHA-256, deploy, erase polls). */
void bs_watchdog(void);

/* One event (bs_stage.h: BS_EV_*) with two numbers: no strings, no formatting in the stage. */
void bs_log(uint8_t event, uint32_t a, uint32_t b);

/* devsmgr.c: size a multiple of 32; writes a multiple of 32 and under 4096, NULL,0 finishes;
 * get_hash is the SHA-256 of the program in fstor, -1 (and zeros) when there is none. */
int devsmgr_deploy_start(uint32_t size);
int devsmgr_deploy_write(const void *buf, unsigned size);
int devsmgr_get_hash(uint8_t hash[32]);

#endif
