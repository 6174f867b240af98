/* audit: append and verify the hash chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "audit.h"
#include "notice.h"
#include "store_p.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static const char q_last[] = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1";
static const char q_add[] =
	"INSERT INTO audit(id, at, event, message, pair, actor, detail, prev, hash)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char q_all[] =
	"SELECT id, at, event, coalesce(message, 0), coalesce(pair, 0), coalesce(actor, ''),"
	" coalesce(detail, ''), prev, hash FROM audit ORDER BY id";

/* hex SHA-256 of prev and the row's fields, each on its own line */
static void
row_hash(const char *prev, int64_t id, int64_t at, const char *event, int64_t message, int64_t pair,
    const char *actor, const char *detail, char out[65])
{
	unsigned char d[32];
	struct buf b = {0};

	buf_printf(&b, "%s\n%lld\n%lld\n%s\n%lld\n%lld\n", prev, (long long)id, (long long)at, event,
	    (long long)message, (long long)pair);
	buf_adds(&b, actor ? actor : "");
	buf_addc(&b, '\n');
	buf_adds(&b, detail ? detail : "");
	gnutls_hash_fast(GNUTLS_DIG_SHA256, b.s, b.len, d);
	mg_hex(d, sizeof d, out);
	buf_free(&b);
}

enum mg_status
audit_head(struct store *s, int64_t *id, char **hash)
{
	sqlite3_stmt *st = store_stmt(s, q_last);
	int rc;

	*id = 0;
	*hash = NULL;
	if (!st)
		return MG_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*hash = store_col_text(st, 1);
	}
	sqlite3_reset(st);
	if (!*hash)
		*hash = xstrdup("");
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

enum mg_status
audit_append(struct store *s, const char *event, int64_t message, int64_t pair, const char *actor,
    const char *detail)
{
	sqlite3_stmt *st;
	int64_t last, at = mg_now();
	char *prev, hash[65];
	enum mg_status rc;

	if ((rc = audit_head(s, &last, &prev)) != MG_OK) {
		free(prev);
		return rc;
	}
	if (!*prev) {
		free(prev);
		prev = xstrdup(ZERO_HASH);
	}
	row_hash(prev, last + 1, at, event, message, pair, actor ? actor : "daemon", detail, hash);
	if (!(st = store_stmt(s, q_add))) {
		free(prev);
		return MG_INTERNAL;
	}
	sqlite3_bind_int64(st, 1, last + 1);
	sqlite3_bind_int64(st, 2, at);
	store_bind_text(st, 3, event);
	store_bind_id(st, 4, message);
	store_bind_id(st, 5, pair);
	store_bind_text(st, 6, actor ? actor : "daemon");
	store_bind_text(st, 7, detail);
	store_bind_text(st, 8, prev);
	store_bind_text(st, 9, hash);
	rc = store_exec(st);
	free(prev);
	return rc;
}

enum mg_status
audit_verify(struct store *s, int64_t *rows, struct buf *err)
{
	sqlite3_stmt *st = store_stmt(s, q_all);
	char prev[65] = ZERO_HASH, want[65];
	int64_t expect = 1;
	int rc;

	*rows = 0;
	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *p = (const char *)sqlite3_column_text(st, 7);
		const char *h = (const char *)sqlite3_column_text(st, 8);
		const char *why = NULL;

		row_hash(p ? p : "", id, sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
		    sqlite3_column_int64(st, 4), (const char *)sqlite3_column_text(st, 5),
		    (const char *)sqlite3_column_text(st, 6), want);
		if (id != expect)
			why = id > expect ? "rows before it are missing (deleted)" : "out of order";
		else if (!p || strcmp(p, prev))
			why = "it does not follow the row before it (a row was deleted, inserted or moved)";
		else if (!h || strcmp(h, want))
			why = "its content does not match its hash (edited)";
		if (why) {
			buf_printf(err, "audit: row %lld is broken: %s\n", (long long)id, why);
			sqlite3_reset(st);
			return MG_BADINPUT;
		}
		snprintf(prev, sizeof prev, "%s", h);
		expect++;
		(*rows)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

enum mg_status
audit_mail_head(struct store *s, const struct conf *c)
{
	char day[16], *hash = NULL, *key, *subject, *body;
	char **to = c->safeguarding;
	size_t n = c->nsafeguarding;
	time_t now = (time_t)mg_now();
	struct tm tm;
	int64_t id;
	enum mg_status rc;

	if (!n)
		return MG_OK;
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if ((rc = audit_head(s, &id, &hash)) != MG_OK)
		goto fail;
	subject = xasprintf("[%s] audit chain head %s", c->name, day);
	body = xasprintf("The audit log of %s on %s (UTC):\n\n  last row: %lld\n  its hash: %s\n\n"
	    "Keep this message. \"mentorctl audit verify\" checks the chain inside the\n"
	    "database; comparing this head with the database later shows whether the\n"
	    "database was rolled back or replaced.\n", c->name, day, (long long)id,
	    *hash ? hash : "(empty log)");
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		key = xasprintf("audit-head:%s:%s", day, to[i]);
		struct notice nt = { key, NULL, to[i], 0, 0, subject, body, NULL, NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &nt);
		free(key);
	}
	free(subject);
	free(body);
	if (rc != MG_OK)
		goto fail;
	free(hash);
	return store_commit(s);
fail:
	free(hash);
	store_rollback(s);
	return rc;
}
