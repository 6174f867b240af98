/* serve: the long-running daemon over one or more programmes (one
 * configuration file and database each), a thread each: an IMAP session
 * per programme kept open in IDLE (polling where the server has no IDLE),
 * a timer for schedules and retries, reconnects with capped exponential
 * backoff and jitter, SIGHUP reloads, SIGTERM finishes the message in hand. */
#ifndef SERVE_H
#define SERVE_H

#include <signal.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

struct prog {
	const char *path;	/* its configuration file */
	struct conf *c;
	struct store *s;
	int lockfd;
};

/* Milliseconds from one pass to the next, which re-issues IDLE: the poll
 * interval (seconds), but at most 25 minutes (RFC 2177: a server may end
 * an IDLE after 29). */
int64_t serve_pass_interval_ms(int poll_interval);

/* Run until mg_stop_requested(); *reload is set by SIGHUP and cleared
 * here.  Returns the exit status. */
int serve(struct prog *, size_t n, volatile sig_atomic_t *reload);

#endif
