/* Sending the outbox: claim due rows, send them over one SMTP connection
 * or, for a backlog, several in parallel, and record each result. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "bounce.h"
#include "log.h"
#include "outbox.h"
#include "store_p.h"

static const char q_recover[] = "UPDATE outbox SET state = 'queued' WHERE state = 'sending'";
static const char q_due[] =
	"SELECT id, rcpt FROM outbox WHERE state = 'queued' AND next_attempt <= ?1 ORDER BY id"
	" LIMIT ?2";
static const char q_claim[] = "UPDATE outbox SET state = 'sending' WHERE id = ?1 AND state = 'queued'";
static const char q_row[] =
	"SELECT o.rcpt, d.data, o.attempts, o.kind, coalesce(o.message, 0) FROM outbox o"
	" JOIN outbox_data d ON d.id = o.id WHERE o.id = ?1";
static const char q_sent[] =
	"UPDATE outbox SET state = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL"
	" WHERE id = ?1";
static const char q_retry[] =
	"UPDATE outbox SET state = 'queued', attempts = attempts + ?4, next_attempt = ?2,"
	" last_error = ?3 WHERE id = ?1";
static const char q_failed[] =
	"UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1";

struct row {
	int64_t id, message;
	char *rcpt, *data, *kind;
	size_t len;
	int attempts;
};

static enum mg_status
load(struct store *s, int64_t id, struct row *r)
{
	sqlite3_stmt *st = store_stmt(s, q_row);
	int rc;

	memset(r, 0, sizeof *r);
	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
	}
	r->id = id;
	r->rcpt = store_col_text(st, 0);
	r->len = (size_t)sqlite3_column_bytes(st, 1);
	r->data = xmalloc(r->len + 1);
	memcpy(r->data, sqlite3_column_blob(st, 1), r->len);
	r->data[r->len] = 0;
	r->attempts = sqlite3_column_int(st, 2);
	r->kind = store_col_text(st, 3);
	r->message = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	return MG_OK;
}

static void
row_free(struct row *r)
{
	free(r->rcpt);
	free(r->data);
	free(r->kind);
}

/* The rows one connection sends in a round. */
struct slice {
	int64_t *ids;
	size_t n;
};

static void
slice_add(struct slice *sl, int64_t id)
{
	sl->ids = xrealloc(sl->ids, (sl->n + 1) * sizeof *sl->ids);
	sl->ids[sl->n++] = id;
}

static void
slices_free(struct slice *sl, int k)
{
	for (int i = 0; i < k; i++)
		free(sl[i].ids);
	memset(sl, 0, (size_t)k * sizeof *sl);
}

/* A claimed row, while the claim is dealt out. */
struct due {
	int64_t id;
	char *rcpt;
	int conn;
};

/* A recipient's rows in a claim: v[first..first+n) once sorted. */
struct group {
	size_t first, n;
};

static int
by_rcpt(const void *a, const void *b)
{
	const struct due *x = *(struct due *const *)a, *y = *(struct due *const *)b;
	int c = strcmp(x->rcpt, y->rcpt);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static int
by_size(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n) - (x->n > y->n) : (x->first > y->first) -
	    (x->first < y->first);
}

/* Deal v[0..n) to k connections: all of one recipient's rows to one, so
 * that they leave in order (rounds do not overlap), the largest groups
 * first, each to the connection with the fewest rows so far. */
static void
deal(struct due *v, size_t n, int k)
{
	struct due **o = xmalloc((n ? n : 1) * sizeof *o);
	struct group *g = xmalloc((n ? n : 1) * sizeof *g);
	size_t ng = 0, load[CONF_SMTP_CONN_MAX] = {0};

	for (size_t i = 0; i < n; i++)
		o[i] = &v[i];
	qsort(o, n, sizeof *o, by_rcpt);
	for (size_t i = 0; i < n; i++)
		if (!i || strcmp(o[i]->rcpt, o[i - 1]->rcpt))
			g[ng++] = (struct group){ i, 1 };
		else
			g[ng - 1].n++;
	qsort(g, ng, sizeof *g, by_size);
	for (size_t j = 0; j < ng; j++) {
		int best = 0;
		for (int c = 1; c < k; c++)
			if (load[c] < load[best])
				best = c;
		load[best] += g[j].n;
		for (size_t i = g[j].first; i < g[j].first + g[j].n; i++)
			o[i]->conn = best;
	}
	free(g);
	free(o);
}

