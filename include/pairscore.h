/* pairscore: signals that mean little alone (flattery about maturity,
 * secrecy, a move off-platform, a gift: the flag rules) add up across a
 * pair's messages.  Grooming is a progression (the PAN 2012 work read
 * conversations, not posts): what one author of a pair set off in the
 * last 30 days, one per rule, with what the message in hand sets off, is
 * the pair's count; at [screening] pair_signals the message is held. */
#ifndef PAIRSCORE_H
#define PAIRSCORE_H

#include <stdint.h>

#include "mg.h"
#include "screen.h"
#include "store.h"

#define PAIRSCORE_DAYS 30

/* The distinct flag rules author set off in pair over the last
 * PAIRSCORE_DAYS (messages other than self) and in hits, named in *names
 * (", " between).  Returns how many, or -1 on a database error. */
int pairscore_signals(struct store *, int64_t pair, int64_t author, int64_t self,
    const struct screen_hit *hits, size_t n, struct buf *names);

/* The distinct flag rules author set off in pair over the last
 * PAIRSCORE_DAYS, messages other than self: a pair whose signals are
 * rising, below the hold.  -1 on a database error. */
int pairscore_past(struct store *, int64_t pair, int64_t author, int64_t self);

#endif
