/* digest: what the gateway writes about conversations.
 *   - each participant, at the end of every programme week (day 7 at the
 *     send hour), gets their pair's conversation of that week: the new text
 *     of each message, in order, with who said it, addresses masked as in
 *     the relayed copies (nothing when the week was silent);
 *   - a pair silent for nudge_after_days gets one friendly nudge, to the one
 *     who owes a reply (the mentee when nobody has written yet);
 *   - the coordinators get a daily digest at the send hour: messages per
 *     pair in the last day, holds waiting, bounces, and the pairs silent for
 *     escalate_after_days.
 * All through the outbox with dedupe keys, at allowed times only. */
#ifndef DIGEST_H
#define DIGEST_H

#include "conf.h"
#include "mg.h"
#include "store.h"

/* Everything of the above that is due now; *queued = messages enqueued. */
enum mg_status digest_run(struct store *, const struct conf *, int *queued);

#endif
