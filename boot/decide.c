/* Line for line the TypeScript: the vectors (tools/boot-vectors.ts) hold both to the same answers. */
#include "decide.h"

static void mark_bad(bs_slot_t *s, uint8_t why) {
    SLOT_STATE(s) = SLOT_BAD;
    SLOT_FLAGS(s) = (uint8_t)((SLOT_FLAGS(s) & FLAG_CRC) | why << 1 | FLAG_NEWS);
}

int bs_confirmed_slot(const bs_state_t *st) {
    return SLOT_STATE(&st->slot[0]) == SLOT_CONFIRMED ? 0 : SLOT_STATE(&st->slot[1]) == SLOT_CONFIRMED ? 1 : -1;
}

void bs_decide(const bs_state_t *st, int failed, bs_state_t *next, bs_decision_t *d) {
    int cand;
    bs_slot_t *s;
    bs_copy((uint8_t *)next, st, sizeof *next);
    d->slot = -1;
    d->changed = d->rolled_back = d->trial = 0;
    cand = next->active;
    if (failed >= 0) {
        mark_bad(&next->slot[failed], WHY_IMAGE_CHECK);
        d->changed = d->rolled_back = 1;
        if (failed != cand) cand = -1;
    } else if (cand >= 0 && SLOT_STATE(&next->slot[cand]) == SLOT_TRIAL && !SLOT_BOOTS(&next->slot[cand]) &&
               SLOT_STATE(&next->slot[1 - cand]) == SLOT_CONFIRMED) {
        mark_bad(&next->slot[cand], WHY_NOT_CONFIRMED); /* a trial that used its boots: rollback */
        d->changed = d->rolled_back = 1;
    }
    if (cand < 0 || !(SLOT_STATE(&next->slot[cand]) == SLOT_TRIAL || SLOT_STATE(&next->slot[cand]) == SLOT_CONFIRMED)) {
        int other = cand < 0 ? bs_confirmed_slot(next) : 1 - cand;
        if (other < 0 || SLOT_STATE(&next->slot[other]) != SLOT_CONFIRMED || other == failed) return;
        next->active = (int8_t)other;
        cand = other;
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

void bs_unrecorded(const bs_state_t *st, const bs_state_t *next, bs_decision_t *d, int avoid) {
    int c = bs_confirmed_slot(next);
    int slot = c >= 0 && c != avoid ? c : d->slot;
    d->rolled_back = d->rolled_back || slot != d->slot;
    d->slot = (int8_t)slot;
    d->trial = SLOT_STATE(&st->slot[slot]) == SLOT_TRIAL;
    d->changed = 0;
}
