/* Logging: stderr with a level word in the foreground, syslog otherwise. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int use_stderr = 1;
static enum log_level threshold = LOG_LV_INFO;
static const char *ident = "mentorgate";

void
log_init(const char *id, int to_stderr)
{
	const char *e = getenv("MENTORGATE_LOG");

	ident = id;
	use_stderr = to_stderr;
	if (e) {
		if (!strcmp(e, "err"))
			threshold = LOG_LV_ERR;
		else if (!strcmp(e, "warn"))
			threshold = LOG_LV_WARN;
		else if (!strcmp(e, "debug"))
			threshold = LOG_LV_DEBUG;
	}
	if (!use_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_msg(enum log_level lv, const char *fmt, ...)
{
	static const char *const word[] = { "err", "warn", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048];
	va_list ap;

	if (lv > threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)	/* one event, one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (use_stderr)
		fprintf(stderr, "%s: %s %s\n", ident, word[lv], line);
	else
		syslog(prio[lv], "%s %s", word[lv], line);
}
