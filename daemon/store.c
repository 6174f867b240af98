/* The SQLite store: open with safe pragmas, migrate by user_version, cache
 * prepared statements, and own the messages and imap_sync tables.  Every
 * statement is prepared: no SQL is ever built from input. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_p.h"

#define NCACHE 96
#define NEST_MAX 16	/* store_begin levels a lean batch tells apart */

struct store {
	sqlite3 *db;
	/* the file opened: a path naming another file (or none) later means
	 * the database was replaced (or deleted) under us */
	char *path;
	struct fid {
		dev_t dev;
		ino_t ino;
	} id, wal, shm;		/* the database's, its WAL's, its shared memory's */
	const char *gone;	/* how, once seen: for good */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[NCACHE];
	int ncache;
	int batch;	/* inside store_batch_begin: transactions nest as savepoints */
	int nest;
	/* a lean batch: no savepoints; the row changes counted as each level
	 * began, and whether a level that had changed rows was rolled back */
	int lean, spoiled;
	sqlite3_int64 changes[NEST_MAX];
};

/* The storage fault this thread last met (SQLite's words), until taken:
 * a programme's store is used by its own thread only. */
static _Thread_local const char *fault;

static const char *const migrations[] = {
	/* 1: the relay */
	"CREATE TABLE cohorts("
	" id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, start_date TEXT NOT NULL,"
	" weeks INTEGER NOT NULL CHECK (weeks > 0), created INTEGER NOT NULL) STRICT;"
	"CREATE TABLE participants("
	" id INTEGER PRIMARY KEY,"
	" role TEXT NOT NULL CHECK (role IN ('mentee','mentor','coordinator','safeguarding')),"
	" name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,"
	" cohort_id INTEGER REFERENCES cohorts(id), segment TEXT,"
	" created INTEGER NOT NULL) STRICT;"
	/* to_mentor_token: the mentor's masked address, shown to the mentee. */
	"CREATE TABLE pairs("
	" id INTEGER PRIMARY KEY,"
	" mentee_id INTEGER NOT NULL REFERENCES participants(id),"
	" mentor_id INTEGER NOT NULL REFERENCES participants(id),"
	" to_mentor_token TEXT NOT NULL UNIQUE, to_mentee_token TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','paused','ended')),"
	" created INTEGER NOT NULL, UNIQUE (mentee_id, mentor_id)) STRICT;"
	"CREATE TABLE messages("
	" id INTEGER PRIMARY KEY,"
	" mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" dedupe TEXT NOT NULL UNIQUE, received INTEGER NOT NULL, raw BLOB NOT NULL,"
	" message_id TEXT, in_reply_to TEXT, refs TEXT, from_addr TEXT, subject TEXT,"
	" date_hdr TEXT, token TEXT,"
	" state TEXT NOT NULL DEFAULT 'received'"
	"  CHECK (state IN ('received','relayed','held','ignored')),"
	" reason TEXT, decided INTEGER,"
	" pair_id INTEGER REFERENCES pairs(id),"
	" author_id INTEGER REFERENCES participants(id),"
	" recipient_id INTEGER REFERENCES participants(id),"
	" body TEXT,"
	" UNIQUE (mailbox, uidvalidity, uid)) STRICT;"
	"CREATE INDEX messages_state ON messages(state);"
	"CREATE INDEX messages_pair ON messages(pair_id, received);"
	/* relay_id: a Message-ID we generated, known to recipient_id; orig_id:
	 * what the author (author_id) knows the same message as. */
	"CREATE TABLE msgid_map("
	" relay_id TEXT PRIMARY KEY, orig_id TEXT,"
	" message INTEGER REFERENCES messages(id),"
	" pair_id INTEGER REFERENCES pairs(id),"
	" author_id INTEGER REFERENCES participants(id),"
	" recipient_id INTEGER NOT NULL REFERENCES participants(id)) STRICT;"
	"CREATE INDEX msgid_map_orig ON msgid_map(orig_id);"
	"CREATE TABLE outbox("
	" id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
	" message INTEGER REFERENCES messages(id),"
	" recipient_id INTEGER REFERENCES participants(id),"
	" rcpt TEXT NOT NULL, message_id TEXT NOT NULL, data BLOB NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (state IN ('queued','sending','sent','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
	" last_error TEXT, created INTEGER NOT NULL, sent_at INTEGER) STRICT;"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt);"
	"CREATE TABLE imap_sync("
	" mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL, updated INTEGER NOT NULL) STRICT;",
	/* 2: understanding messages.  kind: message | autoreply | bounce | loop;
	 * new_text: the reply without quoted history and signature; thread_id:
	 * the first message of the conversation within the pair; topic: the
	 * subject without Re:/Fwd:/[tags], for threading by subject. */
	"ALTER TABLE messages ADD COLUMN kind TEXT;"
	"ALTER TABLE messages ADD COLUMN new_text TEXT;"
	"ALTER TABLE messages ADD COLUMN thread_id INTEGER;"
	"ALTER TABLE messages ADD COLUMN topic TEXT;"
	"ALTER TABLE messages ADD COLUMN attachments TEXT;"	/* "name\ttype\tbytes" lines */
	"CREATE INDEX messages_thread ON messages(pair_id, thread_id);"
	/* paused: when relay to the participant stopped after a permanent
	 * delivery failure (NULL: not paused) */
	"ALTER TABLE participants ADD COLUMN paused INTEGER;"
	"ALTER TABLE participants ADD COLUMN paused_reason TEXT;"
	"CREATE TABLE bounces("
	" id INTEGER PRIMARY KEY,"
	" message INTEGER REFERENCES messages(id),"
	" outbox_id INTEGER REFERENCES outbox(id),"
	" participant_id INTEGER REFERENCES participants(id),"
	" rcpt TEXT NOT NULL, permanent INTEGER NOT NULL, why TEXT,"
	" created INTEGER NOT NULL) STRICT;"
	/* screening hits on a message's new text (offsets into what was
	 * screened: the subject, a blank line, the new text) */
	"CREATE TABLE flags("
	" id INTEGER PRIMARY KEY, message INTEGER NOT NULL REFERENCES messages(id),"
	" rule TEXT NOT NULL, category TEXT NOT NULL, action TEXT NOT NULL,"
	" span_start INTEGER NOT NULL, span_end INTEGER NOT NULL, excerpt TEXT NOT NULL,"
	" created INTEGER NOT NULL) STRICT;"
	"CREATE INDEX flags_message ON flags(message);"
	/* a held message waiting for (or given) a coordinator's decision;
	 * token: the single-use part of LOCAL+mod-TOKEN@DOMAIN */
	"CREATE TABLE holds("
	" id INTEGER PRIMARY KEY, message INTEGER NOT NULL UNIQUE REFERENCES messages(id),"
	" token TEXT NOT NULL UNIQUE, reason TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'open'"
	"  CHECK (state IN ('open','approved','rejected','redacted','edited')),"
	" created INTEGER NOT NULL, decided INTEGER, decided_by TEXT, note TEXT,"
	" reminded INTEGER, subject TEXT, mail TEXT) STRICT;"
	/* step 0: mailed to the safeguarding list; step k: to the k-th
	 * address of the escalation chain; next_at: when the next step is due */
	"CREATE TABLE escalations("
	" id INTEGER PRIMARY KEY, message INTEGER NOT NULL UNIQUE REFERENCES messages(id),"
	" token TEXT NOT NULL UNIQUE, summary TEXT NOT NULL, step INTEGER NOT NULL,"
	" next_at INTEGER NOT NULL, exhausted INTEGER NOT NULL DEFAULT 0,"
	" acked INTEGER, acked_by TEXT, created INTEGER NOT NULL) STRICT;"
	/* the hash-chained event log (see audit.h); never updated or deleted */
	"CREATE TABLE audit("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, event TEXT NOT NULL,"
	" message INTEGER, pair INTEGER, actor TEXT, detail TEXT,"
	" prev TEXT NOT NULL, hash TEXT NOT NULL) STRICT;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	/* survey invitations (one per survey and participant) and answers;
	 * question N+1 holds the free text */
	"CREATE TABLE survey_invites("
	" id INTEGER PRIMARY KEY, survey TEXT NOT NULL,"
	" cohort_id INTEGER NOT NULL REFERENCES cohorts(id),"
	" participant_id INTEGER NOT NULL REFERENCES participants(id),"
	" token TEXT NOT NULL UNIQUE, sent INTEGER NOT NULL, reminders INTEGER NOT NULL DEFAULT 0,"
	" reminded INTEGER, answered INTEGER, UNIQUE (survey, participant_id)) STRICT;"
	"CREATE TABLE survey_answers("
	" invite_id INTEGER NOT NULL REFERENCES survey_invites(id), question INTEGER NOT NULL,"
	" score INTEGER CHECK (score BETWEEN 1 AND 5), text TEXT, updated INTEGER NOT NULL,"
	" PRIMARY KEY (invite_id, question)) STRICT;"
	/* scheduled sends done (or skipped as too late) per cohort */
	"CREATE TABLE sched_done("
	" cohort_id INTEGER NOT NULL REFERENCES cohorts(id), send_key TEXT NOT NULL,"
	" done_at INTEGER NOT NULL, skipped INTEGER NOT NULL,"
	" PRIMARY KEY (cohort_id, send_key)) STRICT;",
	/* 3: indexes for the per-message lookups while ingesting (the raw
	 * message sits before these columns: without a covering index every
	 * candidate row's overflow pages would be read) */
	"CREATE INDEX messages_pair_state ON messages(pair_id, state, decided);"
	"CREATE INDEX messages_topic ON messages(pair_id, topic, received, thread_id);"
	"CREATE INDEX messages_msgid ON messages(message_id);",
	/* 4: the raw message in a table of its own, written once: deciding
	 * updates the message's row, which would rewrite it */
	"CREATE TABLE message_raw("
	" id INTEGER PRIMARY KEY REFERENCES messages(id), raw BLOB NOT NULL) STRICT;"
	"INSERT INTO message_raw(id, raw) SELECT id, raw FROM messages;"
	"ALTER TABLE messages DROP COLUMN raw;",
	/* 5: likewise the outbound copy: claiming a row and marking it sent
	 * no longer rewrite it */
	"CREATE TABLE outbox_data("
	" id INTEGER PRIMARY KEY REFERENCES outbox(id), data BLOB NOT NULL) STRICT;"
	"INSERT INTO outbox_data(id, data) SELECT id, data FROM outbox;"
	"ALTER TABLE outbox DROP COLUMN data;",
	/* 6: the message a fetch keeps failing at (0: none), how many passes
	 * in a row, and the last error: one the server can never deliver
	 * must not hold up the mailbox for ever */
	"ALTER TABLE imap_sync ADD COLUMN suspect_uid INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE imap_sync ADD COLUMN suspect_fails INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE imap_sync ADD COLUMN suspect_error TEXT;",
	/* 7: constraints SQLite checks faster, their meaning the same.  A
	 * CHECK on a list of more than two values builds a temporary b-tree
	 * at every insert and update (3 a message); a chain of equalities
	 * does not.  And the message's pair, author and recipient lose their
	 * REFERENCES: setting them made each decision's UPDATE keep a
	 * statement journal (a copy of every page it touched).  Their ids
	 * are read from pairs in the same transaction, and neither pairs nor
	 * participants are ever deleted; `mentorctl audit verify` looks for
	 * strays.  (The text of the tables is edited in place, the way SQLite
	 * documents for such changes: the rows on disk are unchanged.) */
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	" 'CHECK (state IN (''received'',''relayed'',''held'',''ignored''))',"
	" 'CHECK (state = ''received'' OR state = ''relayed'' OR state = ''held'' OR state = ''ignored'')'),"
	" 'pair_id INTEGER REFERENCES pairs(id), author_id INTEGER REFERENCES participants(id),"
	" recipient_id INTEGER REFERENCES participants(id)',"
	" 'pair_id INTEGER, author_id INTEGER, recipient_id INTEGER')"
	" WHERE type = 'table' AND name = 'messages';"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK (state IN (''queued'',''sending'',''sent'',''failed''))',"
	" 'CHECK (state = ''queued'' OR state = ''sending'' OR state = ''sent'' OR state = ''failed'')')"
	" WHERE type = 'table' AND name = 'outbox';"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK (state IN (''open'',''approved'',''rejected'',''redacted'',''edited''))',"
	" 'CHECK (state = ''open'' OR state = ''approved'' OR state = ''rejected'' OR"
	" state = ''redacted'' OR state = ''edited'')')"
	" WHERE type = 'table' AND name = 'holds';"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK (state IN (''active'',''paused'',''ended''))',"
	" 'CHECK (state = ''active'' OR state = ''paused'' OR state = ''ended'')')"
	" WHERE type = 'table' AND name = 'pairs';"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK (role IN (''mentee'',''mentor'',''coordinator'',''safeguarding''))',"
	" 'CHECK (role = ''mentee'' OR role = ''mentor'' OR role = ''coordinator'' OR"
	" role = ''safeguarding'')')"
	" WHERE type = 'table' AND name = 'participants';"
	"PRAGMA writable_schema = OFF;",
	/* 8: secrets (the VERP key, made by new_secret below: random, never
	 * shown), and whether a delivery report answered mail we really sent
	 * (0: an unverified report, listed but believed by nobody) */
	"CREATE TABLE secrets(name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
	"ALTER TABLE bounces ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;",
	/* 9: commands by mail waiting for their sender's confirmation
	 * (confirm.h): the command's message and reserved token, the address
	 * asked, and the reply that confirmed it */
	"CREATE TABLE confirmations("
	" id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE,"
	" message INTEGER NOT NULL UNIQUE REFERENCES messages(id), command TEXT NOT NULL,"
	" addr TEXT NOT NULL, created INTEGER NOT NULL, confirmed INTEGER, reply INTEGER) STRICT;",
	/* 10: a hold can be closed: ended with nothing sent to anyone */
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(sql, ' OR state = ''edited'')',"
	" ' OR state = ''edited'' OR state = ''closed'')')"
	" WHERE type = 'table' AND name = 'holds';"
	"PRAGMA writable_schema = OFF;",
	/* 11: a hold batched (not mailed by itself: its sender or pair had
	 * enough mailed that day), listed in the next summary instead */
	"ALTER TABLE holds ADD COLUMN batched INTEGER NOT NULL DEFAULT 0;",
	/* 12: an audit row about a message commits to what the message says
	 * (audit.h); rows before it have none, and their hashes stay as they
	 * were */
	"ALTER TABLE audit ADD COLUMN content TEXT;",
	/* 13: participants' first names, as the import parsed them or its
	 * first_name column gave them (NULL before: roster works it out) */
	"ALTER TABLE participants ADD COLUMN first_name TEXT;",
	/* 14: finding a copy the gateway sent by its Message-ID (a reply
	 * quoting it: quote.h) */
	"CREATE INDEX outbox_msgid ON outbox(message_id);",
	/* 15: spot checks (spotcheck.h): a relayed message sampled for a
	 * second look, and the verdict on it (ok, or missed CATEGORY) */
	"CREATE TABLE spotchecks("
	" id INTEGER PRIMARY KEY, message INTEGER NOT NULL UNIQUE REFERENCES messages(id),"
	" token TEXT NOT NULL UNIQUE, chance REAL NOT NULL, created INTEGER NOT NULL,"
	" verdict TEXT CHECK (verdict = 'ok' OR verdict = 'missed'), category TEXT,"
	" decided_by TEXT, decided INTEGER) STRICT;",
	/* 16: when a participant was born, as the import's born column gave
	 * it (YYYY, YYYY-MM or YYYY-MM-DD; NULL: not given): a mentee who may
	 * be under 18 weighs a spot check (spotcheck.h) */
	"ALTER TABLE participants ADD COLUMN born TEXT;",
	/* 17: the text part of a copy the gateway sent, as it was built: read
	 * (quote.h, outbox_given) without parsing the copy again; a row queued
	 * before has none, and its copy is parsed */
	"CREATE TABLE outbox_text("
	" id INTEGER PRIMARY KEY REFERENCES outbox(id), text TEXT NOT NULL) STRICT;",
};

