/* command: helpers run under sh with a time limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "tap.h"

static enum mg_status
run(const char *cmd, int64_t ms, char **out, struct buf *err)
{
	buf_free(err);
	free(*out);
	return command_run(cmd, ms, out, err);
}

/* Has process pid ended (gone, or a zombie)?  Waits up to 5 s for it. */
static int
ended(long pid)
{
	char path[64], stat[256];
	int64_t until = mg_mono_ms() + 5000;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	do {
		FILE *f = fopen(path, "r");
		if (!f)
			return 1;
		size_t n = fread(stat, 1, sizeof stat - 1, f);
		fclose(f);
		stat[n] = 0;
		const char *p = strrchr(stat, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			return 1;
	} while (mg_mono_ms() < until);
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/mg-command-XXXXXX", cmd[256], path[128], *out = NULL;
	struct buf err = {0};
	long child = 0;
	FILE *f;

	if (!mkdtemp(dir))
		return 1;
	ok(run("printf 'abc\\n'", 5000, &out, &err) == MG_OK, "output taken");
	is_str(out, "abc\n", "all of it");
	ok(run("exit 3", 5000, &out, &err) == MG_TEMPFAIL && !out,
	    "a failing helper");
	ok(err.s && strstr(err.s, "exited with status 3"), "says how it failed");
	ok(run("true", 5000, &out, &err) == MG_TEMPFAIL && strstr(err.s, "printed nothing"),
	    "a helper that prints nothing");
	ok(run("cat", 5000, &out, &err) == MG_TEMPFAIL && strstr(err.s, "printed nothing"),
	    "stdin is /dev/null: a helper reading it ends at once");
	ok(run("head -c 2000000 /dev/zero", 5000, &out, &err) == MG_TEMPFAIL &&
	    strstr(err.s, "printed too much"), "more than a secret is refused");

	/* a helper that hangs, with a child of its own */
	snprintf(path, sizeof path, "%s/child", dir);
	snprintf(cmd, sizeof cmd, "sleep 60 & echo $! > %s; wait", path);
	ok(run(cmd, 300, &out, &err) == MG_TEMPFAIL && !out, "a hanging helper fails");
	ok(err.s && strstr(err.s, "timed out after 300 ms"), "says it timed out");
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%ld", &child) != 1)
			child = 0;
		fclose(f);
	}
	ok(child > 0 && ended(child), "its process group is killed too (pid %ld)", child);

	ok(run("echo secret; exec >&-; sleep 60", 300, &out, &err) == MG_TEMPFAIL &&
	    strstr(err.s, "timed out"), "closing its output is not exiting: still timed out");

	/* SIGTERM: the daemon must not wait for a helper */
	mg_request_stop();
	ok(run("sleep 60", 60000, &out, &err) == MG_TEMPFAIL && strstr(err.s, "stopped"),
	    "a stop request ends the wait");
	buf_free(&err);
	free(out);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
