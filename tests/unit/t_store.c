/* Unit tests for the store's group commit: a batch with savepoints undoes
 * one unit; a lean batch (no savepoints) is spoilt by undoing a unit that
 * changed rows, and then commits nothing.  And a database file deleted or
 * replaced while open is told, and no connection opened later makes a new
 * one. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store.h"
#include "tap.h"
#include "tmpdb.h"

/* Is mailbox's row there (any store_sync_set of it committed)? */
static int
has(struct store *s, const char *mailbox)
{
	uint32_t v, last;

	return store_sync_get(s, mailbox, &v, &last) == MG_OK;
}

/* One unit that sets mailbox's row and ends with commit or rollback. */
static void
unit(struct store *s, const char *mailbox, int commit)
{
	store_begin(s);
	if (mailbox)
		store_sync_set(s, mailbox, 1, 1);
	if (commit)
		store_commit(s);
	else
		store_rollback(s);
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* s's file deleted, then another put in its place. */
static void
file_checks(struct store *s, const char *path)
{
	struct store *t = NULL;
	struct buf err = {0};
	char *moved = xasprintf("%s.moved", path), *wal = xasprintf("%s-wal", path);
	char *shm = xasprintf("%s-shm", path);

	ok(store_check_file(s, &err) == MG_OK && !err.len, "the file opened is in place");
	ok(store_open_again(s, &t, &err) == MG_OK && t, "a second connection to it opens");
	store_close(t);
	/* away, and back: the same file, still told (and for good) */
	ok(rename(path, moved) == 0 && rename(moved, path) == 0, "moved and back");
	ok(store_check_file(s, NULL) == MG_OK, "the same file again");
	unlink(path);
	unlink(wal);
	unlink(shm);
	ok(store_check_file(s, &err) == MG_NOTFOUND && strstr(err.s, path) &&
	    strstr(err.s, "was deleted while in use"), "deleted: told, with its path");
	buf_free(&err);
	ok(store_begin(s) == MG_OK && store_sync_set(s, "lost", 1, 1) == MG_OK &&
	    store_commit(s) == MG_OK, "(SQLite goes on writing to the deleted file)");
	ok(store_open_again(s, &t, &err) == MG_NOTFOUND && !t && strstr(err.s, "deleted"),
	    "a second connection is refused");
	ok(!exists(path) && !exists(wal), "and no new database was made");
	buf_free(&err);
	store_close(s);
	ok(!exists(path) && !exists(wal) && !exists(shm), "nor by closing");

	/* a copy renamed over the file in use */
	s = NULL;
	ok(store_open(path, &s, &err) == MG_OK, "a new one opens");
	FILE *f = fopen(moved, "w");
	ok(f && fputs("not a database\n", f) >= 0 && fclose(f) == 0, "another file written");
	ok(rename(moved, path) == 0, "and renamed over it");
	ok(store_check_file(s, &err) == MG_NOTFOUND && strstr(err.s, "replaced by another file"),
	    "replaced: told");
	buf_free(&err);
	ok(store_open_again(s, &t, &err) == MG_NOTFOUND && !t, "a second connection is refused");
	buf_free(&err);
	store_close(s);
	f = fopen(path, "r");
	char line[64] = "";
	ok(f && fgets(line, sizeof line, f) && !strcmp(line, "not a database\n"),
	    "the file put in its place is left alone");
	if (f)
		fclose(f);
	ok(!exists(wal) && !exists(shm), "and the old one's WAL was not left for it");
	unlink(path);
	free(moved);
	free(wal);
	free(shm);
}

int
main(void)
{
	char dir[] = "/tmp/mg-t-store-XXXXXX", *path;
	struct store *s = NULL;
	struct buf err = {0};

	if (!mkdtemp(dir))
		return 1;
	path = xasprintf("%s/t.db", dir);
	ok(store_open(path, &s, &err) == MG_OK, "store opens");

	ok(store_batch_begin(s, 0) == MG_OK, "a batch with savepoints");
	unit(s, "kept", 1);
	unit(s, "undone", 0);
	ok(!store_batch_spoiled(s), "a unit undone is undone alone");
	ok(store_batch_commit(s, &err) == MG_OK && has(s, "kept") && !has(s, "undone"),
	    "the rest commits");

	ok(store_batch_begin(s, 1) == MG_OK, "a lean batch");
	unit(s, "lean1", 1);
	unit(s, NULL, 0);
	store_begin(s);
	store_sync_set(s, "lean2", 1, 1);
	unit(s, NULL, 0);	/* nested, and changed nothing itself */
	store_commit(s);
	ok(!store_batch_spoiled(s), "undoing a unit that changed no row spoils nothing");
	ok(store_batch_commit(s, &err) == MG_OK && has(s, "lean1") && has(s, "lean2"),
	    "and the batch commits");

	ok(store_batch_begin(s, 1) == MG_OK, "another lean batch");
	unit(s, "before", 1);
	unit(s, "changed", 0);
	ok(store_batch_spoiled(s), "undoing a unit that changed a row spoils it");
	buf_free(&err);
	ok(store_batch_commit(s, &err) == MG_TEMPFAIL && err.len, "a spoilt batch does not commit");
	ok(!has(s, "before") && !has(s, "changed"), "nothing of it: not even the units before");

	ok(store_batch_begin(s, 1) == MG_OK, "and a lean batch rolled back");
	unit(s, "gone", 1);
	store_batch_rollback(s);
	ok(!has(s, "gone") && !store_batch_spoiled(s), "leaves nothing either");
	ok(store_begin(s) == MG_OK && store_sync_set(s, "after", 1, 1) == MG_OK &&
	    store_commit(s) == MG_OK && has(s, "after"), "and plain transactions go on");

	file_checks(s, path);	/* (closes s) */
	tmpdb_remove(dir, path);
	free(path);
	buf_free(&err);
	return tap_done();
}