/* Claim the due rows in one transaction: up to n for one connection, or,
 * when more are due (a backlog), up to n for each of k, dealt into
 * sl[0..k) by recipient.  *total: how many. */
static enum mg_status
claim(struct store *s, int n, int k, struct slice *sl, size_t *total)
{
	struct due *v = NULL;
	size_t nv = 0;
	sqlite3_stmt *st;
	enum mg_status rc;
	int r;

	*total = 0;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_due))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, mg_now());
	sqlite3_bind_int64(st, 2, (int64_t)n * k);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (nv + 1) * sizeof *v);
		v[nv++] = (struct due){ sqlite3_column_int64(st, 0), store_col_text(st, 1), 0 };
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_status(r);
		goto fail;
	}
	for (size_t j = 0; j < nv; j++) {
		if (!(st = store_stmt(s, q_claim))) {
			rc = MG_INTERNAL;
			goto fail;
		}
		sqlite3_bind_int64(st, 1, v[j].id);
		if ((rc = store_exec(st)) != MG_OK)
			goto fail;
	}
	if ((rc = store_commit(s)) != MG_OK)
		goto done;
	mg_crashpoint("outbox claimed");
	if (nv > (size_t)n)	/* a backlog: several connections */
		deal(v, nv, k);
	for (size_t j = 0; j < nv; j++)
		slice_add(&sl[v[j].conn], v[j].id);
	*total = nv;
	goto done;
fail:
	store_rollback(s);
done:
	for (size_t j = 0; j < nv; j++)
		free(v[j].rcpt);
	free(v);
	return rc;
}

/* Queue row id again for time t (0: now), attempts + bump. */
static enum mg_status
requeue(struct store *s, int64_t id, int64_t t, const char *err, int bump)
{
	sqlite3_stmt *st = store_stmt(s, q_retry);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t);
	store_bind_text(st, 3, err);
	sqlite3_bind_int(st, 4, bump);
	return store_exec(st);
}

/* A message the server accepted: recorded sent, with its audit row. */
struct sent {
	int64_t id, message;
	char *rcpt;
	int code, conn;
};

/* Record v[0..n) sent, in one transaction. */
static enum mg_status
record_sent(struct store *s, const struct sent *v, size_t n)
{
	enum mg_status rc;
	int64_t now = mg_now();

	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		sqlite3_stmt *st = store_stmt(s, q_sent);
		if (!st) {
			rc = MG_INTERNAL;
			break;
		}
		sqlite3_bind_int64(st, 1, v[i].id);
		sqlite3_bind_int64(st, 2, now);
		if ((rc = store_exec(st)) == MG_OK) {
			char *detail = xasprintf("outbox %lld to %s", (long long)v[i].id, v[i].rcpt);
			rc = audit_append(s, "sent", v[i].message, 0, NULL, detail);
			free(detail);
		}
	}
	if (rc != MG_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

/* Mark r failed and record the failure (a participant's relay is paused
 * and people are told), in one transaction.  A failed notice is only
 * marked: telling someone about it could loop. */
static enum mg_status
fail_row(struct store *s, const struct conf *c, const struct row *r, const char *why)
{
	sqlite3_stmt *st;
	enum mg_status rc;

	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_failed))) {
		store_rollback(s);
		return MG_INTERNAL;
	}
	sqlite3_bind_int64(st, 1, r->id);
	store_bind_text(st, 2, why);
	if ((rc = store_exec(st)) == MG_OK) {
		char *detail = xasprintf("outbox %lld to %s: %s", (long long)r->id, r->rcpt, why);
		rc = audit_append(s, "failed", r->message, 0, NULL, detail);
		free(detail);
	}
	if (rc == MG_OK && !strcmp(r->kind, "relay"))	/* (not our own notices or answers) */
		rc = bounce_record(s, c, 0, r->id, r->rcpt, 1, 1, why);
	if (rc != MG_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

/* Sent, but the "sent" record failed (a full disk), by database (its file
 * name): recorded before anything else is sent, so that while the daemon
 * lives none of them goes out twice.  (A crash loses the list: then, as
 * for a crash between sending and recording, the message is sent again.) */
struct unrecorded {
	char *db;
	struct sent v;
};
static pthread_mutex_t unrec_mu = PTHREAD_MUTEX_INITIALIZER;
static struct unrecorded *unrec;
static size_t nunrec;

static const char *
db_name(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, q_recover);

	return st ? sqlite3_db_filename(sqlite3_db_handle(st), "main") : "";
}

