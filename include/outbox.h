/* outbox: every outbound message, enqueued in the transaction that decided
 * it, sent with retry and backoff.  Owns the outbox table (outbox.c:
 * enqueue and list; outbox_send.c: the flush).
 * States: queued -> sending -> sent, or failed (5xx).  The one window that
 * can repeat a send is between the server's 250 and the commit of 'sent':
 * at most one message per SMTP connection, as each connection's next
 * message waits for that commit before its last bytes; a row found
 * 'sending' after a crash is sent again with the same Message-ID. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "smtp.h"
#include "store.h"

struct outbox_item {
	const char *dedupe_key;		/* unique: e.g. relay:MSG:RECIPIENT */
	const char *kind;		/* relay | notice */
	int64_t message;		/* the inbound message it answers, or 0 */
	int64_t recipient_id;		/* participant, or 0 */
	const char *rcpt;		/* envelope recipient */
	const char *message_id;		/* without brackets */
	const char *data;		/* the whole message, CRLF */
	size_t len;
	const char *text;		/* its text part as built, or NULL */
};

/* Inside the caller's transaction (the text kept beside the copy, when
 * given: outbox_row_text).  MG_DUPLICATE when the key exists
 * (already enqueued: treat as success), MG_BADINPUT for an unsafe rcpt. */
enum mg_status outbox_enqueue(struct store *, const struct outbox_item *);

/* The text part of a copy the gateway sent, from a row selecting
 * OUTBOX_TEXT at column col (and col + 1) over outbox o, outbox_data d and
 * outbox_text t (LEFT JOIN): the text kept, or for a row queued before it
 * was kept the copy parsed.  NULL for none or an erased copy. */
#define OUTBOX_TEXT "t.text, CASE WHEN t.id IS NULL THEN d.data END"
struct sqlite3_stmt;
char *outbox_row_text(struct sqlite3_stmt *, int col);

struct outbox_stats {
	int sent, retried, failed;
	char down[256];		/* why the server was unreachable, if it was */
};

/* Send every due row: over one connection, or, when more than batch_size
 * are due, over up to [smtp] connections at once (smtp_conn), one
 * recipient's rows over one of them.  Stops when the server cannot be
 * reached at all (MG_CONNFAIL; rows keep their schedule: an unreachable
 * server is not the message's fault).  Logs one line per event. */
enum mg_status outbox_flush(struct store *, const struct conf *, struct smtp *,
    struct outbox_stats *);

/* Seconds to wait before attempt n+1 (exponential from 60 s, capped at 6 h,
 * with up to 25% jitter). */
int64_t outbox_backoff(int attempts);

/* The text of message as its recipient was given it: the text of our
 * relayed copy, so as decided (approved as written, redacted or edited by a
 * coordinator), never the original of a changed message.  whole: all of it;
 * else the new text only (reply_extract).  Every later use of a message
 * for participants (digests) reads it here.  MG_NOTFOUND when nothing was
 * passed on (held, rejected, closed, not for a partner) or it was erased.
 * Caller frees *text. */
enum mg_status outbox_given(struct store *, int64_t message, int whole, char **text);

/* Print the outbox (all rows, or only those not sent) one line each. */
enum mg_status outbox_list(struct store *, int pending_only);

#endif
