/* command: posix_spawn, a pipe, poll with a deadline, kill the group. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"

extern char **environ;

#define SLICE_MS 200		/* how often a stop request is looked at */

static pid_t
spawn(const char *command, int outfd)
{
	char *argv[] = { "sh", "-c", (char *)command, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);	/* the caller's thread may block everything */
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGINT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);	/* a group of its own, to end it whole */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}

/* Wait until fd is readable: NULL, or why not (the deadline, a stop). */
static const char *
wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - mg_mono_ms();
		if (left <= 0)
			return "timed out";
		if (mg_stop_requested())
			return "stopped";
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, left < SLICE_MS ? (int)left : SLICE_MS);
		if (r > 0)
			return NULL;
		if (r < 0 && errno != EINTR)
			return strerror(errno);
	}
}

/* Read until EOF, the deadline or a stop: NULL when done, else why not. */
static const char *
drain(int fd, int64_t deadline, struct buf *b)
{
	char chunk[512];
	const char *why;

	for (;;) {
		if ((why = wait_readable(fd, deadline)))
			return why;
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return strerror(errno);
		if (n == 0)
			return NULL;
		buf_add(b, chunk, (size_t)n);
		explicit_bzero(chunk, sizeof chunk);
		if (b->len > COMMAND_MAX_OUTPUT)
			return "printed too much";
	}
}

enum mg_status
command_run(const char *command, int64_t timeout_ms, char **out, struct buf *err)
{
	struct buf b = {0};
	const char *why;
	int fd[2], pidfd, status;
	int64_t deadline;
	pid_t pid;

	*out = NULL;
	if (pipe2(fd, O_CLOEXEC) < 0) {
		buf_printf(err, "command: %s", strerror(errno));
		return MG_TEMPFAIL;
	}
	pid = spawn(command, fd[1]);
	if (pid < 0)
		buf_printf(err, "command: %s", strerror(errno));
	close(fd[1]);
	if (pid < 0) {
		close(fd[0]);
		return MG_TEMPFAIL;
	}
	deadline = mg_mono_ms() + timeout_ms;
	why = drain(fd[0], deadline, &b);
	close(fd[0]);
	/* output closed is not the end: it must exit in time too */
	if (!why && (pidfd = pidfd_open(pid, 0)) >= 0) {
		why = wait_readable(pidfd, deadline);
		close(pidfd);
	}
	if (why)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!why && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		buf_printf(err, "command exited with status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		why = "";
	} else if (!why && !b.len) {
		buf_adds(err, "command printed nothing");
		why = "";
	} else if (why && *why) {
		if (!strcmp(why, "timed out"))
			buf_printf(err, "command timed out after %lld ms", (long long)timeout_ms);
		else
			buf_printf(err, "command %s", why);
	}
	if (why) {
		if (b.s)
			explicit_bzero(b.s, b.len);
		buf_free(&b);
		return MG_TEMPFAIL;
	}
	*out = buf_steal(&b);
	return MG_OK;
}
