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
 * SMTP refusal); outbox_id: the row that failed, or 0 when unknown;
 * verified: the report answers mail we sent to rcpt (an SMTP refusal, or
 * a report to the row's VERP address naming its recipient).  An
 * unverified report is recorded and listed, and pauses or tells nobody.
 * Inside the caller's transaction. */
enum mg_status bounce_record(struct store *, const struct conf *, int64_t message,
    int64_t outbox_id, const char *rcpt, int permanent, int verified, const char *why);

/* The envelope sender for outbox row outbox_id:
 * LOCAL+bounce-ID-MAC@DOMAIN, MAC an HMAC-SHA256 of the id under the
 * database's VERP key (80 bits, hex).  NULL when the key cannot be read. */
char *bounce_envelope(struct store *, const struct conf *, int64_t outbox_id);

/* The outbox row and recipient a VERP token ("bounce-ID-MAC") names.
 * MG_NOTFOUND when the token is not one, its MAC is wrong (a report
 * nobody can tie to our mail) or the row is gone. */
enum mg_status bounce_verp(struct store *, const char *token, int64_t *outbox_id, char **rcpt);

/* Print the recorded bounces, newest first. */
enum mg_status bounce_list(struct store *);

#endif
