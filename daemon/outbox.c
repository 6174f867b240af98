/* The outbox: enqueue with a dedupe key, claim due rows, send, record. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "bounce.h"
#include "log.h"
#include "outbox.h"
#include "store_p.h"

static const char q_enqueue[] =
	"INSERT INTO outbox(dedupe_key, kind, message, recipient_id, rcpt, message_id,"
	" next_attempt, created) VALUES (?1,?2,?3,?4,?5,?6,?7,?7)";
static const char q_enqueue_data[] = "INSERT INTO outbox_data(id, data) VALUES (?1, ?2)";

enum mg_status
outbox_enqueue(struct store *s, const struct outbox_item *it)
{
	sqlite3_stmt *st = store_stmt(s, q_enqueue);
	enum mg_status rc;

	if (!smtp_envelope_ok(it->rcpt))
		return MG_BADINPUT;
	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, it->dedupe_key);
	store_bind_text(st, 2, it->kind);
	store_bind_id(st, 3, it->message);
	store_bind_id(st, 4, it->recipient_id);
	store_bind_text(st, 5, it->rcpt);
	store_bind_text(st, 6, it->message_id);
	sqlite3_bind_int64(st, 7, mg_now());
	if ((rc = store_exec(st)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_enqueue_data)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(sqlite3_db_handle(st)));
	sqlite3_bind_blob64(st, 2, it->data, it->len, SQLITE_STATIC);
	return store_exec(st);
}

int64_t
outbox_backoff(int attempts)
{
	int64_t d = 60;

	for (int i = 1; i < attempts && d < 6 * 3600; i++)
		d *= 2;
	if (d > 6 * 3600)
		d = 6 * 3600;
	return d + (int64_t)(random() % (d / 4 + 1));
}

static const char q_recover[] = "UPDATE outbox SET state = 'queued' WHERE state = 'sending'";
static const char q_due[] =
	"SELECT id FROM outbox WHERE state = 'queued' AND next_attempt <= ?1 ORDER BY id LIMIT ?2";
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

/* Claim up to n due rows in one transaction: ids into *ids. */
static enum mg_status
claim(struct store *s, int n, int64_t **ids, size_t *count)
{
	sqlite3_stmt *st;
	enum mg_status rc;
	int r;

	*ids = NULL;
	*count = 0;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_due))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, mg_now());
	sqlite3_bind_int(st, 2, n);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*count + 1) * sizeof **ids);
		(*ids)[(*count)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		rc = store_status(r);
		goto fail;
	}
	for (size_t i = 0; i < *count; i++) {
		if (!(st = store_stmt(s, q_claim))) {
			rc = MG_INTERNAL;
			goto fail;
		}
		sqlite3_bind_int64(st, 1, (*ids)[i]);
		if ((rc = store_exec(st)) != MG_OK)
			goto fail;
	}
	if ((rc = store_commit(s)) != MG_OK)
		goto fail_nocommit;
	mg_crashpoint("outbox claimed");
	return MG_OK;
fail:
	store_rollback(s);
fail_nocommit:
	free(*ids);
	*ids = NULL;
	*count = 0;
	return rc;
}

static enum mg_status
record(struct store *s, const char *sql, int64_t id, int64_t t, const char *err, int bump,
    const char *rcpt, int64_t message)
{
	sqlite3_stmt *st;
	enum mg_status rc;

	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, sql))) {
		store_rollback(s);
		return MG_INTERNAL;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t);
	if (sql == q_retry) {
		store_bind_text(st, 3, err);
		sqlite3_bind_int(st, 4, bump);
	}
	if ((rc = store_exec(st)) == MG_OK && sql == q_sent) {
		char *detail = xasprintf("outbox %lld to %s", (long long)id, rcpt ? rcpt : "");
		rc = audit_append(s, "sent", message, 0, NULL, detail);
		free(detail);
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
	if (rc == MG_OK && strcmp(r->kind, "notice"))
		rc = bounce_record(s, c, 0, r->id, r->rcpt, 1, why);
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
	char *db, *rcpt;
	int64_t id, message;
	int code;
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

static void
unrecorded_add(struct store *s, int64_t id, int64_t message, const char *rcpt, int code)
{
	pthread_mutex_lock(&unrec_mu);
	unrec = xrealloc(unrec, (nunrec + 1) * sizeof *unrec);
	unrec[nunrec++] = (struct unrecorded){ xstrdup(db_name(s)), xstrdup(rcpt), id, message,
		code };
	pthread_mutex_unlock(&unrec_mu);
}

/* Record this database's sent-not-recorded messages; MG_OK once none is
 * left.  (Called on the sending thread, the recorder idle.) */
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
		if ((rc = record(s, q_sent, u->id, mg_now(), NULL, 0, u->rcpt, u->message)) != MG_OK) {
			log_debug("outbox sent-not-recorded id=%lld still", (long long)u->id);
			break;
		}
		log_info("outbox sent id=%lld rcpt=%s code=%d recorded=late", (long long)u->id,
		    u->rcpt, u->code);
		free(u->db);
		free(u->rcpt);
		unrec[i] = unrec[--nunrec];
	}
	pthread_mutex_unlock(&unrec_mu);
	return rc;
}

/* The durable "sent" record of message k overlaps the SMTP transaction of
 * message k+1 (its MAIL, RCPT and DATA round trips), on a second thread.
 * The last bytes of k+1 wait for it (smtp_before_end), so at any instant at
 * most one accepted message lacks its record, as without the thread.  The
 * threads never touch the database at the same time: the sender waits for
 * the recorder before every access of its own.  When a record fails, k+1
 * is cut off before its end and nothing more is sent in this flush. */