/* (takes v's rcpt) */
static void
unrecorded_add(struct store *s, struct sent *v)
{
	pthread_mutex_lock(&unrec_mu);
	unrec = xrealloc(unrec, (nunrec + 1) * sizeof *unrec);
	unrec[nunrec++] = (struct unrecorded){ xstrdup(db_name(s)), *v };
	pthread_mutex_unlock(&unrec_mu);
	v->rcpt = NULL;
}

/* Record this database's sent-not-recorded messages; MG_OK once none is
 * left.  (Called before anything is sent.) */
static enum mg_status
record_unrecorded(struct store *s)
{
	const char *db = db_name(s);
	enum mg_status rc = MG_OK;
	size_t i = 0;

	pthread_mutex_lock(&unrec_mu);
	while (i < nunrec && rc == MG_OK) {
		struct unrecorded *u = &unrec[i];
		if (strcmp(u->db, db)) {
			i++;
			continue;
		}
		if ((rc = record_sent(s, &u->v, 1)) != MG_OK) {
			log_debug("outbox sent-not-recorded id=%lld still", (long long)u->v.id);
			break;
		}
		log_info("outbox sent id=%lld rcpt=%s code=%d recorded=late", (long long)u->v.id,
		    u->v.rcpt, u->v.code);
		free(u->db);
		free(u->v.rcpt);
		unrec[i] = unrec[--nunrec];
	}
	pthread_mutex_unlock(&unrec_mu);
	return rc;
}

/* The durable "sent" records, made on a thread of their own for every
 * connection.  What the connections submit while a commit runs goes into
 * the next commit, so that several connections cost no more commits than
 * one.  A connection's next message waits, before its last bytes
 * (smtp_before_end), for the record of its previous one: at any instant
 * at most one accepted message per connection lacks its record.  When a
 * commit fails (a full disk), its messages go on the unrecorded list and
 * every connection's next message is cut off before its end. */
struct recorder {
	struct store *s;	/* its own connection to the database */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sent *q;		/* submitted, for the next commit */
	size_t nq;
	uint64_t submitted, done;	/* counts: submitted; committed or failed */
	int failed, quit;
};

/* A connection's view of the recorder: its last submission. */
struct client {
	struct recorder *r;
	uint64_t last;
	int held;		/* the message in hand was cut off before its end */
};

