/* The boot decision, ported from src/flash/boot-decision.ts (decideBoot; unrecordedBoot, three
 * lines, is inline in boot_stage.c). */
#ifndef BS_DECIDE_H
#define BS_DECIDE_H
#include "records.h"

typedef struct {
    int8_t slot; /* -1: nothing bootable */
    uint8_t trial, rolled_back, changed; /* bs_result_t's slot, trial, rolled_back, wrote: copied */
} bs_decision_t;

/* Which slot boots from the state in next, which becomes the state to commit (in place). failed: a
 * slot that failed its check on the same state, plus twice its BadWhy (marked bad with it, the
 * confirmed slot runs instead), or -1. */
void bs_decide(bs_state_t *next, int failed, bs_decision_t *d);
/* The confirmed slot, or -1 (also the slot an unrecorded boot runs: boot_stage.c). */
int bs_confirmed_slot(const bs_state_t *st);
#endif
