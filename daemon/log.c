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

/* This thread's lines held back (log_hold), each a level byte then the
 * line and its NUL; and whether its warnings are demoted (log_demote). */
static _Thread_local struct {
	int on;
	char *v;
	size_t len, cap;
} held;
static _Thread_local int demoted;

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

static const char *const word[] = { "err", "warn", "info", "debug" };

static void
line_to(FILE *f, enum log_level lv, const char *line)
{
	fprintf(f, "%s: %s %s\n", ident, word[lv], line);
}

static void
emit(enum log_level lv, const char *line)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (use_stderr)
		line_to(stderr, lv, line);
	else
		syslog(prio[lv], "%s %s", word[lv], line);
}

void
log_msg(enum log_level lv, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t n;

	if (demoted && lv < LOG_LV_INFO)
		lv = LOG_LV_DEBUG;
	if (lv > threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)	/* one event, one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (!held.on || lv < LOG_LV_INFO) {
		emit(lv, line);
		return;
	}
	n = strlen(line) + 2;
	if (held.len + n > held.cap) {
		size_t cap = held.len + n > 2 * held.cap ? held.len + n : 2 * held.cap;
		char *v = realloc(held.v, cap);
		if (!v) {
			emit(lv, line);	/* early, rather than never */
			return;
		}
		held.v = v;
		held.cap = cap;
	}
	held.v[held.len] = (char)lv;
	memcpy(held.v + held.len + 1, line, n - 1);
	held.len += n;
}

void
log_hold(void)
{
	held.on = 1;
}

void
log_release(int print)
{
	char *all = NULL;
	size_t len = 0;
	FILE *f = print && held.len && use_stderr ? open_memstream(&all, &len) : NULL;

	/* to stderr in one write (one by one, a batch's lines cost a write
	 * a message); one by one only when that cannot be had */
	if (f) {
		for (size_t i = 0; i < held.len; i += strlen(held.v + i + 1) + 2)
			line_to(f, (enum log_level)held.v[i], held.v + i + 1);
		if (fclose(f) == 0) {
			fwrite(all, 1, len, stderr);
			print = 0;
		}
	}
	for (size_t i = 0; print && i < held.len; i += strlen(held.v + i + 1) + 2)
		emit((enum log_level)held.v[i], held.v + i + 1);
	free(all);
	free(held.v);
	memset(&held, 0, sizeof held);
}

void
log_demote(int on)
{
	demoted = on;
}