static void *
recorder_main(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->nq && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!r->nq)
			break;
		struct sent *v = r->q;
		size_t n = r->nq;
		r->q = NULL;
		r->nq = 0;
		pthread_mutex_unlock(&r->mu);
		/* the window: a crash before this commit re-sends these */
		enum mg_status rc = record_sent(r->s, v, n);
		int ok = rc == MG_OK;
		const char *why = ok ? "" : store_errmsg(r->s);
		for (size_t i = 0; i < n; i++) {
			if (ok)
				log_info("outbox sent id=%lld rcpt=%s code=%d conn=%d",
				    (long long)v[i].id, v[i].rcpt, v[i].code, v[i].conn);
			else {	/* (a full disk): recorded before the next flush sends */
				log_err("outbox sent-not-recorded id=%lld rcpt=%s code=%d error=\"%s\"",
				    (long long)v[i].id, v[i].rcpt, v[i].code, why);
				unrecorded_add(r->s, &v[i]);
			}
			free(v[i].rcpt);
			mg_crashpoint("outbox sent");
		}
		free(v);
		pthread_mutex_lock(&r->mu);
		r->failed |= !ok;
		r->done += n;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Wait for the record of this connection's last message; nonzero when a
 * record has failed (any connection's). */
static int
recorder_wait(void *arg)
{
	struct client *cl = arg;
	struct recorder *r = cl->r;
	int failed;

	pthread_mutex_lock(&r->mu);
	while (r->done < cl->last)
		pthread_cond_wait(&r->cv, &r->mu);
	failed = r->failed;
	pthread_mutex_unlock(&r->mu);
	return failed;
}

/* smtp_before_end's: the message's end goes out only if no record failed. */
static int
before_end(void *arg)
{
	struct client *cl = arg;

	return cl->held = recorder_wait(cl);
}

static void
recorder_submit(struct client *cl, const struct row *row, int code, int conn)
{
	struct recorder *r = cl->r;

	pthread_mutex_lock(&r->mu);
	r->q = xrealloc(r->q, (r->nq + 1) * sizeof *r->q);
	r->q[r->nq++] = (struct sent){ row->id, row->message, xstrdup(row->rcpt), code, conn };
	cl->last = ++r->submitted;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static int
recorder_start(struct recorder *r, struct store *s)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, recorder_main, r) == 0)
		return 1;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	return 0;
}

