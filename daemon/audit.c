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
	"INSERT INTO audit(id, at, event, message, pair, actor, detail, prev, hash, content)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char q_all[] =
	"SELECT id, at, event, coalesce(message, 0), coalesce(pair, 0), coalesce(actor, ''),"
	" coalesce(detail, ''), prev, hash, content FROM audit ORDER BY id";
/* each message's last commitment (SQLite takes the bare columns from the
 * row with the max) */
static const char q_committed[] =
	"SELECT message, content, max(id) FROM audit WHERE content IS NOT NULL"
	" GROUP BY message ORDER BY message";

#define MAX_REPORTED 10	/* messages named by a failed verify */

/* One field of a content hash: its length in bytes in decimal ("-" for
 * none), a newline, the bytes, a newline. */
static void
field(gnutls_hash_hd_t h, const void *p, size_t n, int none)
{
	char len[32];
	int k = none ? snprintf(len, sizeof len, "-\n") : snprintf(len, sizeof len, "%zu\n", n);

	gnutls_hash(h, len, (size_t)k);
	if (n)
		gnutls_hash(h, p, n);
	gnutls_hash(h, "\n", 1);
}

struct content {
	int bare;	/* as before its texts were set: the raw bytes only */
	int ok;
	char hex[65];
};

static void
on_content(const struct store_content *c, void *arg)
{
	struct content *ct = arg;
	gnutls_hash_hd_t h;
	unsigned char d[32];
	const char *body = ct->bare ? NULL : c->body, *text = ct->bare ? NULL : c->new_text;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return;
	field(h, c->raw, c->rawlen, 0);
	field(h, body, body ? strlen(body) : 0, !body);
	field(h, text, text ? strlen(text) : 0, !text);
	gnutls_hash_deinit(h, d);
	mg_hex(d, sizeof d, ct->hex);
	ct->ok = 1;
}

/* hex SHA-256 of what message says now (bare: of its raw bytes with no
 * texts); MG_NOTFOUND for no such message */
static enum mg_status
content_hash(struct store *s, int64_t message, int bare, char out[65])
{
	struct content ct = { .bare = bare };
	enum mg_status rc = store_msg_content(s, message, on_content, &ct);

	if (rc == MG_OK && !ct.ok)
		rc = MG_INTERNAL;
	if (rc == MG_OK)
		memcpy(out, ct.hex, sizeof ct.hex);
	return rc;
}

/* hex SHA-256 of prev and the row's fields, each on its own line; a row
 * that commits to a message's content ends with that hash on a line of
 * its own (rows made before there was any hash as they were) */
static void
row_hash(const char *prev, int64_t id, int64_t at, const char *event, int64_t message, int64_t pair,
    const char *actor, const char *detail, const char *content, char out[65])
{
	unsigned char d[32];
	struct buf b = {0};

	buf_printf(&b, "%s\n%lld\n%lld\n%s\n%lld\n%lld\n", prev, (long long)id, (long long)at, event,
	    (long long)message, (long long)pair);
	buf_adds(&b, actor ? actor : "");
	buf_addc(&b, '\n');
	buf_adds(&b, detail ? detail : "");
	if (content) {
		buf_addc(&b, '\n');
		buf_adds(&b, content);
	}
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
	char *prev, hash[65], content[65];
	int has = 0;
	enum mg_status rc;

	if (message) {
		rc = content_hash(s, message, 0, content);
		if (rc != MG_OK && rc != MG_NOTFOUND)
			return rc;
		has = rc == MG_OK;
	}
	if ((rc = audit_head(s, &last, &prev)) != MG_OK) {
		free(prev);
		return rc;
	}
	if (!*prev) {
		free(prev);
		prev = xstrdup(ZERO_HASH);
	}
	row_hash(prev, last + 1, at, event, message, pair, actor ? actor : "daemon", detail,
	    has ? content : NULL, hash);
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
	store_bind_text(st, 10, has ? content : NULL);
	rc = store_exec(st);
	free(prev);
	return rc;
}

/* Does every message still say what the chain last committed to?  A
 * message whose last commitment was made before its texts were set (a
 * command's text is set without a row of its own) is held to its raw
 * bytes. */
static enum mg_status
verify_content(struct store *s, int64_t *messages, struct buf *err)
{
	sqlite3_stmt *st = store_stmt(s, q_committed);
	char now[65];
	int bad = 0, rc;
	enum mg_status r;

	*messages = 0;
	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t m = sqlite3_column_int64(st, 0), row = sqlite3_column_int64(st, 2);
		const char *want = (const char *)sqlite3_column_text(st, 1);
		const char *why = NULL;

		if ((r = content_hash(s, m, 0, now)) == MG_NOTFOUND)
			why = "is gone (deleted)";
		else if (r != MG_OK) {
			buf_printf(err, "audit: message %lld cannot be read: %s\n", (long long)m,
			    r == MG_INTERNAL ? "the database is damaged" : mg_strerror(r));
			sqlite3_reset(st);
			return r;
		} else if (strcmp(now, want) && (content_hash(s, m, 1, now) != MG_OK ||
		    strcmp(now, want)))
			why = "does not say what the chain committed to (edited)";
		if (why && ++bad <= MAX_REPORTED)
			buf_printf(err, "audit: message %lld %s; its last row is %lld\n", (long long)m,
			    why, (long long)row);
		(*messages)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		buf_printf(err, "audit: reading the log: %s\n", sqlite3_errstr(rc));
		return store_status(rc);
	}
	if (bad > MAX_REPORTED)
		buf_printf(err, "audit: and %d more messages\n", bad - MAX_REPORTED);
	return bad ? MG_BADINPUT : MG_OK;
}

enum mg_status
audit_verify(struct store *s, const char *head, struct audit_check *out, struct buf *err)
{
	sqlite3_stmt *st = store_stmt(s, q_all);
	char prev[65] = ZERO_HASH, want[65];
	int64_t expect = 1;
	int rc;

	memset(out, 0, sizeof *out);
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
		    (const char *)sqlite3_column_text(st, 6),
		    (const char *)sqlite3_column_text(st, 9), want);
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
		if (head && !strcmp(h, head))
			out->head_row = id;
		snprintf(prev, sizeof prev, "%s", h);
		expect++;
		out->rows++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		buf_printf(err, "audit: reading the log: %s\n", sqlite3_errstr(rc));
		return store_status(rc);
	}
	if (head && !out->head_row) {
		buf_printf(err, "audit: no row has the head %s: rows after it were deleted, or this is"
		    " an older copy of the database, or another one (the chain here is whole, with"
		    " %lld rows, the last %s)\n", head, (long long)out->rows, out->rows ? prev : "none");
		return MG_BADINPUT;
	}
	return verify_content(s, &out->messages, err);
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
	if (*hash)
		body = xasprintf("The audit log of %s on %s (UTC):\n\n  last row: %lld\n"
		    "  its hash: %s\n\n"
		    "Keep this message. It lets you tell later whether the database still\n"
		    "holds the log as it was today: nothing deleted from its end, not rolled\n"
		    "back to an older copy, not replaced. On the gateway's host, run\n\n"
		    "  mentorctl -c %s audit verify --head %s\n\n"
		    "It should say that the head is row %lld; it fails if that row is not\n"
		    "there. (Without --head it checks the chain and the stored messages\n"
		    "against it, but cannot tell an older or shortened copy.)\n",
		    c->name, day, (long long)id, hash, c->path ? c->path : "FILE", hash, (long long)id);
	else
		body = xasprintf("The audit log of %s on %s (UTC) is empty.\n", c->name, day);
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
