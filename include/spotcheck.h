/* spotcheck: a share of the messages screening passed goes to the
 * coordinators for a second look, weighted toward risk (a new pair, a
 * mentor writing to a mentee, a mentee under 18, a late-night send,
 * attachments, an author whose pair signals are rising: pairscore.h).  They reply
 * "ok" or "missed CATEGORY"; the misses are kept as local regression cases
 * that `mentorctl rules replay` reports on. */
#ifndef SPOTCHECK_H
#define SPOTCHECK_H

#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "mime.h"
#include "moderate.h"
#include "rules.h"
#include "store.h"

/* What makes a relayed message more worth a second look. */
struct spotcheck_risk {
	int new_pair;		/* paired within the last 14 days */
	int to_mentee;		/* from a mentor */
	int late;		/* sent between 22:00 and 06:00, the programme's time */
	int attachments;
	int minor;		/* the mentee may be under 18 (the roster's born) */
	int rising;		/* the author set off a flag rule in this pair lately */
};

/* The chance (0..1) that a message with risk r is sampled at percent. */
double spotcheck_chance(int percent, const struct spotcheck_risk *r);

/* Perhaps sample message (relayed, its copy's text in mi->text): record
 * it and mail those who may decide its holds (decider.h); inside the
 * caller's transaction.  MG_OK whether sampled or not. */
enum mg_status spotcheck_maybe(struct store *, const struct conf *, int64_t message,
    const struct moderate_info *mi);

/* Mail to LOCAL+spot-TOKEN: "ok" or "missed CATEGORY" on the first line,
 * from one who may decide it; recorded, the first verdict counts, and
 * anything else is answered with help. */
enum mg_status spotcheck_reply(struct store *, const struct conf *, int64_t message,
    const char *token, const struct mime_msg *);

/* Print the sample and its verdicts, one line each. */
enum mg_status spotcheck_list(struct store *, FILE *);

/* The misses under rules: is each one's category caught now?  *missed:
 * how many are still missed. */
enum mg_status spotcheck_replay(struct store *, const struct rules *, FILE *, int *missed);

#endif