/* The migration that creates the secrets table. */
#define MIGRATION_SECRETS 8

const char *
store_fault_take(void)
{
	const char *f = fault;

	fault = NULL;
	return f;
}

enum mg_status
store_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return MG_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		fault = sqlite3_errstr(rc);	/* static text */
		return MG_TEMPFAIL;
	case SQLITE_CONSTRAINT:
		return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
		    ? MG_DUPLICATE : MG_BADINPUT;
	default:
		return MG_INTERNAL;
	}
}

const char *
store_errmsg(struct store *s)
{
	return s && s->db ? sqlite3_errmsg(s->db) : "no database";
}

sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].st);
			sqlite3_clear_bindings(s->cache[i].st);
			return s->cache[i].st;
		}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return NULL;
	if (s->ncache == NCACHE) {	/* full: evict the oldest */
		sqlite3_finalize(s->cache[0].st);
		memmove(s->cache, s->cache + 1, sizeof s->cache[0] * (NCACHE - 1));
		s->ncache--;
	}
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].st = st;
	s->ncache++;
	return st;
}

void
store_bind_text(sqlite3_stmt *st, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(st, col, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

void
store_bind_id(sqlite3_stmt *st, int col, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, col, v);
	else
		sqlite3_bind_null(st, col);
}

enum mg_status
store_exec(sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return MG_INTERNAL;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? MG_OK : store_status(rc);
}

char *
store_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? xstrdup((const char *)t) : NULL;
}

