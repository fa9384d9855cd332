/* A Winbond W25Q as the stage sees it through bs_port.h, on a NOR image in RAM: JEDEC ID, status
 * (BUSY for two polls after a program or erase, WEL), write enable, 0x03/0x13 read, 0x02/0x12
 * page program (AND, wrapping inside the page as the chip does), 0x20/0x21 sector erase. Worn
 * sectors take nothing (the stage must see it when it reads back), or, flag 4, fail their erase
 * half way without a word and still take programs (only the erase's read-back sees it). Power cuts before, after or
 * in the middle of a program or erase. Stricter than the chip: a byte programmed twice between
 * erases, a page wrap, or a write outside the store's metadata is a violation. */
#include <stdio.h>
#include <string.h>
#include "../bs_port.h"
#include "host.h"

static uint8_t *nor;
static uint32_t size, lo, hi;
static uint8_t wear[16384];
static uint8_t programmed[1u << 20]; /* a bit per byte would do; a byte is simpler */
static uint8_t tx[4 + 1 + 4096];
static uint32_t txn, rxn;
static int wel, busy;
static uint32_t cut_op;
static int cut_kind;
static jmp_buf *cut_jb;
uint32_t model_ops, model_violations, watchdog_feeds;
int32_t model_half_erased;
uint32_t model_boot_logs, model_boot_a, model_boot_b;
char model_violation[160];

void model_load(uint8_t *image, uint32_t sz, const uint8_t *w, uint32_t l, uint32_t h) {
    nor = image;
    size = sz;
    lo = l;
    hi = h;
    memcpy(wear, w, sz / 4096);
    memset(programmed, 0, sz);
    wel = busy = 0;
    model_ops = model_violations = 0;
    model_half_erased = -1;
    model_boot_logs = 0;
    cut_op = 0;
    model_violation[0] = 0;
}

void model_reboot(void) {
    wel = busy = 0;
    model_boot_logs = 0;
    cut_op = 0;
}

void model_arm_cut(uint32_t op, int kind, jmp_buf *jb) {
    cut_op = model_ops + op;
    cut_kind = kind;
    cut_jb = jb;
}

static void violation(const char *what, uint32_t addr) {
    if (!model_violations++) snprintf(model_violation, sizeof model_violation, "%s at 0x%x", what, (unsigned)addr);
}

static int wide(void) { return tx[0] == 0x13 || tx[0] == 0x12 || tx[0] == 0x21; }

static uint32_t address(void) {
    uint32_t a = wide() ? (uint32_t)tx[1] << 24 | (uint32_t)tx[2] << 16 | (uint32_t)tx[3] << 8 | tx[4]
                        : (uint32_t)tx[1] << 16 | (uint32_t)tx[2] << 8 | tx[3];
    return a & (size - 1);
}

void bs_spi_select(void) { txn = rxn = 0; }

void bs_spi_write(const uint8_t *p, uint32_t n) {
    while (n--) {
        if (txn < sizeof tx) tx[txn] = *p;
        txn++;
        p++;
    }
}

void bs_spi_read(uint8_t *p, uint32_t n) {
    uint32_t i;
    for (i = 0; i < n; i++, rxn++) {
        uint8_t b = 0xff;
        if (txn == 0 || !size) { /* size 0: no chip, MISO floats high */
        } else if (tx[0] == 0x05) {
            b = (uint8_t)((busy > 0) | wel << 1);
            if (busy > 0) busy--;
        } else if (busy) {
        } else if (tx[0] == 0x9f) {
            uint8_t cap = 0;
            while ((1u << cap) < size) cap++;
            b = rxn == 0 ? 0xef : rxn == 1 ? 0x40 : rxn == 2 ? cap : 0xff;
        } else if (tx[0] == 0x03 || tx[0] == 0x13) {
            b = nor[(address() + rxn) & (size - 1)];
        }
        p[i] = b;
    }
}

/* The op is counted; a cut before it throws now, after it once done, torn in the middle. */
static int cut_now(void) {
    return cut_op && model_ops == cut_op;
}

static void program(uint32_t addr, const uint8_t *d, uint32_t n) {
    uint32_t page = addr & ~255u, i, keep = n;
    model_ops++;
    if (cut_now()) {
        if (cut_kind == CUT_BEFORE) longjmp(*cut_jb, 1);
        if (cut_kind == CUT_TORN) keep = n / 2;
    }
    if (addr < lo || addr + n > hi) violation("program outside the metadata", addr);
    if (wear[addr / 4096] & 2) return;
    if ((addr & 255) + n > 256) violation("page wrap", addr);
    for (i = 0; i < keep; i++) {
        uint32_t a = page | ((addr + i) & 255);
        if (d[i] == 0xff) continue; /* changes no cell */
        if (programmed[a]) violation("byte programmed twice", a);
        programmed[a] = 1;
        nor[a] &= d[i];
    }
    if (cut_now()) {
        if (keep < n) nor[page | ((addr + keep) & 255)] &= (uint8_t)(d[keep] | 0x0f); /* half its bits */
        longjmp(*cut_jb, 1);
    }
}

static void erase(uint32_t addr) {
    uint32_t s = addr / 4096, n = 4096;
    model_ops++;
    if (cut_now()) {
        if (cut_kind == CUT_BEFORE) longjmp(*cut_jb, 1);
        if (cut_kind == CUT_TORN) n = 2048;
    }
    if (addr < lo || addr + 4096 > hi) violation("erase outside the metadata", addr);
    if ((wear[s] & 5) == 5) { /* the erase that fails stops half way and says nothing */
        n = 2048;
        model_half_erased = (int32_t)s;
    } else if (wear[s] & 1)
        wear[s] |= 2; /* the erase that fails kills the sector */
    if (!(wear[s] & 2)) {
        memset(nor + s * 4096, 0xff, n);
        memset(programmed + s * 4096, 0, n);
    }
    if (cut_now()) longjmp(*cut_jb, 1);
}

void bs_spi_deselect(void) {
    if (txn == 0 || busy || !size) return; /* while busy, only status reads */
    switch (tx[0]) {
    case 0x06: wel = 1; break;
    case 0x04: wel = 0; break;
    case 0x02:
    case 0x12:
        if (wel && txn > (uint32_t)(wide() ? 5 : 4)) {
            uint32_t h = wide() ? 5 : 4;
            wel = 0;
            busy = 2;
            program(address(), tx + h, txn - h > 256 ? 256 : txn - h);
        }
        break;
    case 0x20:
    case 0x21:
        if (wel) {
            wel = 0;
            busy = 2;
            erase(address() & ~4095u);
        }
        break;
    }
}

void bs_watchdog(void) { watchdog_feeds++; }

void bs_log(uint8_t event, uint32_t a, uint32_t b) {
    if (event != 9) return; /* BS_EV_BOOT: kept for the host test's check */
    model_boot_logs++;
    model_boot_a = a;
    model_boot_b = b;
}
