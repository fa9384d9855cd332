/* Reads with 0x03 (0x13 and 4-byte addresses above 16 MB, as src/flash/w25q.ts), programs
 * with 0x02/0x12 split at pages, erases 4 KB with 0x20/0x21. Every program and erase is read
 * back: the stage must know when its record did not land (a worn sector), because a trial boot
 * that is not recorded could loop forever. Busy waits are bounded by poll counts: the port has
 * no clock. */
#include "w25q.h"
#include "bs_port.h"
#include "crc32.h"

static uint8_t wide;

static void command(uint8_t cmd, uint32_t addr) {
    uint8_t h[5];
    uint32_t n = 0;
    h[n++] = cmd;
    if (wide) h[n++] = (uint8_t)(addr >> 24);
    h[n++] = (uint8_t)(addr >> 16);
    h[n++] = (uint8_t)(addr >> 8);
    h[n++] = (uint8_t)addr;
    bs_spi_select();
    bs_spi_write(h, n);
}

uint32_t w25q_open(void) {
    uint8_t id[3], cmd = 0x9f;
    bs_spi_select();
    bs_spi_write(&cmd, 1);
    bs_spi_read(id, 3);
    bs_spi_deselect();
    if (id[0] != 0xef || !((id[2] >= 0x0f && id[2] <= 0x19) || id[2] == 0x20)) return 0;
    wide = id[2] > 0x18;
    return id[2] == 0x20 ? 1ul << 26 : 1ul << id[2];
}

void w25q_read(uint32_t addr, uint8_t *p, uint32_t n) {
    command(wide ? 0x13 : 0x03, addr);
    bs_spi_read(p, n);
    bs_spi_deselect();
}

static uint8_t status(void) {
    uint8_t b = 0x05;
    bs_spi_select();
    bs_spi_write(&b, 1);
    bs_spi_read(&b, 1);
    bs_spi_deselect();
    return b;
}

/* Read back [addr, addr+n) and compare with p, or with 0xFF when p is NULL. */
static int verify(uint32_t addr, const uint8_t *p, uint32_t n) {
    uint8_t b[32];
    while (n) {
        uint32_t k = n < sizeof b ? n : sizeof b, i;
        w25q_read(addr, b, k);
        for (i = 0; i < k; i++)
            if (b[i] != (p ? p[i] : 0xff)) return -1;
        addr += k;
        n -= k;
        if (p) p += k;
    }
    return 0;
}

/* Write enable, then a page program of p (n bytes) or, when p is NULL, a sector erase; wait,
 * read back. */
static int write_op(uint32_t addr, const uint8_t *p, uint32_t n) {
    uint8_t we = 0x06;
    uint32_t polls = p ? 100000ul : 2000000ul; /* tPP ≤ 3 ms, tSE ≤ 400 ms; a poll takes µs */
    uint8_t st;
    bs_spi_select();
    bs_spi_write(&we, 1);
    bs_spi_deselect();
    st = status();
    if (!(st & 2) || st == 0xff) return -1; /* WEL did not latch; 0xFF: MISO floating, no chip */
    command(p ? (wide ? 0x12 : 0x02) : (wide ? 0x21 : 0x20), addr);
    if (p) bs_spi_write(p, n);
    bs_spi_deselect();
    while (status() & 1)
        if (!--polls) return -1;
        else if (!(polls & 1023)) bs_watchdog();
    return verify(addr, p, p ? n : W25Q_SECTOR);
}

int w25q_program(uint32_t addr, const uint8_t *p, uint32_t n) {
    while (n) {
        uint32_t k = 256 - (addr & 255); /* never across a page: the chip would wrap */
        if (k > n) k = n;
        if (write_op(addr, p, k)) return -1;
        addr += k;
        p += k;
        n -= k;
    }
    return 0;
}

int w25q_erase(uint32_t addr) { return write_op(addr, 0, 0); }

uint8_t *w25q_buf;
uint32_t w25q_cap;

uint32_t w25q_digest(bs_sha256_t *sha, uint32_t addr, uint32_t n) {
    uint8_t *buf = w25q_buf;
    uint32_t crc = 0, k, cap = w25q_cap;
    for (; n; n -= k, addr += k) {
        k = n < cap ? n : cap;
        w25q_read(addr, buf, k);
        if (sha)
            bs_sha256_update(sha, buf, k);
        else
            crc = bs_crc32(crc, buf, k);
        bs_watchdog();
    }
    return crc;
}
