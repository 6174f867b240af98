/* bounce: what a failed delivery means for the programme.  Owns the bounces
 * table.  A permanent failure for a participant pauses relay to them, tells
 * the coordinators, and tells their partners kindly that messages are not
 * getting through; transient failures and warnings are only recorded. */
#ifndef BOUNCE_H
#define BOUNCE_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

/* Record that mail to rcpt failed.  message: the inbound report (0 for an
 * SMTP refusal); outbox_id: the row that failed, or 0 when unknown.  Inside
 * the caller's transaction. */
enum mg_status bounce_record(struct store *, const struct conf *, int64_t message,
    int64_t outbox_id, const char *rcpt, int permanent, const char *why);

/* The outbox row and recipient a VERP token ("bounce-ID") names.
 * MG_NOTFOUND when the token is not one or the row is gone. */
enum mg_status bounce_verp(struct store *, const char *token, int64_t *outbox_id, char **rcpt);

/* Print the recorded bounces, newest first. */
enum mg_status bounce_list(struct store *);

#endif
