/* Reads with 0x03, programs with 0x02 split at pages, erases 4 KB with 0x20, all with 3-byte
 * addresses (the stage sees at most the chip's first 16 MB, where the store is; src/flash/w25q.ts
 * switches to 0x13/0x12/0x21 above 16 MB, which the store's layout never reaches on the boards).
 * Every program and erase is read
 * back: the stage must know when its record did not land (a worn sector), because a trial boot
 * that is not recorded could loop forever. Busy waits are bounded by poll counts: the port has
 * no clock. */
#include "w25q.h"
#include "bs_port.h"
#include "crc32.h"

#define ADDR 0x100  /* the command takes a 3-byte address */
#define WRITE 0x200 /* p is written after it, else n bytes are read into p (n may be 0) */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the boot stage lays the command out as a little-endian word"
#endif

/* One transaction: every command the stage sends goes through here. The command byte, then the
 * address big-endian: the address byte-swapped (REV), its top byte replaced by the command. */
static void xfer(uint32_t cmd, uint32_t addr, uint8_t *p, uint32_t n) {
    uint32_t h = __builtin_bswap32(addr);
    *(uint8_t *)&h = (uint8_t)cmd;
    bs_spi_select();
    bs_spi_write((uint8_t *)&h, cmd & ADDR ? 4 : 1);
    if (cmd & WRITE)
        bs_spi_write(p, n);
    else
        bs_spi_read(p, n);
    bs_spi_deselect();
}

/* The chip's first 16 MB: what 3-byte addresses reach (a W25Q256/512 starts in 3-byte mode);
 * the store lies at its start, and a layout past 16 MB is refused as a bad layout. */
uint32_t w25q_open(void) {
    uint8_t id[3];
    xfer(0x9f, 0, id, 3);
    if (id[0] != 0xef || !((id[2] >= 0x0f && id[2] <= 0x19) || id[2] == 0x20)) return 0;
    return 1ul << (id[2] > 0x18 ? 0x18 : id[2]);
}

void w25q_read(uint32_t addr, uint8_t *p, uint32_t n) { xfer(ADDR | 0x03, addr, p, n); }

static uint8_t __attribute__((noinline)) status(void) {
    uint8_t b;
    xfer(0x05, 0, &b, 1);
    return b;
}

/* Read back [addr, addr+n) byte by byte (a 4 KB erase: about 40 ms of SPI) and compare with p,
 * or with 0xFF when p is NULL. */
static int verify(uint32_t addr, const uint8_t *p, uint32_t n) {
    uint32_t i;
    uint8_t b;
    for (i = 0; i < n; i++) {
        w25q_read(addr + i, &b, 1);
        if (b != (p ? p[i] : 0xff)) return -1;
    }
    return 0;
}

/* Write enable, then a page program of p (n bytes) or, when p is NULL, a sector erase; wait,
 * read back. */
static int write_op(uint32_t addr, const uint8_t *p, uint32_t n) {
    uint32_t polls = 2000000ul; /* tSE ≤ 400 ms (tPP ≤ 3 ms); a poll takes µs */
    xfer(0x06, 0, 0, 0);
    if ((status() & 3) != 2) return -1; /* WEL did not latch, or busy; 0xFF: MISO floating, no chip */
    xfer(p ? ADDR | WRITE | 0x02 : ADDR | 0x20, addr, (uint8_t *)p, n);
    while (status() & 1)
        if (!--polls) return -1;
        else bs_watchdog();
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

/* w25q_copy (w25q_buf, w25q_cap) is defined in boot_stage.c, beside the stage's other statics (one
 * section anchor reaches them all). */

uint32_t w25q_digest(bs_sha256_t *sha, uint32_t addr, uint32_t n) {
    uint8_t *buf = w25q_buf;
    uint32_t v = 0, k, i, off;
    for (off = 0; off < n; off += k) {
        k = n - off < w25q_cap ? n - off : w25q_cap;
        w25q_read(addr + off, buf, k);
        if (sha == W25Q_TAIL) {
            for (i = 0; i < k; i++)
                if (buf[i] != 0xff) v = off + i + 1;
        } else if (sha)
            bs_sha256_update(sha, buf, k);
        else
            v = bs_crc32(v, buf, k);
        bs_watchdog();
    }
    return v;
}