/* After sqlite_schema is edited by hand: a new schema version, so that
 * every connection reads the tables' text again.  Nonzero on failure. */
static int
schema_bump(sqlite3 *db, char **msg)
{
	sqlite3_stmt *st;
	char pragma[64];
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v < 0)
		return -1;
	snprintf(pragma, sizeof pragma, "PRAGMA schema_version = %d", v + 1);
	return sqlite3_exec(db, pragma, NULL, NULL, msg) != SQLITE_OK;
}

/* A new random secret, inside the migration's transaction.  Nonzero on
 * failure. */
static int
new_secret(sqlite3 *db, const char *name, char **msg)
{
	sqlite3_stmt *st;
	char key[53];
	int rc;

	mg_random_token(key, sizeof key);	/* 260 bits */
	if (sqlite3_prepare_v2(db, "INSERT INTO secrets(name, value) VALUES (?1, ?2)", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	explicit_bzero(key, sizeof key);
	if (rc != SQLITE_DONE)
		*msg = sqlite3_mprintf("%s", sqlite3_errstr(rc));
	return rc != SQLITE_DONE;
}

static enum mg_status
migrate(struct store *s, struct buf *err)
{
	sqlite3_stmt *st;
	int version = 0, n = (int)(sizeof migrations / sizeof *migrations);
	char *msg = NULL;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > n) {
		buf_printf(err, "database schema %d is newer than this program (%d)", version, n);
		return MG_BADCONF;
	}
	for (; version < n; version++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, migrations[version], NULL, NULL, &msg) != SQLITE_OK ||
		    (strstr(migrations[version], "writable_schema") && schema_bump(s->db, &msg)) ||
		    (version + 1 == MIGRATION_SECRETS && new_secret(s->db, "verp", &msg)) ||
		    sqlite3_exec(s->db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			buf_printf(err, "migration %d: %s", version + 1, msg ? msg : "failed");
			sqlite3_free(msg);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return MG_INTERNAL;
		}
	}
	return MG_OK;
fail:
	buf_printf(err, "%s", sqlite3_errmsg(s->db));
	return MG_INTERNAL;
}

