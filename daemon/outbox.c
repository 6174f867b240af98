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

/* the relayed copy: one per message, keyed relay:MSG:RECIPIENT (a range
 * of the key's index: outbox.message has none) */
static const char q_given[] =
	"SELECT d.data FROM outbox o JOIN outbox_data d ON d.id = o.id"
	" WHERE o.dedupe_key >= ?1 AND o.dedupe_key < ?2 AND o.kind = 'relay'"
	" ORDER BY o.id LIMIT 1";

enum mg_status
outbox_given(struct store *s, int64_t message, int whole, char **text)
{
	sqlite3_stmt *st = store_stmt(s, q_given);
	struct mime_msg *m = NULL;
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
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0)
		m = mime_parse(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_status(rc);
	if (m && m->text && *m->text)	/* (an erased copy is empty) */
		*text = whole ? xstrdup(m->text) : reply_extract(m->text, strlen(m->text));
	mime_free(m);
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
