/* ImageStore.mount() and ImageStore.boot(check) of the TypeScript store, with the simulator's
 * boot-stage check, then the deploy. All state is static (356 bytes on Cortex-M0+, one state
 * record: the decision is made in it and the state in force decoded again when it is needed): no
 * heap, and a small stack; the caller's copy buffer serves the log scan, the record, the hashes
 * and the deploy in turn. */
#include "boot_stage.h"
#include "bs_port.h"
#include "decide.h"
#include "image_check.h"
#include "meta_log.h"
#include "sha256.h"
#include "w25q.h"

#include <stddef.h>

/* the decision is copied into the result as its four bytes in that order */
typedef char bs_result_matches_decision[offsetof(bs_result_t, wrote) - offsetof(bs_result_t, slot) == 3 &&
                                                offsetof(bs_decision_t, changed) == 3
                                            ? 1
                                            : -1];

w25q_copy_t w25q_copy; /* w25q.h's: here, where most of their uses are, one anchor with the rest */
static const bs_layout_t *lay;
static uint32_t chip;
static bs_log_t lg;
static bs_state_t st; /* the state in force, then the decision's (made in place; load() again for the one in force) */

static void zero(void *p, uint32_t n) {
    uint8_t *b = p;
    while (n--) *b++ = 0;
}

/* A region of n bytes at a: sector-aligned, not empty, inside the chip (inline in its three
 * tests: smaller than the calls and their result tests). */
static inline __attribute__((always_inline)) int region_ok(uint32_t a, uint32_t n) {
    return !((a | n) & (W25Q_SECTOR - 1)) && n - 1 < chip && a <= chip - n;
}

static int layout_ok(void) {
    uint32_t u = lay->unit;
    return lay->meta_sectors >= 2 && u - 1 < 32 && !(u & (u - 1)) &&
           region_ok(lay->meta_addr, lay->meta_sectors * W25Q_SECTOR) && region_ok(lay->slot_addr[0], lay->slot_size) &&
           region_ok(lay->slot_addr[1], lay->slot_size);
}

/* The store's state in force into st: the newest STATE that decodes, with a newer PROGRESS of the
 * same receive session while a slot is receiving (stateInForce); the initial state without one. */
static void __attribute__((noinline)) load(void) {
    const bs_rec_t *state = &lg.rec[REC_STATE];
    if (!state->found) {
        zero(&st, sizeof st);
        st.active = -1;
    } else {
        bs_decode(state->body, state->len, &st, REC_STATE); /* decoded in the scan; st was scratch */
        if (bs_rec_newer(&lg.rec[REC_PROGRESS], state) &&
            (SLOT_STATE(&st.slot[0]) == SLOT_RECEIVING || SLOT_STATE(&st.slot[1]) == SLOT_RECEIVING))
            bs_decode(lg.rec[REC_PROGRESS].body, lg.rec[REC_PROGRESS].len, &st, REC_PROGRESS);
    }
}

/* 0 when the slot may run, else its BadWhy; -1 when its recorded size reaches past the chip
 * (the TypeScript store's read fails there too: nothing is decided). */
static int slot_check(const bs_state_t *s, int slot) {
    const bs_slot_t *x = &s->slot[slot];
    uint32_t size = SLOT_SIZE(x), base = lay->slot_addr[slot], b = 0;
    uint8_t ev = BS_EV_CRC_BAD;
    int why = WHY_CRC;
    if (!(SLOT_FLAGS(x) & FLAG_CRC) || !size) return WHY_CRC;
    if (size > chip - base) {
        ev = BS_EV_RANGE;
        b = size;
        why = -1;
    } else if (w25q_digest(0, base, size) == SLOT_CRC(x)) {
#ifdef BS_SIGNATURES
        /* the STATE's counter: its low half, and format 2's high half */
        bs_min_counter = (uint32_t)s->counter[0] | (uint32_t)s->counter[1] << 8 |
                         (s->format == 2 ? (uint32_t)s->counter_hi[0] << 16 | (uint32_t)s->counter_hi[1] << 24 : 0);
#endif
        if (!(b = (uint32_t)bs_image_check(base, size < lay->slot_size ? size : lay->slot_size, x))) return 0;
        ev = BS_EV_IMAGE_BAD;
        why = WHY_IMAGE_CHECK;
    }
    bs_log(ev, (uint32_t)slot, b);
    return why;
}

/* Deploy the program (zero-padded to 32 bytes, as fstor takes it) unless fstor holds it already.
 * A program fstor cannot take fails as a refused start (its size logged): the one there stays. */
