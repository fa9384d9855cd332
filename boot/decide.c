/* Line for line the TypeScript: the vectors (tools/boot-vectors.ts) hold both to the same answers. */
#include "decide.h"

static void mark_bad(bs_slot_t *s, uint8_t why) {
    SLOT_STATE(s) = SLOT_BAD;
    SLOT_FLAGS(s) = (uint8_t)((SLOT_FLAGS(s) & FLAG_CRC) | why << 1 | FLAG_NEWS);
}

int bs_confirmed_slot(const bs_state_t *st) {
    return SLOT_STATE(&st->slot[0]) == SLOT_CONFIRMED ? 0 : SLOT_STATE(&st->slot[1]) == SLOT_CONFIRMED ? 1 : -1;
}

/* A failed slot, or a trial that used its boots while the other is confirmed (a rollback), is
 * marked bad; a candidate that is neither on trial nor confirmed gives way to the confirmed slot
 * (decideBoot's "other", which can only be the confirmed one: a bad slot is never confirmed). */
void bs_decide(bs_state_t *next, int failed, bs_decision_t *d) {
    int cand, bad = failed & 1, why = WHY_NOT_CONFIRMED;
    bs_slot_t *s;
    d->changed = d->rolled_back = 0;
    cand = next->active;
    if (failed >= 0) {
        why = failed >> 1;
        cand = -1;
    } else if (cand >= 0 && SLOT_STATE(&next->slot[cand]) == SLOT_TRIAL && !SLOT_BOOTS(&next->slot[cand]) &&
               SLOT_STATE(&next->slot[1 - cand]) == SLOT_CONFIRMED)
        bad = cand;
    else
        bad = -1;
    if (bad >= 0) {
        mark_bad(&next->slot[bad], (uint8_t)why);
        d->changed = d->rolled_back = 1;
    }
    if (cand < 0 || !(SLOT_STATE(&next->slot[cand]) == SLOT_TRIAL || SLOT_STATE(&next->slot[cand]) == SLOT_CONFIRMED)) {
        d->slot = -1;
        if ((cand = bs_confirmed_slot(next)) < 0) return;
        next->active = (int8_t)cand;
        d->changed = 1;
    }
    s = &next->slot[cand];
    if (SLOT_STATE(s) == SLOT_TRIAL && SLOT_BOOTS(s)) { /* spent before the image runs */
        SLOT_BOOTS(s)--;
        d->changed = 1;
    }
    d->slot = (int8_t)cand;
    d->trial = SLOT_STATE(s) == SLOT_TRIAL;
}
