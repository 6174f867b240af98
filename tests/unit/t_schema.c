/* Unit tests for migration 7: the constraints it rewrites still refuse what
 * they refused, the checks no longer build temporary b-trees, and the
 * database stays sound. */
#include <stdlib.h>
#include <string.h>

#include "store_p.h"
#include "tap.h"
#include "tmpdb.h"

/* The text of table name as the database holds it; caller frees. */
static char *
table_sql(struct store *s, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1");
	char *sql = NULL;

	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW)
		sql = store_col_text(st, 0);
	sqlite3_reset(st);
	return sql;
}

/* Does statement sql compile to an OpenEphemeral (a temporary b-tree)? */
static int
ephemeral(struct store *s, const char *sql)
{
	char *explain = xasprintf("EXPLAIN %s", sql);
	sqlite3_stmt *st = store_stmt(s, explain);
	int yes = 0;

	while (st && sqlite3_step(st) == SQLITE_ROW)
		yes |= !strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral");
	if (st)
		sqlite3_reset(st);
	free(explain);
	return yes;
}

/* The status of one statement run now. */
static enum mg_status
run(struct store *s, const char *sql)
{
	sqlite3_stmt *st = store_stmt(s, sql);

	return st ? store_exec(st) : MG_INTERNAL;
}

int
main(void)
{
	char dir[] = "/tmp/mg-t-schema-XXXXXX", *path;
	static const char *const tables[] = { "participants", "pairs", "messages", "outbox", "holds" };
	struct store *s = NULL;
	struct buf err = {0};
	sqlite3_stmt *st;

	if (!mkdtemp(dir))
		return 1;
	path = xasprintf("%s/t.db", dir);
	ok(store_open(path, &s, &err) == MG_OK, "store opens (every migration run)");

	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		char *sql = table_sql(s, tables[i]);
		ok(sql && strstr(sql, "CHECK (") && !strstr(sql, " IN ("),
		    "%s: its CHECK is a chain of equalities", tables[i]);
		free(sql);
	}
	{
		char *sql = table_sql(s, "messages");
		ok(sql && strstr(sql, "pair_id INTEGER,") && !strstr(sql, "REFERENCES pairs"),
		    "messages: pair, author and recipient without REFERENCES");
		free(sql);
	}
	ok(!ephemeral(s, "UPDATE messages SET state = ?2 WHERE id = ?1") &&
	    !ephemeral(s, "INSERT INTO outbox(dedupe_key, kind, rcpt, message_id, next_attempt,"
	    " created) VALUES ('k', 'relay', 'a@b.test', 'm', 0, 0)"),
	    "checking a state builds no temporary b-tree");

	ok(run(s, "INSERT INTO participants(role, name, email, created)"
	    " VALUES ('mentee', 'A', 'a@school.test', 0)") == MG_OK &&
	    run(s, "INSERT INTO participants(role, name, email, created)"
	    " VALUES ('mentor', 'B', 'b@nhs.test', 0)") == MG_OK,
	    "each role allowed is allowed");
	ok(run(s, "INSERT INTO participants(role, name, email, created)"
	    " VALUES ('admin', 'C', 'c@x.test', 0)") == MG_BADINPUT,
	    "a role not allowed is refused");
	ok(run(s, "INSERT INTO pairs(mentee_id, mentor_id, to_mentor_token, to_mentee_token, created)"
	    " VALUES (1, 2, 't1', 't2', 0)") == MG_OK &&
	    run(s, "UPDATE pairs SET state = 'gone' WHERE id = 1") == MG_BADINPUT &&
	    run(s, "UPDATE pairs SET state = 'ended' WHERE id = 1") == MG_OK,
	    "pairs: a state not allowed is refused, one allowed taken");
	ok(run(s, "INSERT INTO messages(mailbox, uidvalidity, uid, dedupe, received)"
	    " VALUES ('INBOX', 1, 1, 'd1', 0)") == MG_OK &&
	    run(s, "UPDATE messages SET state = 'sent' WHERE id = 1") == MG_BADINPUT &&
	    run(s, "UPDATE messages SET state = 'held', pair_id = 1 WHERE id = 1") == MG_OK,
	    "messages: a state not allowed is refused, one allowed taken");
	ok(run(s, "INSERT INTO outbox(dedupe_key, kind, message, rcpt, message_id, next_attempt,"
	    " created) VALUES ('k1', 'relay', 1, 'b@nhs.test', 'm1', 0, 0)") == MG_OK &&
	    run(s, "UPDATE outbox SET state = 'held' WHERE id = 1") == MG_BADINPUT &&
	    run(s, "UPDATE outbox SET state = 'sent' WHERE id = 1") == MG_OK,
	    "outbox: a state not allowed is refused, one allowed taken");
	ok(run(s, "INSERT INTO holds(message, token, reason, created) VALUES (1, 'h1', 'r', 0)") ==
	    MG_OK && run(s, "UPDATE holds SET state = 'relayed' WHERE id = 1") == MG_BADINPUT &&
	    run(s, "UPDATE holds SET state = 'edited' WHERE id = 1") == MG_OK,
	    "holds: a state not allowed is refused, one allowed taken");
	ok(run(s, "INSERT INTO outbox(dedupe_key, kind, message, rcpt, message_id, next_attempt,"
	    " created) VALUES ('k2', 'relay', 99, 'b@nhs.test', 'm2', 0, 0)") == MG_BADINPUT,
	    "the references kept are still enforced (outbox to a missing message)");

	st = store_stmt(s, "PRAGMA integrity_check");
	ok(st && sqlite3_step(st) == SQLITE_ROW &&
	    !strcmp((const char *)sqlite3_column_text(st, 0), "ok"), "integrity_check: ok");
	if (st)
		sqlite3_reset(st);
	store_close(s);

	s = NULL;
	ok(store_open(path, &s, &err) == MG_OK, "and it opens again (no migration left)");
	{
		char *sql = table_sql(s, "outbox");
		ok(sql && !strstr(sql, " IN ("), "with the rewritten text");
		free(sql);
	}
	store_close(s);
	tmpdb_remove(dir, path);
	free(path);
	buf_free(&err);
	return tap_done();
}
