/* decider: who sees and decides a held message.  The coordinators, but
 * never one in the message's pair (for a message outside a pair, in any
 * pair of its author's), nor its author or recipient; when that leaves
 * nobody, the safeguarding addresses on the same terms. */
#ifndef DECIDER_H
#define DECIDER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

struct deciders {
	const char **v;		/* the configuration's addresses (lower-case) */
	size_t n;
	int safeguarding;	/* every coordinator was left out */
};

enum mg_status decider_list(struct store *, const struct conf *, int64_t message,
    struct deciders *);
int decider_has(const struct deciders *, const char *addr);
void decider_clear(struct deciders *);

/* May addr decide some hold (a coordinator or a safeguarding address)? */
int decider_may(const struct conf *, const char *addr);

/* Is addr one of those message concerns (its pair's people, author,
 * recipient, sender)?  Such a person sees and acts on nothing about it;
 * on a database error, 1. */
int decider_concerns(struct store *, int64_t message, const char *addr);

#endif