/* Before SQLite's first use: no global allocation statistics (a mutex
 * round every malloc and free, and SQLite makes hundreds a message). */
static void
configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The device and inode of path with suffix (zero if none); nonzero with
 * errno when there is none. */
static int
file_id(const char *path, const char *suffix, struct fid *id)
{
	char *p = xasprintf("%s%s", path, suffix);
	struct stat sb;
	int r = stat(p, &sb);

	free(p);
	id->dev = r == 0 ? sb.st_dev : 0;
	id->ino = r == 0 ? sb.st_ino : 0;
	return r;
}

static int
same_file(const struct fid *a, const struct fid *b)
{
	return a->ino && a->dev == b->dev && a->ino == b->ino;
}

/* Open path, creating it (0600) only if create. */
static enum mg_status
open_db(const char *path, int create, struct store **out, struct buf *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *s = xcalloc(1, sizeof *s);
	char *msg = NULL;
	enum mg_status st;
	int fd = -1, fresh = 0;

	*out = NULL;
	/* Create it 0600 ourselves: sqlite3_open would honour the umask.  An
	 * existing file is not opened here: closing a descriptor drops every
	 * POSIX lock this process holds on the file, the SQLite connections'
	 * (the outbox opens more while the first holds its locks). */
	if (create && (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
		close(fd);
		fresh = 1;
	}
	if ((create && fd < 0 && errno != EEXIST) || access(path, R_OK | W_OK) != 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		free(s);
		return errno == ENOSPC ? MG_TEMPFAIL : MG_BADCONF;
	}
	(void)chmod(path, 0600);	/* (best effort, as the owner) */
	pthread_once(&once, configure);
	/* (a connection is used by one thread at a time: no mutex of its own) */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		buf_printf(err, "%s: %s", path, store_errmsg(s));
		st = MG_TEMPFAIL;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	/* A new database gets 16 KiB pages: a message is three blobs of a few
	 * KiB (raw, text, relayed copy), and with 4 KiB pages ingesting wrote
	 * four times the frames, each two writes, and checkpointed as often.
	 * (An existing database keeps its page size: WAL mode fixes it.) */
	if (fresh && sqlite3_exec(s->db, "PRAGMA page_size=16384", NULL, NULL, &msg) != SQLITE_OK) {
		buf_printf(err, "%s: %s", path, msg ? msg : store_errmsg(s));
		sqlite3_free(msg);
		st = MG_TEMPFAIL;
		goto fail;
	}
	/* (statement journals in memory: each ingested message is a savepoint,
	 * and a journal file per savepoint cost 80 writes a message.  A 2 MiB
	 * page cache holds an ingest batch's pages: 4 MiB wrote as many frames
	 * (7,820 pwrites for 2,000 messages against 7,830) and cost 2.3 MB of
	 * peak RSS.) */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF; PRAGMA temp_store=MEMORY;"
	    "PRAGMA cache_size=-2048",
	    NULL, NULL, &msg) != SQLITE_OK) {
		buf_printf(err, "%s: %s", path, msg ? msg : store_errmsg(s));
		sqlite3_free(msg);
		st = MG_TEMPFAIL;
		goto fail;
	}
	/* (SQLite has them open now: the files it opened) */
	if (file_id(path, "", &s->id) != 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		st = MG_TEMPFAIL;
		goto fail;
	}
	s->path = xstrdup(path);
	if ((st = migrate(s, err)) != MG_OK)
		goto fail;
	file_id(path, "-wal", &s->wal);	/* (there after the first transaction) */
	file_id(path, "-shm", &s->shm);
	*out = s;
	return MG_OK;
