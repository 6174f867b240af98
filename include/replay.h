/* replay: the current rules over stored messages, to see what a rule
 * change would do before it is live.  Reads only. */
#ifndef REPLAY_H
#define REPLAY_H

#include <stdio.h>

#include "mg.h"
#include "rules.h"
#include "store.h"

/* Participants' messages received in the last days days: per category, how
 * many the current rules flag, how many were flagged when they arrived,
 * and the messages that gain or lose a category, printed to out. */
enum mg_status replay_rules(struct store *, const struct rules *, int days, FILE *out);

#endif
