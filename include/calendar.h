/* calendar: when a programme may send.  Weeks count from a cohort's start
 * date; every send is at send_hour local time (an IANA zone, so a
 * daylight-saving change keeps the hour); nothing goes out in quiet hours
 * or on excluded dates (school holidays): it waits for the next allowed
 * time. */
#ifndef CALENDAR_H
#define CALENDAR_H

#include <stddef.h>
#include <stdint.h>

struct cal_range {
	int from, to;		/* YYYYMMDD, inclusive */
};

struct calendar {
	char *tz;		/* "Europe/London"; NULL: UTC */
	int send_hour;		/* 0-23 */
	int quiet_from, quiet_to;	/* hours; equal: no quiet hours */
	struct cal_range *excluded;
	size_t nexcluded;
};

/* "YYYY-MM-DD" -> YYYYMMDD, or -1. */
int cal_date(const char *s);

/* Before threads start: TZ is put in the environment (as the system zone)
 * if absent, so that the switches around conversions replace it in place
 * and never grow the environment under another thread's getenv. */
void cal_threads(void);

/* ymd plus n days. */
int cal_add_days(int ymd, int n);

/* The local date (YYYYMMDD) of t in tz. */
int cal_ymd(const char *tz, int64_t t);

/* The local time y-m-d h:00 in tz as epoch seconds. */
int64_t cal_local(const char *tz, int ymd, int hour);

/* When day `day` (1-7) of week `week` (1-) of a cohort starting on start
 * (YYYYMMDD) is due: that date at send_hour, moved on past excluded dates
 * and quiet hours. */
int64_t cal_due(const struct calendar *, int start, int week, int day);

/* The first time at or after t that is neither in quiet hours nor on an
 * excluded date (local time in tz). */
int64_t cal_next_allowed(const struct calendar *, int64_t t);

#endif