fail:
	store_close(s);
	return st;
}

enum mg_status
store_open(const char *path, struct store **out, struct buf *err)
{
	return open_db(path, 1, out, err);
}

enum mg_status
store_open_again(struct store *s, struct store **out, struct buf *err)
{
	enum mg_status st;

	*out = NULL;
	if ((st = store_check_file(s, err)) != MG_OK)
		return st;
	if ((st = open_db(s->path, 0, out, err)) != MG_OK)
		return store_check_file(s, err) != MG_OK ? MG_NOTFOUND : st;
	if (!same_file(&(*out)->id, &s->id)) {	/* (replaced in between) */
		s->gone = (*out)->gone = "replaced by another file";
		store_close(*out);
		*out = NULL;
		return store_check_file(s, err);
	}
	return MG_OK;
}

enum mg_status
store_check_file(struct store *s, struct buf *err)
{
	struct fid now;
	int r;

	if (!s->path)
		return MG_OK;
	if (!s->gone) {
		if ((r = file_id(s->path, "", &now)) == 0 && same_file(&now, &s->id))
			return MG_OK;
		if (r != 0 && errno != ENOENT) {	/* (cannot tell) */
			if (err)
				buf_printf(err, "database %s: %s", s->path, strerror(errno));
			return MG_TEMPFAIL;
		}
		s->gone = r != 0 ? "deleted" : "replaced by another file";
	}
	if (err)
		buf_printf(err, "database %s was %s while in use", s->path, s->gone);
	return MG_NOTFOUND;
}

