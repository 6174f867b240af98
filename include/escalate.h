/* escalate: risk disclosures go to the safeguarding list at once, and up
 * the escalation chain until someone answers "ack".  Owns the escalations
 * table.  Each escalation mail answers to LOCAL+esc-TOKEN@DOMAIN; every
 * step is logged (and audited once the audit log exists). */
#ifndef ESCALATE_H
#define ESCALATE_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "mime.h"
#include "store.h"

/* Start an escalation for held message: mail the safeguarding list now.
 * summary: who wrote to whom and the marked text.  Inside the caller's
 * transaction. */
enum mg_status escalate_start(struct store *, const struct conf *, int64_t message,
    const char *summary);

/* Every escalation not acknowledged within escalation_minutes goes to the
 * next address in escalation_chain.  *stepped = how many moved on. */
enum mg_status escalate_due(struct store *, const struct conf *, int *stepped);

/* May addr (lower case) acknowledge the escalation of token: a
 * safeguarding, chain or coordinator address, and none the message
 * concerns (decider.h)? */
int escalate_may_ack(struct store *, const struct conf *, const char *token, const char *addr);

/* Mail to LOCAL+esc-TOKEN: "ack" on the first line from a safeguarding,
 * chain or coordinator address stops the chain.  Records the reply. */
enum mg_status escalate_reply(struct store *, const struct conf *, int64_t message,
    const char *token, const struct mime_msg *);

/* Is the escalation of LOCAL+esc-TOKEN waiting for an ack?  MG_OK yes,
 * MG_NOTFOUND no. */
enum mg_status escalate_open(struct store *, const char *token);

#endif