/* (after every connection has waited for its last record) */
static void
recorder_stop(struct recorder *r)
{
	pthread_mutex_lock(&r->mu);
	r->quit = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

/* Give back ids[0..n) (a claim not sent): queued again, due now. */
static void
give_back(struct store *s, const int64_t *ids, size_t n)
{
	if (!n || store_begin(s) != MG_OK)
		return;	/* (else: 'sending' until the next flush recovers them) */
	for (size_t i = 0; i < n; i++)
		if (requeue(s, ids[i], 0, NULL, 0) != MG_OK) {
			store_rollback(s);
			return;
		}
	store_commit(s);
}

/* Send the claimed rows ids[0..n); MG_CONNFAIL when the server went away
 * (the rest of the claim is given back). */
static enum mg_status
send_claimed(struct store *s, const struct conf *c, struct smtp *smtp, struct client *w,
    int conn, const int64_t *ids, size_t n, struct outbox_stats *stats)
{
	struct row cur, next;
	enum mg_status rc = MG_OK;
	size_t i = 0;

	while (i < n && load(s, ids[i], &cur) != MG_OK)
		i++;
	for (; i < n; i++) {
		struct buf err = {0};
		char *env_from = bounce_envelope(s, c, cur.id);
		int code, have_next = 0;
		size_t j = i + 1;

		if (!env_from) {	/* the key unreadable: the claim is given back */
			log_warn("outbox: no VERP key: %s", store_errmsg(s));
			row_free(&cur);
			recorder_wait(w);
			give_back(s, ids + i, n - i);
			return MG_TEMPFAIL;
		}

		w->held = 0;
		rc = smtp_send(smtp, env_from, cur.rcpt, cur.data, cur.len, &code, &err);
		free(env_from);
		if (w->held && rc != MG_OK) {
			/* a record failed (a full disk, on any connection): this
			 * message's end was held back, so it is not delivered;
			 * nothing more goes out, and the rest of the claim stays
			 * 'sending', queued again once the unrecorded are recorded.
			 * (Accepted before the failure, a message is recorded:
			 * below.) */
			log_info("outbox held-back id=%lld error=\"%s\"", (long long)cur.id,
			    err.s ? err.s : "");
			buf_free(&err);
			row_free(&cur);
			return MG_TEMPFAIL;
		}
		while (j < n && !(have_next = load(s, ids[j], &next) == MG_OK))
			j++;
		switch (rc) {
		case MG_OK:
			recorder_submit(w, &cur, code, conn);
			stats->sent++;
			break;
		case MG_TEMPFAIL:
			rc = requeue(s, cur.id, mg_now() + outbox_backoff(cur.attempts + 1), err.s, 1);
			stats->retried++;
			log_warn("outbox deferred id=%lld code=%d error=\"%s\"", (long long)cur.id,
			    code, err.s);
			break;
		case MG_PERMFAIL:
		case MG_BADINPUT:
			rc = fail_row(s, c, &cur, err.s ? err.s : "refused");
			stats->failed++;
			log_err("outbox failed id=%lld code=%d error=\"%s\"", (long long)cur.id, code,
			    err.s);
			break;
		default:	/* unreachable server: leave the rest as they were */
			/* the caller logs an outage once; each attempt only here */
			log_debug("outbox server unreachable error=\"%s\"", err.s ? err.s : "");
			snprintf(stats->down, sizeof stats->down, "%s", err.s ? err.s : "unreachable");
			requeue(s, cur.id, 0, err.s, 0);
			rc = MG_CONNFAIL;
			break;
		}
		buf_free(&err);
		row_free(&cur);
		if (rc == MG_CONNFAIL || mg_stop_requested()) {
			/* server gone, or SIGTERM after the message in hand: give
			 * back the rest of the claim */
			if (have_next)
				row_free(&next);
			recorder_wait(w);
			give_back(s, ids + i + 1, n - i - 1);
			return rc == MG_CONNFAIL ? MG_CONNFAIL : MG_OK;
		}
		if (!have_next)
			break;
		cur = next;
		i = j - 1;
	}
	recorder_wait(w);
	return rc;
}

/* One connection's part of a round. */
struct worker {
	const struct conf *c;
	struct store *s;	/* for its reads and retries (the first: the caller's) */
	struct smtp *smtp;
	struct client cl;
	int conn;		/* 1..connections, in the log */
	struct slice sl;
	struct outbox_stats stats;
	enum mg_status rc;
	int unrecorded;		/* a "sent" record failed */
	pthread_t thread;
};

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;

	smtp_before_end(wk->smtp, before_end, &wk->cl);
	wk->rc = send_claimed(wk->s, wk->c, wk->smtp, &wk->cl, wk->conn, wk->sl.ids, wk->sl.n,
	    &wk->stats);
	wk->unrecorded = recorder_wait(&wk->cl);
	smtp_before_end(wk->smtp, NULL, NULL);
	return NULL;
}

/* Send one round's slices: slice 0 on this thread over smtp, each other
 * on a thread of its own (or in turn, if none can be made).  A connection
 * whose database cannot be opened hands its rows to the first. */
static void
round_send(struct store *s, const struct conf *c, struct smtp *smtp, struct recorder *r,
    struct store **extra, struct slice *sl, int k, struct worker *wk)
{
	int started[CONF_SMTP_CONN_MAX] = {0};

	for (int i = 1; i < k; i++) {
		struct buf err = {0};
		if (!sl[i].n || extra[i] || store_open_again(s, &extra[i], &err) == MG_OK)
			continue;
		log_warn("outbox conn=%d database error=\"%s\"", i + 1, err.s ? err.s : "");
		buf_free(&err);
		for (size_t j = 0; j < sl[i].n; j++)
			slice_add(&sl[0], sl[i].ids[j]);
		sl[i].n = 0;
	}
	for (int i = 0; i < k; i++) {
		wk[i] = (struct worker){ .c = c, .s = i ? extra[i] : s, .smtp = smtp_conn(smtp, i),
			.cl = { .r = r }, .conn = i + 1, .sl = sl[i] };
		if (i && sl[i].n)
			started[i] = !pthread_create(&wk[i].thread, NULL, worker_main, &wk[i]);
	}
	if (sl[0].n)
		worker_main(&wk[0]);
	for (int i = 1; i < k; i++)
		if (started[i])
			pthread_join(wk[i].thread, NULL);
		else if (sl[i].n)
			worker_main(&wk[i]);
}