void
store_close(struct store *s)
{
	int gone;

	if (!s)
		return;
	for (int i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	/* The file is not at its path any more: no checkpoint (into a file
	 * nobody will read), and SQLite would delete the WAL by name, which
	 * may be the new file's.  Our own WAL and shared memory, if still
	 * there, go: SQLite would read them as the new file's. */
	gone = s->db && store_check_file(s, NULL) == MG_NOTFOUND;
	if (gone)
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_close(s->db);
	for (int i = 0; gone && i < 2; i++) {
		const char *suffix = i ? "-shm" : "-wal";
		char *p = xasprintf("%s%s", s->path, suffix);
		struct fid now;
		if (file_id(s->path, suffix, &now) == 0 && same_file(&now, i ? &s->shm : &s->wal))
			unlink(p);
		free(p);
	}
	free(s->path);
	free(s);
}

/* Transaction control, prepared once: twice a message while ingesting. */
static const char q_begin[] = "BEGIN IMMEDIATE";
static const char q_commit[] = "COMMIT";
static const char q_savepoint[] = "SAVEPOINT step";
static const char q_release[] = "RELEASE step";

static enum mg_status
run(struct store *s, const char *sql)
{
	return store_exec(store_stmt(s, sql));
}

enum mg_status
store_begin(struct store *s)
{
	if (s->batch) {
		s->nest++;
		if (s->lean) {
			if (s->nest < NEST_MAX)	/* (deeper, a rollback always spoils) */
				s->changes[s->nest] = sqlite3_total_changes64(s->db);
			return MG_OK;
		}
		return run(s, q_savepoint);
	}
	return run(s, q_begin);
}

enum mg_status
store_commit(struct store *s)
{
	enum mg_status st;

	if (s->batch && s->nest > 0 && s->lean) {
		s->nest--;
		return MG_OK;
	}
	if (s->batch && s->nest > 0) {
		if ((st = run(s, q_release)) != MG_OK)
			store_rollback(s);
		else
			s->nest--;
		return st;
	}
	if ((st = run(s, q_commit)) != MG_OK)
		store_rollback(s);
	return st;
}

void
store_rollback(struct store *s)
{
	if (s->batch && s->lean) {
		/* nothing to undo if the level changed no row; else the batch
		 * is spoilt (the caller rolls it back and does it again) */
		if (s->nest > 0 && (s->nest >= NEST_MAX ||
		    s->changes[s->nest] != sqlite3_total_changes64(s->db)))
			s->spoiled = 1;
		if (s->nest > 0)
			s->nest--;
		return;
	}
	if (s->batch) {
		/* only the caller's own savepoint: never the whole batch */
		if (s->nest > 0) {
			s->nest--;
			sqlite3_exec(s->db, "ROLLBACK TO step; RELEASE step", NULL, NULL, NULL);
		}
		return;
	}
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

enum mg_status
store_batch_begin(struct store *s, int lean)
{
	enum mg_status st = run(s, q_begin);

	if (st == MG_OK) {
		s->batch = 1;
		s->nest = 0;
		s->lean = lean;
		s->spoiled = 0;
	}
	return st;
}

int
store_batch_spoiled(const struct store *s)
{
	return s->batch && s->spoiled;
}

void
store_batch_rollback(struct store *s)
{
	s->batch = 0;
	s->nest = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

enum mg_status
store_batch_commit(struct store *s, struct buf *err)
{
	enum mg_status st;

	if (store_batch_spoiled(s)) {	/* never half a message */
		store_batch_rollback(s);
		buf_adds(err, "a message's changes could not be undone alone");
		return MG_TEMPFAIL;
	}
	s->batch = 0;
	s->nest = 0;
	if ((st = run(s, q_commit)) != MG_OK) {
		buf_adds(err, store_errmsg(s));	/* before a rollback replaces it */
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return st;
}

static const char q_known[] =
	"SELECT id FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3";
static const char q_known_dedupe[] = "SELECT id FROM messages WHERE dedupe = ?1";
static const char q_add[] =
	"INSERT INTO messages(mailbox, uidvalidity, uid, dedupe, received,"
	" message_id, from_addr, subject, date_hdr) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)";
static const char q_add_raw[] = "INSERT INTO message_raw(id, raw) VALUES (?1, ?2)";

static enum mg_status
one_id(sqlite3_stmt *st, int64_t *id)
{
	int rc;

	if (!st)
		return MG_INTERNAL;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (id)
			*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return MG_OK;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

enum mg_status
store_msg_known(struct store *s, const char *mailbox, uint32_t uidvalidity, uint32_t uid)
{
	sqlite3_stmt *st = store_stmt(s, q_known);

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
	return one_id(st, NULL);
}

enum mg_status
store_msg_add(struct store *s, const struct store_msg *m, int64_t *id)
{
	sqlite3_stmt *st;
	enum mg_status rc;

	if ((st = store_stmt(s, q_known_dedupe)) == NULL)
		return MG_INTERNAL;
	store_bind_text(st, 1, m->dedupe);
	if ((rc = one_id(st, id)) == MG_OK)
		return MG_DUPLICATE;
	if (rc != MG_NOTFOUND)
		return rc;
	if ((st = store_stmt(s, q_add)) == NULL)
		return MG_INTERNAL;
	store_bind_text(st, 1, m->mailbox);
	sqlite3_bind_int64(st, 2, m->uidvalidity);
	sqlite3_bind_int64(st, 3, m->uid);
	store_bind_text(st, 4, m->dedupe);
	sqlite3_bind_int64(st, 5, mg_now());
	store_bind_text(st, 6, m->message_id);
	store_bind_text(st, 7, m->from_addr);
	store_bind_text(st, 8, m->subject);
	store_bind_text(st, 9, m->date);
	if ((rc = store_exec(st)) != MG_OK)
		return rc;
	*id = sqlite3_last_insert_rowid(s->db);
	if ((st = store_stmt(s, q_add_raw)) == NULL)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, *id);
	sqlite3_bind_blob64(st, 2, m->raw, m->rawlen, SQLITE_STATIC);
	return store_exec(st);
}

static const char q_raw[] = "SELECT raw FROM message_raw WHERE id = ?1";

enum mg_status
store_msg_raw(struct store *s, int64_t id, char **raw, size_t *len)
{
	sqlite3_stmt *st = store_stmt(s, q_raw);
	int rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
	}
	*len = (size_t)sqlite3_column_bytes(st, 0);
	*raw = xmalloc(*len + 1);
	if (*len)
		memcpy(*raw, sqlite3_column_blob(st, 0), *len);
	(*raw)[*len] = 0;
	sqlite3_reset(st);
	return MG_OK;
}

static const char q_content[] =
	"SELECT r.raw, m.body, m.new_text FROM messages m JOIN message_raw r ON r.id = m.id"
	" WHERE m.id = ?1";

enum mg_status
store_msg_content(struct store *s, int64_t id,
    void (*cb)(const struct store_content *, void *), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, q_content);
	struct store_content c;
	int rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c.raw = sqlite3_column_blob(st, 0);
		c.rawlen = (size_t)sqlite3_column_bytes(st, 0);
		c.body = (const char *)sqlite3_column_text(st, 1);
		c.new_text = (const char *)sqlite3_column_text(st, 2);
		cb(&c, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MG_OK : rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

static const char q_pending[] = "SELECT id FROM messages WHERE state = 'received' ORDER BY id";

enum mg_status
store_msg_pending(struct store *s, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, q_pending);
	int rc;

	*ids = NULL;
	*n = 0;
	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

static const char q_decide[] =
	"UPDATE messages SET state = ?2, reason = ?3, token = ?4, in_reply_to = ?5,"
	" refs = ?6, pair_id = ?7, author_id = ?8, recipient_id = ?9, body = ?10,"
	" decided = ?11, from_addr = coalesce(?12, from_addr), subject = coalesce(?13, subject),"
	" kind = ?14, new_text = ?15, thread_id = ?16, topic = ?17, attachments = ?18"
	" WHERE id = ?1";

enum mg_status
store_msg_decide(struct store *s, int64_t id, const struct store_decision *d)
{
	sqlite3_stmt *st = store_stmt(s, q_decide);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, d->state);
	store_bind_text(st, 3, d->reason);
	store_bind_text(st, 4, d->token);
	store_bind_text(st, 5, d->in_reply_to);
	store_bind_text(st, 6, d->refs);
	store_bind_id(st, 7, d->pair_id);
	store_bind_id(st, 8, d->author_id);
	store_bind_id(st, 9, d->recipient_id);
	store_bind_text(st, 10, d->body);
	sqlite3_bind_int64(st, 11, mg_now());
	store_bind_text(st, 12, d->from_addr);
	store_bind_text(st, 13, d->subject);
	store_bind_text(st, 14, d->kind ? d->kind : "message");
	store_bind_text(st, 15, d->new_text);
	store_bind_id(st, 16, d->thread_id);
	store_bind_text(st, 17, d->topic);
	store_bind_text(st, 18, d->attachments);
	return store_exec(st);
}

static const char q_map_add[] =
	"INSERT INTO msgid_map(relay_id, orig_id, message, pair_id, author_id, recipient_id)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/* Either writer received ref from us (the partner wrote it: they know it by
 * its original id), or writer wrote ref (the partner got our relay id). */
static const char q_map_tr[] =
	"SELECT orig_id FROM msgid_map WHERE relay_id = ?1 AND recipient_id = ?2"
	"  AND pair_id = ?3 AND orig_id IS NOT NULL"
	" UNION ALL "
	"SELECT relay_id FROM msgid_map WHERE orig_id = ?1 AND author_id = ?2 AND pair_id = ?3"
	" LIMIT 1";

enum mg_status
store_map_add(struct store *s, const char *relay_id, const char *orig_id, int64_t message,
    int64_t pair, int64_t author, int64_t recipient)
{
	sqlite3_stmt *st = store_stmt(s, q_map_add);

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, relay_id);
	store_bind_text(st, 2, orig_id);
	store_bind_id(st, 3, message);
	store_bind_id(st, 4, pair);
	store_bind_id(st, 5, author);
	sqlite3_bind_int64(st, 6, recipient);
	return store_exec(st);
}

enum mg_status
store_map_translate(struct store *s, const char *ref, int64_t writer, int64_t pair, char **out)
{
	sqlite3_stmt *st = store_stmt(s, q_map_tr);
	int rc;

	*out = NULL;
	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, ref);
	sqlite3_bind_int64(st, 2, writer);
	sqlite3_bind_int64(st, 3, pair);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = store_col_text(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return *out ? MG_OK : MG_NOTFOUND;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

static const char q_sync_get[] =
	"SELECT uidvalidity, last_uid FROM imap_sync WHERE mailbox = ?1";
static const char q_sync_set[] =
	"INSERT INTO imap_sync(mailbox, uidvalidity, last_uid, updated) VALUES (?1,?2,?3,?4)"
	" ON CONFLICT(mailbox) DO UPDATE SET last_uid = CASE WHEN uidvalidity = ?2"
	"  THEN max(last_uid, ?3) ELSE ?3 END, uidvalidity = ?2, updated = ?4";

enum mg_status
store_sync_get(struct store *s, const char *mailbox, uint32_t *uidvalidity, uint32_t *last_uid)
{
	sqlite3_stmt *st = store_stmt(s, q_sync_get);
	int rc;

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, mailbox);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MG_OK;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

enum mg_status
store_sync_set(struct store *s, const char *mailbox, uint32_t uidvalidity, uint32_t last_uid)
{
	sqlite3_stmt *st = store_stmt(s, q_sync_set);

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	sqlite3_bind_int64(st, 4, mg_now());
	return store_exec(st);
}

static const char q_suspect_get[] =
	"SELECT suspect_uid, suspect_fails, suspect_error FROM imap_sync WHERE mailbox = ?1";
static const char q_suspect_set[] =
	"UPDATE imap_sync SET suspect_uid = ?2, suspect_fails = ?3, suspect_error = ?4"
	" WHERE mailbox = ?1";

enum mg_status
store_suspect_get(struct store *s, const char *mailbox, struct store_suspect *out)
{
	sqlite3_stmt *st = store_stmt(s, q_suspect_get);
	int rc;

	memset(out, 0, sizeof *out);
	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, mailbox);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->uid = (uint32_t)sqlite3_column_int64(st, 0);
		out->fails = sqlite3_column_int(st, 1);
		out->error = store_col_text(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

enum mg_status
store_suspect_set(struct store *s, const char *mailbox, const struct store_suspect *v)
{
	sqlite3_stmt *st = store_stmt(s, q_suspect_set);

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, v->uid);
	sqlite3_bind_int(st, 3, v->uid ? v->fails : 0);
	store_bind_text(st, 4, v->uid ? v->error : NULL);
	return store_exec(st);
}

/* A pair's messages come conversation by conversation (a thread's id is
 * its first message's), each in order. */
static const char q_messages[] =
	"SELECT m.id, m.received, coalesce(m.pair_id, 0), m.state, m.reason, m.from_addr,"
	" m.subject, m.body, a.role, a.name, r.name, coalesce(m.thread_id, 0), m.kind,"
	" m.new_text, m.attachments FROM messages m"
	" LEFT JOIN participants a ON a.id = m.author_id"
	" LEFT JOIN participants r ON r.id = m.recipient_id"
	" WHERE (?1 = 0 OR m.pair_id = ?1) AND (?2 IS NULL OR m.state = ?2)"
	" ORDER BY CASE WHEN ?1 = 0 THEN 0 ELSE coalesce(m.thread_id, m.id) END, m.received, m.id";

static const char q_thread_ref[] =
	"SELECT thread_id FROM messages WHERE pair_id = ?1 AND message_id = ?2"
	"  AND thread_id IS NOT NULL"
	" UNION ALL "
	"SELECT m.thread_id FROM msgid_map x JOIN messages m ON m.id = x.message"
	" WHERE x.relay_id = ?2 AND x.pair_id = ?1 AND m.thread_id IS NOT NULL"
	" LIMIT 1";
static const char q_thread_topic[] =
	"SELECT thread_id FROM messages WHERE pair_id = ?1 AND topic = ?2 AND id <> ?3"
	"  AND thread_id IS NOT NULL ORDER BY received DESC, id DESC LIMIT 1";

static const char *const q_erase[] = {
	("UPDATE messages SET body = NULL, new_text = NULL, subject = '[erased]',"
	 " attachments = NULL WHERE id = ?1"),
	"UPDATE message_raw SET raw = X'' WHERE id = ?1",
	"UPDATE flags SET excerpt = '[erased]' WHERE message = ?1",
	("UPDATE outbox_data SET data = X'' WHERE id IN"
	 " (SELECT id FROM outbox WHERE message = ?1 AND state IN ('sent', 'failed'))"),
	/* (never sent from: blank even while the copy waits to go) */
	"UPDATE outbox_text SET text = '' WHERE id IN (SELECT id FROM outbox WHERE message = ?1)",
	"UPDATE holds SET mail = NULL WHERE message = ?1",
};

enum mg_status
store_msg_erase(struct store *s, int64_t id, int64_t *pair)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT coalesce(pair_id, 0) FROM messages WHERE id = ?1");
	enum mg_status rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = one_id(st, pair)) != MG_OK)
		return rc;
	for (size_t i = 0; i < sizeof q_erase / sizeof *q_erase; i++) {
		if (!(st = store_stmt(s, q_erase[i])))
			return MG_INTERNAL;
		sqlite3_bind_int64(st, 1, id);
		if ((rc = store_exec(st)) != MG_OK)
			return rc;
	}
	return MG_OK;
}

