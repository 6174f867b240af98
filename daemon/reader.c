/* reader: the fetching thread and its queue. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pattern.h"
#include "reader.h"
#include "relay.h"

#define QUEUE_MAX 128		/* messages fetched ahead */
#define READ_AHEAD 96		/* queued, for this thread to read ahead too */
/* (MENTORGATE_READ_AHEAD=N overrides it: tests take both paths) */
#define MOVE_PER_QUEUED 2	/* UIDs moved at a time per message queued */
#define QUEUE_BYTES (2u << 20)	/* and their raw bytes (one may exceed it) */
#define STOP_GRACE_S 5		/* after SIGTERM, before a stuck fetch is cut */

struct reader {
	struct imap *im;
	const struct conf *c;
	const uint32_t *uids;
	size_t n;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct reader_item q[QUEUE_MAX];
	size_t head, len, bytes;
	int done, stop;
	int want_room, want_item;	/* a side waits: only then signal */
	enum mg_status rc;
	struct buf err;
	double cpu;		/* the thread's CPU seconds, once done */
	/* committed UIDs handed over to move out of the mailbox; the moved
	 * count; those a failed move left (then no more are tried) */
	struct uids handed, unmoved;
	size_t moved;
	/* queued, for this thread to read ahead too; how many it did */
	size_t read_ahead_at, read_ahead;
	int move_failed;
};

/* With r->mu held: move what has been handed over, at most max of it (the
 * lock is let go meanwhile; the session is this thread's, and idle
 * between responses). */
static void
move_handed(struct reader *r, size_t max)
{
	struct uids u = r->handed;
	struct buf err = {0};
	enum mg_status st;

	r->handed = (struct uids){0};
	if (u.n > max) {	/* the rest stays handed */
		uids_add(&r->handed, u.v + max, u.n - max);
		u.n = max;
	}
	pthread_mutex_unlock(&r->mu);
	st = imap_done(r->im, u.v, u.n, &err);
	if (st == MG_OK)
		mg_crashpoint("imap moved");
	pthread_mutex_lock(&r->mu);
	if (st == MG_OK)
		r->moved += u.n;
	else {
		/* left to the caller's move at the end, which logs it */
		uids_add(&r->unmoved, u.v, u.n);
		r->move_failed = 1;
	}
	free(u.v);
	buf_free(&err);
}

static enum mg_status
on_fetched(uint32_t uid, const char *raw, size_t len, void *arg)
{
	struct reader *r = arg;
	struct relay_msg *m;

	if (raw) {
		char *copy = xmalloc(len + 1);
		int ahead;

		memcpy(copy, raw, len);
		copy[len] = 0;
		/* The session's time (fetching, moving) is this thread's, the
		 * reading the storing thread's, unless it has fallen behind:
		 * then reading ahead spares it */
		pthread_mutex_lock(&r->mu);
		ahead = r->len >= r->read_ahead_at;
		pthread_mutex_unlock(&r->mu);
		m = relay_read(r->c, copy, len, ahead);
		r->read_ahead += ahead;	/* (this thread's alone until done) */
	} else {	/* over max_message_size: not fetched */
		m = relay_msg_oversized((uint32_t)len);
		len = 0;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->stop && (r->len == QUEUE_MAX || (r->len && r->bytes + len > QUEUE_BYTES))) {
		if (r->handed.n && !r->move_failed) {
			/* the wait put to use, but no longer than the storing
			 * thread is kept busy by what is queued */
			move_handed(r, MOVE_PER_QUEUED * r->len);
			continue;
		}
		r->want_room = 1;
		pthread_cond_wait(&r->cv, &r->mu);
	}
	r->want_room = 0;
	if (r->stop) {
		pthread_mutex_unlock(&r->mu);
		relay_msg_free(m);
		return MG_TEMPFAIL;	/* ends the fetch; the message stays unhandled */
	}
	r->q[(r->head + r->len++) % QUEUE_MAX] = (struct reader_item){ uid, m };
	r->bytes += len;
	if (r->want_item)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return MG_OK;
}

static void *
run(void *arg)
{
	struct reader *r = arg;
	struct buf err = {0};
	enum mg_status rc = imap_fetch(r->im, r->uids, r->n, on_fetched, r, &err);
	double cpu;

	pattern_thread_end();
	cpu = mg_thread_cpu();
	pthread_mutex_lock(&r->mu);
	r->cpu = cpu;
	r->rc = rc;
	r->err = err;
	r->done = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct reader *
reader_start(struct imap *im, const struct conf *c, const uint32_t *uids, size_t n)
{
	struct reader *r = xcalloc(1, sizeof *r);
	const char *ahead = getenv("MENTORGATE_READ_AHEAD");
	sigset_t all, old;

	r->im = im;
	r->c = c;
	r->read_ahead_at = ahead ? strtoul(ahead, NULL, 10) : READ_AHEAD;
	r->uids = uids;
	r->n = n;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/* signals (SIGTERM, SIGHUP) are for the caller's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		r = NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

void
reader_handled(struct reader *r, const uint32_t *uids, size_t n)
{
	pthread_mutex_lock(&r->mu);
	uids_add(&r->handed, uids, n);
	if (r->want_room)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int
reader_next(struct reader *r, struct reader_item *it)
{
	int got = 0;

	pthread_mutex_lock(&r->mu);
	while (!r->len && !r->done && !mg_stop_requested()) {
		/* wake now and then: a signal does not interrupt the wait */
		struct timespec ts = mg_deadline(200);
		r->want_item = 1;
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	r->want_item = 0;
	if (r->len && !mg_stop_requested()) {
		size_t len;
		*it = r->q[r->head];
		r->head = (r->head + 1) % QUEUE_MAX;
		r->len--;
		relay_msg_raw(it->msg, &len);
		r->bytes -= len;
		if (r->want_room)
			pthread_cond_broadcast(&r->cv);
		got = 1;
	}
	pthread_mutex_unlock(&r->mu);
	return got;
}

enum mg_status
reader_finish(struct reader *r, struct reader_end *end, struct buf *err)
{
	enum mg_status rc;

	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	if (mg_stop_requested()) {
		/* a server gone silent mid-fetch would hold the exit until the
		 * watchdog's deadline (minutes): give it a moment, then cut it
		 * (what is committed stays committed; the rest is fetched again) */
		struct timespec ts = mg_deadline(STOP_GRACE_S * 1000);
		while (!r->done && pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0)
			;
		if (!r->done)
			imap_cancel(r->im);
	}
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	for (; r->len; r->len--, r->head = (r->head + 1) % QUEUE_MAX)
		relay_msg_free(r->q[r->head].msg);
	/* a fetch ended by the stop above is not an error */
	rc = r->rc == MG_TEMPFAIL && r->stop && !r->err.len ? MG_OK : r->rc;
	if (r->err.len)
		buf_adds(err, r->err.s);
	end->cpu = r->cpu;
	end->moved = r->moved;
	end->read_ahead = r->read_ahead;
	uids_add(&r->unmoved, r->handed.v, r->handed.n);
	end->unmoved = r->unmoved;
	free(r->handed.v);
	buf_free(&r->err);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	return rc;
}
