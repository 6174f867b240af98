/* gateway: one pass of the daemon: decide leftovers, sync the IMAP mailbox
 * (store, decide, then mark handled), and flush the outbox.  Logs. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "conf.h"
#include "mg.h"
#include "smtp.h"
#include "store.h"

struct imap;

struct gateway_stats {
	int stored, duplicates, decided, sent, deferred, failed;
	int moved, moved_early;		/* out of the mailbox; of them, while fetching */
	int imap_down, smtp_down;	/* a server could not be reached */
	char *imap_error;		/* why, when imap_down */
	char *smtp_error;		/* why, when smtp_down */
	/* the mailbox's new messages: seconds taken, and the CPU seconds of
	 * the reader thread (fetch, move, and read ahead) and of the caller's
	 * (read, store, decide, commit); how many the reader read ahead */
	double ingest_s, reader_cpu_s, store_cpu_s;
	int read_ahead;
};

/* Decide what a crash left undecided, then sync the mailbox over *im,
 * opening it when NULL; on a lost or refused
 * session *im is closed and NULLed and stats->imap_down set.  A SIGTERM
 * (mg_request_stop) ends the fetch after the message in hand. */
enum mg_status gateway_sync(struct store *, const struct conf *, struct imap **im,
    struct gateway_stats *);

/* Everything but the mailbox: escalations, reminders, schedules,
 * surveys, digests; then, when send, the outbox (stats->smtp_down when the
 * server is unreachable). */
enum mg_status gateway_work(struct store *, const struct conf *, struct smtp *, int send,
    struct gateway_stats *);

/* One whole pass over a fresh IMAP session (--once).  MG_OK even when a
 * server was unreachable (see stats); another status for a local failure
 * such as the database. */
enum mg_status gateway_pass(struct store *, const struct conf *, struct smtp *,
    struct gateway_stats *);

void gateway_stats_clear(struct gateway_stats *);

#endif