static const char q_command[] =
	"UPDATE messages SET state = 'ignored', kind = ?2, reason = ?3, decided = ?4,"
	" from_addr = coalesce(?5, from_addr), subject = coalesce(?6, subject), body = ?7"
	" WHERE id = ?1";

enum mg_status
store_msg_command(struct store *s, int64_t id, const char *kind, const char *outcome,
    const char *from, const char *subject, const char *body)
{
	sqlite3_stmt *st = store_stmt(s, q_command);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, outcome);
	sqlite3_bind_int64(st, 4, mg_now());
	store_bind_text(st, 5, from);
	store_bind_text(st, 6, subject);
	store_bind_text(st, 7, body);
	return store_exec(st);
}

static const char q_map_known[] = "SELECT 1 FROM msgid_map WHERE relay_id = ?1";

enum mg_status
store_map_known(struct store *s, const char *relay_id)
{
	sqlite3_stmt *st = store_stmt(s, q_map_known);

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, relay_id);
	return one_id(st, NULL);
}

static const char q_flag_add[] =
	"INSERT INTO flags(message, rule, category, action, span_start, span_end, excerpt, created)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

enum mg_status
store_flag_add(struct store *s, int64_t message, const char *rule, const char *category,
    const char *action, size_t start, size_t end, const char *excerpt)
{
	sqlite3_stmt *st = store_stmt(s, q_flag_add);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, message);
	store_bind_text(st, 2, rule);
	store_bind_text(st, 3, category);
	store_bind_text(st, 4, action);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)end);
	store_bind_text(st, 7, excerpt);
	sqlite3_bind_int64(st, 8, mg_now());
	return store_exec(st);
}

