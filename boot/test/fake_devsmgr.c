/* The runtime's deploy path as devsmgr.c behaves: deploy_start(size) wants a multiple of 32 and
 * invalidates fstor's program; writes must be multiples of 32 under 4096 and stay inside the
 * size (else the deploy is dead until the next start); NULL,0 makes the program valid if every
 * byte came; get_hash gives the SHA-256 of a valid program, -1 and zeros otherwise. fstor is
 * fake_fstor_bytes, counted as jd_fstor.c counts it (whole 4 KB pages for the 128-byte header and
 * the program; header pages twice; one data page never found): -2 past it, and, as devsmgr.c, no
 * program until a reset. */
#include <string.h>
#include "../bs_port.h"
#include "../sha256.h"
#include "host.h"


uint32_t fake_fstor_bytes = 128u * 1024;
static int valid;
static uint8_t hash[32];
static uint32_t want, got;
static int open_;
static bs_sha256_t sha;
static int cut_after;
static jmp_buf *cut_jb;
static uint32_t fed;
uint32_t fake_starts, fake_writes, fake_errors, fake_unfed;

/* the watchdog must have been fed since the last deploy call */
static void check_fed(void) {
    if (watchdog_feeds == fed) fake_unfed++;
    fed = watchdog_feeds;
}

void fake_fstor(const uint8_t *h) {
    valid = h != 0;
    if (h) memcpy(hash, h, 32);
    open_ = 0;
    cut_after = -1;
    fake_starts = fake_writes = fake_errors = fake_unfed = 0;
}

void fake_reboot(void) {
    open_ = 0;
    cut_after = -1;
    fake_starts = fake_writes = fake_errors = fake_unfed = 0;
}

int fake_fstor_get(uint8_t out[32]) {
    memcpy(out, hash, 32);
    return valid;
}

void fake_arm_cut(int n, jmp_buf *jb) {
    cut_after = n;
    cut_jb = jb;
}

int devsmgr_deploy_start(uint32_t sz) {
    fake_starts++;
    if (sz & 31) return fake_errors++, -1;
    valid = 0; /* the old program is gone from here on */
    {
        int32_t pages = (int32_t)((128 + sz + 4095) / 4096), all = (int32_t)(fake_fstor_bytes / 4096);
        int32_t head = all / 16 < 1 ? 1 : all / 16 > 0xf0 ? 0xf0 : all / 16;
        if (!(0 < all - 2 * head - pages)) return fake_errors++, -2; /* find_free_data: off 0 < data - pages */
    }
    want = sz;
    got = 0;
    open_ = 1;
    fed = watchdog_feeds;
    bs_sha256_init(&sha);
    if (cut_after == 0) longjmp(*cut_jb, 1);
    return 0;
}

int devsmgr_deploy_write(const void *buf, unsigned n) {
    if (!open_) return fake_errors++, -1;
    if (!buf) {
        if (cut_after == -2) longjmp(*cut_jb, 1);
        open_ = 0;
        if (got != want) return fake_errors++, -1;
        bs_sha256_final(&sha, hash);
        valid = 1;
        return 0;
    }
    check_fed();
    if ((n & 31) || n >= 4096 || got + n > want) {
        open_ = 0;
        return fake_errors++, -1;
    }
    bs_sha256_update(&sha, buf, n);
    got += n;
    fake_writes++;
    if (cut_after > 0 && fake_writes == (uint32_t)cut_after) longjmp(*cut_jb, 1);
    return 0;
}

int devsmgr_get_hash(uint8_t out[32]) {
    if (!valid) {
        memset(out, 0, 32);
        return -1;
    }
    memcpy(out, hash, 32);
    return 0;
}
