/* The outbox: enqueue with a dedupe key, list (sending: outbox_send.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "outbox.h"
#include "reply.h"
#include "store_p.h"

static const char q_enqueue[] =
	"INSERT INTO outbox(dedupe_key, kind, message, recipient_id, rcpt, message_id,"
	" next_attempt, created) VALUES (?1,?2,?3,?4,?5,?6,?7,?7)";
static const char q_enqueue_data[] = "INSERT INTO outbox_data(id, data) VALUES (?1, ?2)";
static const char q_enqueue_text[] = "INSERT INTO outbox_text(id, text) VALUES (?1, ?2)";

enum mg_status
outbox_enqueue(struct store *s, const struct outbox_item *it)
{
	sqlite3_stmt *st = store_stmt(s, q_enqueue);
	enum mg_status rc;
	int64_t id;

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
	id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	if (!(st = store_stmt(s, q_enqueue_data)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob64(st, 2, it->data, it->len, SQLITE_STATIC);
	if ((rc = store_exec(st)) != MG_OK || !it->text)
		return rc;
	if (!(st = store_stmt(s, q_enqueue_text)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, it->text);
	return store_exec(st);
}

char *
outbox_row_text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	const void *data;
	struct mime_msg *m;
	char *text = NULL;
	int len;

	if (t)
		return *t ? xstrdup(t) : NULL;	/* (an erased copy is empty) */
	if (!(data = sqlite3_column_blob(st, col + 1)) || (len = sqlite3_column_bytes(st, col + 1)) <= 0)
		return NULL;
	if ((m = mime_parse(data, (size_t)len)) && m->text && *m->text)
		text = xstrdup(m->text);
	mime_free(m);
	return text;
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

/* the relayed copy: one per message, keyed relay:MSG:RECIPIENT (a range
 * of the key's index: outbox.message has none) */
static const char q_given[] =
	"SELECT " OUTBOX_TEXT " FROM outbox o JOIN outbox_data d ON d.id = o.id"
	" LEFT JOIN outbox_text t ON t.id = o.id WHERE o.dedupe_key >= ?1 AND o.dedupe_key < ?2 AND o.kind = 'relay'"
	" ORDER BY o.id LIMIT 1";

enum mg_status
outbox_given(struct store *s, int64_t message, int whole, char **text)
{
	sqlite3_stmt *st = store_stmt(s, q_given);
	char *given = NULL;
	int rc;

	*text = NULL;
	if (!st)
		return MG_INTERNAL;
	char *lo = xasprintf("relay:%lld:", (long long)message);
	char *hi = xasprintf("relay:%lld;", (long long)message);
	store_bind_text(st, 1, lo);
	store_bind_text(st, 2, hi);
	free(lo);
	free(hi);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		given = outbox_row_text(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_status(rc);
	if (given && !whole) {
		*text = reply_extract(given, strlen(given));
		free(given);
	} else
		*text = given;
	return *text ? MG_OK : MG_NOTFOUND;
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
