/* sched: the programme's timetable.  [calendar] says when sending is
 * allowed; [schedule] says what goes to whom in which week:
 *     [calendar]
 *     timezone = Europe/London    an IANA zone (default UTC)
 *     send_hour = 16              local hour of every scheduled send
 *     quiet_hours = 21-8          no sends from 21:00 to 08:00
 *     exclude = 2026-10-26..2026-10-30   (repeatable; a date or a range)
 *     [schedule]
 *     send = 1 welcome both      WEEK[:DAY] TEMPLATE mentees|mentors|both|coordinators
 * Every send goes through the outbox with the dedupe key
 * prompt:COHORT:WEEK:DAY:TEMPLATE:RECIPIENT, so a restart, a second run or
 * a clock that jumps never sends anything twice. */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>

#include "calendar.h"
#include "mg.h"
#include "tmpl.h"

struct conf;
struct store;
struct survey_def;

enum sched_audience { AUD_MENTEES = 1, AUD_MENTORS = 2, AUD_BOTH = 3, AUD_COORDINATORS = 4 };

struct sched_send {
	int week, day;
	char *template;
	enum sched_audience audience;
	int line;		/* in the configuration file */
	struct tmpl *tmpl;	/* loaded with the configuration */
};

struct sched_conf {
	struct calendar cal;
	struct sched_send *v;
	size_t n;
	int late_days;		/* sends later than this are skipped, not sent */
	struct survey_def *surveys;	/* [survey NAME] sections */
	size_t nsurveys;
	/* [digest] */
	int weekly, daily;	/* participants' weekly / coordinators' daily digest */
	int nudge_after_days, escalate_after_days;	/* 0: no nudges / none named */
};

/* One key of [calendar] or [schedule]: 0, or -1 with why filled. */
int sched_conf_key(struct sched_conf *, const char *section, const char *key, const char *value,
    int line, char *why, size_t whylen);
/* After the file: load every template named (templates_dir/NAME.txt);
 * problems appended to errs as file:line.  MG_BADCONF then. */
enum mg_status sched_conf_done(struct sched_conf *, const char *file, const char *templates_dir,
    struct buf *errs);
void sched_conf_free(struct sched_conf *);

/* Enqueue every send that is due and allowed now.  *queued = how many
 * messages. */
enum mg_status sched_run(struct store *, const struct conf *, int *queued);

#endif
