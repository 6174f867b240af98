/* Unit tests for the store's group commit: a batch with savepoints undoes
 * one unit; a lean batch (no savepoints) is spoilt by undoing a unit that
 * changed rows, and then commits nothing. */
#include <stdlib.h>

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

	store_close(s);
	tmpdb_remove(dir, path);
	free(path);
	buf_free(&err);
	return tap_done();
}