static void deploy(int slot, bs_result_t *r) {
    uint8_t *buf = w25q_buf;
    uint32_t base = lay->slot_addr[slot], h[2], addr, n, size, off, k, i;
    int e;
    uint8_t step = 1;
    w25q_read(base + 8, (uint8_t *)h, 8); /* the checked header: its size, then the body's */
    addr = base + (h[0] & 0xffff);
    n = h[1];
    size = (n + 31) & ~31u;
    bs_sha256_flash(addr, n, size, buf);
    if (!devsmgr_get_hash(buf + 32) && !bs_differ(buf, buf + 32, 32)) {
        bs_log(BS_EV_SAME_PROGRAM, size, 0);
        return;
    }
    if (size < 64 || size > lay->max_program)
        e = -(int)size;
    else {
        bs_log(BS_EV_DEPLOY, size, 0);
        e = devsmgr_deploy_start(size);
        for (off = 0; off < size && !e; off += k) {
            k = size - off < w25q_cap ? size - off : w25q_cap;
            w25q_read(addr + off, buf, k);
            for (i = n - off; i < k; i++) buf[i] = 0; /* past the body: the padding */
            bs_watchdog();
            step = 2;
            e = devsmgr_deploy_write(buf, k);
        }
        if (!e) {
            step = 3;
            e = devsmgr_deploy_write(0, 0);
        }
    }
    if (e) {
        r->deploy_error = (int8_t)step;
        bs_log(BS_EV_DEPLOY_FAIL, step, (uint32_t)-e);
        return;
    }
    r->deployed = 1;
    bs_log(BS_EV_DEPLOYED, size, 0);
}

void bs_boot_stage(const bs_layout_t *layout, uint8_t *b, uint32_t c, bs_result_t *r) {
    union {
        bs_decision_t d;
        uint32_t w; /* its four bytes, for the log */
    } u;
    int fail;
    const bs_slot_t *o;
    int why;
    zero(r, sizeof *r);
    r->outcome = BS_ERROR;
    r->slot = -1;
    lay = layout;
    w25q_buf = b;
    w25q_cap = c;
    if ((c >> 5) - 16 > 111 || (c & 31)) { /* 512 ≤ c ≤ 4064, whole 32-byte blocks (no literal: the shift, then one range) */
        bs_log(BS_EV_CONFIG, 1, c);
        return;
    }
    chip = w25q_open();
    if (!chip) {
        bs_log(BS_EV_NO_FLASH, 0, 0);
        return;
    }
    if (!layout_ok()) {
        bs_log(BS_EV_CONFIG, 2, chip);
        return;
    }
    lg.base = layout->meta_addr;
    lg.sectors = layout->meta_sectors;
    lg.unit = layout->unit;
    bs_log_mount(&lg, &st); /* st: scratch for the scan's decoding */
    if (bs_rec_newer(&lg.rec[LOG_BAD_STATE], &lg.rec[REC_STATE])) bs_log(BS_EV_FALLBACK, lg.rec[REC_STATE].seq, 0);

    /* ImageStore.boot(check): decide; check what was chosen; on a failure decide again, on the
     * state in force, with that slot failed, and check the fallback too */
    for (fail = -1;; fail = u.d.slot | why << 1) {
        load();
        bs_decide(&st, fail, &u.d);
        if (u.d.slot < 0) break;
        if ((why = slot_check(&st, u.d.slot)) < 0) return; /* the slot's image fields: the same decided or not */
        if (!why) break;
        if (fail >= 0) { /* the fallback fails too: nothing runs, nothing is written */
            u.d.slot = -1;
            break;
        }
    }
    if (u.d.slot < 0) {
        r->outcome = BS_NO_IMAGE;
        bs_log(BS_EV_NO_IMAGE, 0, 0);
        return;
    }
    if (u.d.changed && bs_log_state(&lg, &st)) {
        /* the record did not land: run the confirmed slot unrecorded, spending no trial boot
         * (unrecordedBoot); when it fails its own check, the decision's slot */
        int c = bs_confirmed_slot(&st);
        r->meta_fault = 1;
        load(); /* the state in force again */
        if (c >= 0 && c != u.d.slot) {
            if ((why = slot_check(&st, c)) < 0) return;
            if (!why) {
                u.d.slot = (int8_t)c;
                u.d.rolled_back = 1;
            }
        }
        u.d.trial = SLOT_STATE(&st.slot[u.d.slot]) == SLOT_TRIAL;
        u.d.changed = 0;
        bs_log(BS_EV_META_FAULT, (uint32_t)u.d.slot, 0);
    }
    r->outcome = BS_OK;
    bs_copy((uint8_t *)&r->slot, &u.d, 4); /* slot, trial, rolled_back, wrote */
    o = &st.slot[1 - u.d.slot];
    if (SLOT_STATE(o) == SLOT_BAD && (SLOT_FLAGS(o) & FLAG_NEWS)) {
        r->why = (SLOT_FLAGS(o) >> 1) & 31;
        r->failed_ver = SLOT_VER(o);
        r->failed_ver_len = SLOT_VER_LEN(o);
    }
    bs_log(BS_EV_BOOT, (uint32_t)u.d.slot, u.w >> 8); /* trial, rolled back, wrote: a byte each */
    deploy(u.d.slot, r);
}