static const char q_relayed_since[] =
	"SELECT count(*) FROM messages WHERE pair_id = ?1 AND state = 'relayed' AND decided >= ?2";

enum mg_status
store_relayed_since(struct store *s, int64_t pair, int64_t since, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, q_relayed_since);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, pair);
	sqlite3_bind_int64(st, 2, since);
	return one_id(st, n);
}

enum mg_status
store_thread_by_ref(struct store *s, int64_t pair, const char *ref, int64_t *thread)
{
	sqlite3_stmt *st = store_stmt(s, q_thread_ref);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, pair);
	store_bind_text(st, 2, ref);
	return one_id(st, thread);
}

enum mg_status
store_thread_by_topic(struct store *s, int64_t pair, const char *topic, int64_t id,
    int64_t *thread)
{
	sqlite3_stmt *st = store_stmt(s, q_thread_topic);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, pair);
	store_bind_text(st, 2, topic);
	sqlite3_bind_int64(st, 3, id);
	return one_id(st, thread);
}

enum mg_status
store_messages(struct store *s, int64_t pair_id, const char *state,
    int (*cb)(const struct store_row *, void *), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, q_messages);
	struct store_row r;
	int rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, pair_id);
	store_bind_text(st, 2, state);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(st, 0);
		r.received = sqlite3_column_int64(st, 1);
		r.pair_id = sqlite3_column_int64(st, 2);
		r.state = (const char *)sqlite3_column_text(st, 3);
		r.reason = (const char *)sqlite3_column_text(st, 4);
		r.from_addr = (const char *)sqlite3_column_text(st, 5);
		r.subject = (const char *)sqlite3_column_text(st, 6);
		r.body = (const char *)sqlite3_column_text(st, 7);
		r.author_role = (const char *)sqlite3_column_text(st, 8);
		r.author_name = (const char *)sqlite3_column_text(st, 9);
		r.recipient_name = (const char *)sqlite3_column_text(st, 10);
		r.thread_id = sqlite3_column_int64(st, 11);
		r.kind = (const char *)sqlite3_column_text(st, 12);
		r.new_text = (const char *)sqlite3_column_text(st, 13);
		r.attachments = (const char *)sqlite3_column_text(st, 14);
		if (cb(&r, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

int64_t
store_data_version(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, "PRAGMA data_version");
	int64_t v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

static const char q_strays[] =
	"SELECT id, CASE WHEN pair_id NOT IN (SELECT id FROM pairs) THEN 'pair'"
	"  WHEN author_id NOT IN (SELECT id FROM participants) THEN 'author'"
	"  ELSE 'recipient' END FROM messages"
	" WHERE pair_id NOT IN (SELECT id FROM pairs)"
	"  OR author_id NOT IN (SELECT id FROM participants)"
	"  OR recipient_id NOT IN (SELECT id FROM participants) LIMIT 1";

enum mg_status
store_refs_check(struct store *s, struct buf *err)
{
	sqlite3_stmt *st = store_stmt(s, "PRAGMA foreign_key_check");
	int rc;

	if (!st)
		return MG_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		buf_printf(err, "store: %s row %lld names a %s row that does not exist\n",
		    (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
		    (const char *)sqlite3_column_text(st, 2));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? MG_BADINPUT : store_status(rc);
	if (!(st = store_stmt(s, q_strays)))
		return MG_INTERNAL;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		buf_printf(err, "store: messages row %lld names a %s that does not exist\n",
		    (long long)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MG_BADINPUT : rc == SQLITE_DONE ? MG_OK : store_status(rc);
}
