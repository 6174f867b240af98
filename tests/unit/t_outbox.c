/* Unit tests for outbox: the backoff schedule and what enqueue refuses. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outbox.h"
#include "store.h"
#include "tap.h"
#include "tmpdb.h"

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
	struct outbox_item it = { "k1", "notice", 0, 0, "a@b.test", "m1@x", "data\r\n", 6, NULL };
	ok(store_begin(s) == MG_OK, "begin");
	ok(outbox_enqueue(s, &it) == MG_OK, "enqueue");
	ok(outbox_enqueue(s, &it) == MG_DUPLICATE, "the same dedupe key again is a duplicate");
	it.dedupe_key = "k2";
	it.rcpt = "a@b.test\r\nRCPT TO:<evil@x.test>";
	ok(outbox_enqueue(s, &it) == MG_BADINPUT, "a recipient with CR/LF is refused");
	/* the text kept beside a copy is what is read; a copy queued
	 * before texts were kept is parsed */
	static const char copy[] = "From: a@b.test\r\nTo: c@d.test\r\nSubject: s\r\n"
	    "Message-ID: <c1@x>\r\n\r\nWhat the copy says.\r\n";
	struct outbox_item kept = { "relay:77:1", "relay", 0, 0, "c@d.test", "c1@x", copy,
		sizeof copy - 1, "What was kept." };
	struct outbox_item old = { "relay:78:1", "relay", 0, 0, "c@d.test", "c2@x", copy,
		sizeof copy - 1, NULL };
	char *given = NULL;
	ok(outbox_enqueue(s, &kept) == MG_OK && outbox_enqueue(s, &old) == MG_OK,
	    "relayed copies enqueued, one with its text");
	ok(outbox_given(s, 77, 1, &given) == MG_OK && given && !strcmp(given, "What was kept."),
	    "the kept text is given (%s)", given ? given : "none");
	free(given);
	ok(outbox_given(s, 78, 1, &given) == MG_OK && given && strstr(given, "What the copy says."),
	    "a copy with no text kept is parsed (%s)", given ? given : "none");
	free(given);
	ok(outbox_given(s, 79, 1, &given) == MG_NOTFOUND && !given, "no copy, no text");
	/* erasing a message blanks its copy's kept text even while the copy
	 * waits to be sent (it is never sent from) */
	struct store_msg sm = { "INBOX", 1, 1, copy, sizeof copy - 1,
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "c9@x", "a@b.test",
		"s", NULL };
	int64_t mid = 0, pair = -1;
	ok(store_msg_add(s, &sm, &mid) == MG_OK && mid > 0, "a message stored");
	char *key = xasprintf("relay:%lld:1", (long long)mid);
	struct outbox_item queued = { key, "relay", mid, 0, "c@d.test", "c3@x", copy, sizeof copy - 1,
		"Words to be erased." };
	ok(outbox_enqueue(s, &queued) == MG_OK && outbox_given(s, mid, 1, &given) == MG_OK &&
	    !strcmp(given, "Words to be erased."), "its copy queued, with its text");
	free(given);
	ok(store_msg_erase(s, mid, &pair) == MG_OK && outbox_given(s, mid, 1, &given) == MG_NOTFOUND &&
	    !given, "erased while queued: the kept text is gone");
	free(key);
	ok(store_commit(s) == MG_OK, "commit");
	store_close(s);
	s = NULL;
	ok(store_open(path, &s, &err) == MG_OK, "reopens (migrations are idempotent)");
	/* a second connection in this process (the outbox's recorder and
	 * connections), opened while the first is in use, then another
	 * process's (mentorctl's) coming and going: the first connection's
	 * locks must have survived, or that process, taking itself for the
	 * last, removes the WAL under it */
	struct store *s2 = NULL;
	it.dedupe_key = "k3";
	it.rcpt = "c@d.test";
	ok(store_begin(s) == MG_OK && outbox_enqueue(s, &it) == MG_OK && store_commit(s) == MG_OK,
	    "the first connection commits");
	ok(store_open(path, &s2, &err) == MG_OK, "a second connection opens");
	it.dedupe_key = "k4";
	ok(store_begin(s2) == MG_OK && outbox_enqueue(s2, &it) == MG_OK && store_commit(s2) == MG_OK,
	    "commits");
	store_close(s2);
	pid_t pid = fork();
	if (pid == 0) {
		struct store *o = NULL;
		it.dedupe_key = "k5";
		_exit(store_open(path, &o, &err) == MG_OK && store_begin(o) == MG_OK &&
		    outbox_enqueue(o, &it) == MG_OK && store_commit(o) == MG_OK ? 0 : 1);
	}
	int wst = -1;
	ok(pid > 0 && waitpid(pid, &wst, 0) == pid && wst == 0, "another process commits and closes");
	ok(store_open(path, &s2, &err) == MG_OK, "the second connection opens again");
	it.dedupe_key = "k6";
	ok(store_begin(s) == MG_OK && outbox_enqueue(s, &it) == MG_OK && store_commit(s) == MG_OK,
	    "the first commits");
	it.dedupe_key = "k7";
	ok(store_begin(s2) == MG_OK && outbox_enqueue(s2, &it) == MG_OK && store_commit(s2) == MG_OK,
	    "then the second");
	it.dedupe_key = "k5";
	ok(store_begin(s) == MG_OK && outbox_enqueue(s, &it) == MG_DUPLICATE &&
	    store_commit(s) == MG_OK, "and the first sees the other process's commit");
	store_close(s2);
	store_close(s);
	tmpdb_remove(dir, path);
	free(path);
	buf_free(&err);
	return tap_done();
}
