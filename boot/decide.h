/* The boot decision, ported from src/flash/boot-decision.ts (decideBoot, unrecordedBoot). */
#ifndef BS_DECIDE_H
#define BS_DECIDE_H
#include "records.h"

typedef struct {
    int8_t slot; /* -1: nothing bootable */
    uint8_t changed, rolled_back, trial;
} bs_decision_t;

/* Which slot boots from st; next gets the state to commit. failed: a slot that failed its check
 * on the same state, plus twice its BadWhy (marked bad with it, the confirmed slot runs
 * instead), or -1. */
void bs_decide(const bs_state_t *st, int failed, bs_state_t *next, bs_decision_t *d);
/* The boot when d (with next) could not be recorded: the confirmed slot of next unless it is
 * avoid, else d's slot; nothing changes, so the state in force stays st. */
void bs_unrecorded(const bs_state_t *st, const bs_state_t *next, bs_decision_t *d, int avoid);
int bs_confirmed_slot(const bs_state_t *st);
#endif
