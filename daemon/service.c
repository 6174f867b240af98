/* Daemon conventions.  The pidfile is also a lock: a stale file left by a
 * crash is simply taken over. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

int
service_pidfile(const char *path, struct buf *err)
{
	char pid[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		buf_printf(err, "pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = read(fd, pid, sizeof pid - 1);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		buf_printf(err, "pidfile %s is held by running process %s", path, pid);
		close(fd);
		return -1;
	}
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		buf_printf(err, "pidfile %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	fchmod(fd, 0644);
	return fd;
}

void
service_pidfile_remove(const char *path, int fd)
{
	if (fd < 0)
		return;
	/* after dropping root this may fail; the lock, not the file, says
	 * whether we run, so a leftover file is harmless */
	unlink(path);
	close(fd);
}

enum mg_status
service_drop(const char *user, struct buf *err)
{
	struct passwd *pw;

	errno = 0;
	if (!(pw = getpwnam(user))) {
		buf_printf(err, "user %s: %s", user, errno ? strerror(errno) : "no such user");
		return MG_BADCONF;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return MG_OK;	/* already that user */
		buf_printf(err, "user = %s needs mentorgated to start as root", user);
		return MG_DENIED;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		buf_printf(err, "dropping to user %s: %s", user, strerror(errno));
		return MG_DENIED;
	}
	if (setuid(0) == 0) {	/* must be gone for good */
		buf_printf(err, "dropping to user %s: root could be regained", user);
		return MG_DENIED;
	}
	return MG_OK;
}

void
service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || (len = strlen(path)) >= sizeof sa.sun_path)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = 0;	/* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_debug("notify failed state=%s error=\"%s\"", state, strerror(errno));
	close(fd);
}

int64_t
service_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	long long us;

	if (!usec || (us = atoll(usec)) <= 0)
		return 0;
	if (pid && atol(pid) != (long)getpid())
		return 0;
	return us / 2000 > 0 ? us / 2000 : 1;
}