struct recorder {
	struct store *s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int busy, quit;
	int failed;		/* a record failed */
	int64_t id, message;
	char *rcpt;
	int code;
};

static void *
recorder_main(void *arg)
{
	struct recorder *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->mu);
		/* the window: a crash before this commit re-sends this one message */
		int ok = record(w->s, q_sent, w->id, mg_now(), NULL, 0, w->rcpt, w->message) == MG_OK;
		if (ok)
			log_info("outbox sent id=%lld rcpt=%s code=%d", (long long)w->id, w->rcpt,
			    w->code);
		else {	/* (a full disk): recorded before the next send */
			log_err("outbox sent-not-recorded id=%lld rcpt=%s code=%d",
			    (long long)w->id, w->rcpt, w->code);
			unrecorded_add(w->s, w->id, w->message, w->rcpt, w->code);
		}
		mg_crashpoint("outbox sent");
		pthread_mutex_lock(&w->mu);
		w->failed |= !ok;
		free(w->rcpt);
		w->rcpt = NULL;
		w->busy = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Wait for the recorder; nonzero when a record has failed. */
static int
recorder_wait(void *arg)
{
	struct recorder *w = arg;
	int failed;

	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	failed = w->failed;
	pthread_mutex_unlock(&w->mu);
	return failed;
}

static void
recorder_submit(struct recorder *w, const struct row *r, int code)
{
	pthread_mutex_lock(&w->mu);
	w->id = r->id;
	w->message = r->message;
	w->rcpt = xstrdup(r->rcpt);
	w->code = code;
	w->busy = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int
recorder_start(struct recorder *w, struct store *s)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	return pthread_create(&w->thread, NULL, recorder_main, w) == 0;
}

static void
recorder_stop(struct recorder *w)
{
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

/* Send the claimed rows ids[0..n); MG_CONNFAIL when the server went away
 * (the rest of the claim is given back). */
static enum mg_status
send_claimed(struct store *s, const struct conf *c, struct smtp *smtp, struct recorder *w,
    const int64_t *ids, size_t n, struct outbox_stats *stats)
{
	struct row cur, next;
	enum mg_status rc = MG_OK;
	size_t i = 0;

	while (i < n && load(s, ids[i], &cur) != MG_OK)
		i++;
	for (; i < n; i++) {
		struct buf err = {0};
		char *env_from = xasprintf("%s+bounce-%lld@%s", c->relay_local, (long long)cur.id,
		    c->relay_domain);
		int code, have_next = 0;
		size_t j = i + 1;

		rc = smtp_send(smtp, env_from, cur.rcpt, cur.data, cur.len, &code, &err);
		free(env_from);
		if (recorder_wait(w)) {	/* the database is ours again */
			/* a record failed (a full disk): this message's end was held
			 * back (smtp_before_end), so it is not delivered; nothing
			 * more goes out, and the rest of the claim stays 'sending',
			 * queued again once the unrecorded are recorded */
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
			recorder_submit(w, &cur, code);
			stats->sent++;
			break;
		case MG_TEMPFAIL:
			rc = record(s, q_retry, cur.id, mg_now() + outbox_backoff(cur.attempts + 1),
			    err.s, 1, NULL, 0);
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
			record(s, q_retry, cur.id, 0, err.s, 0, NULL, 0);
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
			for (size_t k = i + 1; k < n; k++)
				record(s, q_retry, ids[k], 0, NULL, 0, NULL, 0);
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

enum mg_status
outbox_flush(struct store *s, const struct conf *c, struct smtp *smtp, struct outbox_stats *stats)
{
	struct recorder w;
	enum mg_status rc;
	int64_t *ids = NULL;
	size_t n = 0;

	memset(stats, 0, sizeof *stats);
	if ((rc = record_unrecorded(s)) != MG_OK)
		return rc;	/* still nothing can be recorded: send nothing */
	/* Only one daemon runs (lock file): a 'sending' row is a crash's
	 * leftover, or one held back above. */
	if ((rc = store_exec(store_stmt(s, q_recover))) != MG_OK)
		return rc;
	if (!recorder_start(&w, s))
		return MG_TEMPFAIL;
	smtp_before_end(smtp, recorder_wait, &w);
	for (;;) {
		if ((rc = claim(s, c->batch_size, &ids, &n)) != MG_OK || n == 0)
			break;
		rc = send_claimed(s, c, smtp, &w, ids, n, stats);
		free(ids);
		ids = NULL;
		if (rc == MG_CONNFAIL || recorder_wait(&w) || mg_stop_requested())
			break;	/* (a failed record: MG_TEMPFAIL) */
	}
	smtp_before_end(smtp, NULL, NULL);
	recorder_stop(&w);
	free(ids);
	return rc;
}

static const char q_list[] =
	"SELECT id, state, kind, rcpt, attempts, next_attempt, coalesce(last_error, ''),"
	" dedupe_key FROM outbox WHERE ?1 = 0 OR state IN ('queued','sending') ORDER BY id";

enum mg_status
outbox_list(struct store *s, int pending_only)
{
	sqlite3_stmt *st = store_stmt(s, q_list);
	int rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int(st, 1, pending_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%lld\t%s\t%s\t%s\tattempts=%d\tnext=%lld\t%s\t%s\n",
		    (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
		    sqlite3_column_int(st, 4), (long long)sqlite3_column_int64(st, 5),
		    sqlite3_column_text(st, 7), sqlite3_column_text(st, 6));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}