/* Add up a round's results into stats and return the flush's status.  A
 * connection refused while another got through means the server takes
 * fewer than configured (a limit per client): *usable becomes how many got
 * through, their rows given back to go over those.  All refused: the
 * server is down. */
static enum mg_status
round_result(const struct worker *wk, int k, struct outbox_stats *stats, int *usable,
    int *unrecorded)
{
	enum mg_status rc = MG_OK;
	int used = 0, refused = 0;

	*unrecorded = 0;
	for (int i = 0; i < k; i++) {
		const struct worker *w = &wk[i];
		if (!w->sl.n)
			continue;
		used++;
		refused += w->rc == MG_CONNFAIL;
		stats->sent += w->stats.sent;
		stats->retried += w->stats.retried;
		stats->failed += w->stats.failed;
		*unrecorded |= w->unrecorded;
	}
	*usable = refused && refused < used ? used - refused : k;
	for (int i = 0; i < k; i++) {
		const struct worker *w = &wk[i];
		if (!w->sl.n || w->rc == MG_OK)
			continue;
		if (w->rc == MG_CONNFAIL && *usable < k)
			log_warn("outbox conn=%d refused, continuing with %d error=\"%s\"", w->conn,
			    *usable, w->stats.down);
		else if (rc == MG_OK) {
			rc = w->rc;
			memcpy(stats->down, w->stats.down, sizeof stats->down);
		}
	}
	return rc;
}

enum mg_status
outbox_flush(struct store *s, const struct conf *c, struct smtp *smtp, struct outbox_stats *stats)
{
	struct store *extra[CONF_SMTP_CONN_MAX] = {0};	/* [0]: the recorder's */
	struct slice sl[CONF_SMTP_CONN_MAX] = {0};
	struct worker wk[CONF_SMTP_CONN_MAX];
	struct recorder r;
	int k = c->smtp_connections < 1 ? 1 : c->smtp_connections, running = 0;
	enum mg_status rc;
	size_t n;

	memset(stats, 0, sizeof *stats);
	if ((rc = record_unrecorded(s)) != MG_OK)
		return rc;	/* still nothing can be recorded: send nothing */
	/* Only one daemon runs (lock file): a 'sending' row is a crash's
	 * leftover, or one held back above. */
	if ((rc = store_exec(store_stmt(s, q_recover))) != MG_OK)
		return rc;
	while ((rc = claim(s, c->batch_size, k, sl, &n)) == MG_OK && n) {
		int usable, unrecorded;
		if (!running) {
			struct buf err = {0};
			if (store_open_again(s, &extra[0], &err) != MG_OK ||
			    !recorder_start(&r, extra[0])) {
				log_err("outbox recorder error=\"%s\"", err.s ? err.s : "no thread");
				buf_free(&err);
				slices_free(sl, k);	/* (recovered by the next flush) */
				rc = MG_TEMPFAIL;
				break;
			}
			running = 1;
		}
		round_send(s, c, smtp, &r, extra, sl, k, wk);
		rc = round_result(wk, k, stats, &usable, &unrecorded);
		slices_free(sl, k);
		if (usable < k)
			smtp_conn_trim(smtp, usable);	/* (their sessions hold places) */
		k = usable;
		if (rc == MG_CONNFAIL || unrecorded || mg_stop_requested()) {
			if (unrecorded && rc == MG_OK)
				rc = MG_TEMPFAIL;	/* a full disk: nothing more now */
			break;
		}
		if ((rc = store_check_file(s, NULL)) != MG_OK)
			break;	/* deleted or replaced: what is recorded would be lost */
	}
	if (running)
		recorder_stop(&r);
	for (int i = 0; i < CONF_SMTP_CONN_MAX; i++)
		store_close(extra[i]);
	return rc;
}
