/* calendar: local times through the C library's zone database. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "mg.h"

/* The process's zone is switched only here, around each conversion, with
 * zone_mu held (each programme's thread converts times). */
static pthread_mutex_t zone_mu = PTHREAD_MUTEX_INITIALIZER;

static void
zone(const char *tz)
{
	static char *current;

	if (current && tz && !strcmp(current, tz))
		return;
	free(current);
	current = tz ? xstrdup(tz) : NULL;
	setenv("TZ", tz ? tz : "UTC", 1);
	tzset();
}

void
cal_threads(void)
{
	setenv("TZ", ":/etc/localtime", 0);
}

/* mktime in zone tz */
static int64_t
in_zone(const char *tz, struct tm *tm)
{
	time_t t;

	pthread_mutex_lock(&zone_mu);
	zone(tz);
	t = mktime(tm);
	pthread_mutex_unlock(&zone_mu);
	return (int64_t)t;
}

int
cal_date(const char *s)
{
	int y, m, d;
	char tail;

	if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > 31 || y < 1970 || y > 9999)
		return -1;
	return y * 10000 + m * 100 + d;
}

int64_t
cal_local(const char *tz, int ymd, int hour)
{
	struct tm tm = {0};

	tm.tm_year = ymd / 10000 - 1900;
	tm.tm_mon = ymd / 100 % 100 - 1;
	tm.tm_mday = ymd % 100;
	tm.tm_hour = hour;
	tm.tm_isdst = -1;	/* the zone decides: summer or winter time */
	return in_zone(tz, &tm);
}

static void
local(const char *tz, int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	pthread_mutex_lock(&zone_mu);
	zone(tz);
	localtime_r(&tt, tm);
	pthread_mutex_unlock(&zone_mu);
}

static int
excluded(const struct calendar *c, int ymd)
{
	for (size_t i = 0; i < c->nexcluded; i++)
		if (ymd >= c->excluded[i].from && ymd <= c->excluded[i].to)
			return 1;
	return 0;
}

static int
quiet(const struct calendar *c, int hour)
{
	if (c->quiet_from == c->quiet_to)
		return 0;
	if (c->quiet_from < c->quiet_to)
		return hour >= c->quiet_from && hour < c->quiet_to;
	return hour >= c->quiet_from || hour < c->quiet_to;	/* across midnight */
}

int64_t
cal_next_allowed(const struct calendar *c, int64_t t)
{
	struct tm tm;

	for (int guard = 0; guard < 24 * 400; guard++) {	/* a year of hours at most */
		local(c->tz, t, &tm);
		int ymd = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
		if (excluded(c, ymd)) {
			/* the next day at send_hour */
			tm.tm_mday++;
			tm.tm_hour = c->send_hour;
			tm.tm_min = tm.tm_sec = 0;
			tm.tm_isdst = -1;
			t = in_zone(c->tz, &tm);
			continue;
		}
		if (quiet(c, tm.tm_hour)) {
			/* the next whole hour */
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
			tm.tm_isdst = -1;
			t = in_zone(c->tz, &tm);
			continue;
		}
		return t;
	}
	return t;
}

int
cal_add_days(int ymd, int n)
{
	struct tm tm = {0};

	/* calendar arithmetic at noon UTC, away from any zone edge */
	tm.tm_year = ymd / 10000 - 1900;
	tm.tm_mon = ymd / 100 % 100 - 1;
	tm.tm_mday = ymd % 100 + n;
	tm.tm_hour = 12;
	time_t t = timegm(&tm);
	gmtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int
cal_ymd(const char *tz, int64_t t)
{
	struct tm tm;

	local(tz, t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int64_t
cal_due(const struct calendar *c, int start, int week, int day)
{
	int ymd = cal_add_days(start, (week - 1) * 7 + (day - 1));

	return cal_next_allowed(c, cal_local(c->tz, ymd, c->send_hour));
}
