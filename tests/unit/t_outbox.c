/* Unit tests for outbox: the backoff schedule and what enqueue refuses. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outbox.h"
#include "store.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/mg-t-outbox-XXXXXX", *path;
	struct store *s = NULL;
	struct buf err = {0};
	struct stat st;

	int64_t b1 = outbox_backoff(1), b2 = outbox_backoff(2), b9 = outbox_backoff(12),
	    b40 = outbox_backoff(40);
	ok(b1 >= 60 && b1 <= 75, "first retry after 60-75 s (%lld)", (long long)b1);
	ok(b2 >= 120 && b2 <= 150, "then doubling (%lld)", (long long)b2);
	ok(b9 >= 6 * 3600 && b9 <= 6 * 3600 * 5 / 4, "capped at 6 h plus jitter (%lld)", (long long)b9);
	ok(b40 >= 6 * 3600 && b40 <= 6 * 3600 * 5 / 4, "no overflow for many attempts");

	if (!mkdtemp(dir))
		return 1;
	path = xasprintf("%s/t.db", dir);
	ok(store_open(path, &s, &err) == MG_OK, "store opens");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "database created 0600");
	struct outbox_item it = { "k1", "notice", 0, 0, "a@b.test", "m1@x", "data\r\n", 6 };
	ok(store_begin(s) == MG_OK, "begin");
	ok(outbox_enqueue(s, &it) == MG_OK, "enqueue");
	ok(outbox_enqueue(s, &it) == MG_DUPLICATE, "the same dedupe key again is a duplicate");
	it.dedupe_key = "k2";
	it.rcpt = "a@b.test\r\nRCPT TO:<evil@x.test>";
	ok(outbox_enqueue(s, &it) == MG_BADINPUT, "a recipient with CR/LF is refused");
	ok(store_commit(s) == MG_OK, "commit");
	store_close(s);
	s = NULL;
	ok(store_open(path, &s, &err) == MG_OK, "reopens (migrations are idempotent)");
	store_close(s);
	unlink(path);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	unlink(wal);
	unlink(shm);
	rmdir(dir);
	free(wal);
	free(shm);
	free(path);
	buf_free(&err);
	return tap_done();
}
