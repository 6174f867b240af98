/* sched: parse the timetable; enqueue what is due. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "log.h"
#include "notice.h"
#include "roster.h"
#include "sched.h"
#include "store_p.h"
#include "survey.h"

static int
range(const char *v, struct cal_range *r)
{
	char a[16], b[16];
	const char *dots = strstr(v, "..");

	if (dots) {
		snprintf(a, sizeof a, "%.*s", (int)(dots - v), v);
		snprintf(b, sizeof b, "%s", dots + 2);
	} else {
		snprintf(a, sizeof a, "%s", v);
		snprintf(b, sizeof b, "%s", v);
	}
	r->from = cal_date(a);
	r->to = cal_date(b);
	return r->from > 0 && r->to >= r->from ? 0 : -1;
}

int
sched_conf_key(struct sched_conf *sc, const char *section, const char *key, const char *value,
    int line, char *why, size_t n)
{
	if (!strcmp(section, "calendar")) {
		if (!strcmp(key, "timezone")) {
			char *zf = xasprintf("/usr/share/zoneinfo/%s", value);
			int okz = !strstr(value, "..") && value[0] != '/' && access(zf, R_OK) == 0;
			free(zf);
			if (!okz) {
				snprintf(why, n, "timezone: '%s' is not an IANA zone such as Europe/London", value);
				return -1;
			}
			free(sc->cal.tz);
			sc->cal.tz = xstrdup(value);
		} else if (!strcmp(key, "send_hour")) {
			char *end;
			long h = strtol(value, &end, 10);
			if (*end || end == value || h < 0 || h > 23) {
				snprintf(why, n, "send_hour: an hour 0..23");
				return -1;
			}
			sc->cal.send_hour = (int)h;
		} else if (!strcmp(key, "quiet_hours")) {
			int a, b;
			char tail;
			if (sscanf(value, "%d-%d%c", &a, &b, &tail) != 2 || a < 0 || a > 23 || b < 0 || b > 23) {
				snprintf(why, n, "quiet_hours: FROM-TO in hours, e.g. 21-8");
				return -1;
			}
			sc->cal.quiet_from = a;
			sc->cal.quiet_to = b;
		} else if (!strcmp(key, "exclude")) {
			struct cal_range r;
			if (range(value, &r)) {
				snprintf(why, n, "exclude: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD");
				return -1;
			}
			sc->cal.excluded = xrealloc(sc->cal.excluded, (sc->cal.nexcluded + 1) *
			    sizeof *sc->cal.excluded);
			sc->cal.excluded[sc->cal.nexcluded++] = r;
		} else if (!strcmp(key, "late_days")) {
			char *end;
			long d = strtol(value, &end, 10);
			if (*end || end == value || d < 0 || d > 365) {
				snprintf(why, n, "late_days: a number of days 0..365");
				return -1;
			}
			sc->late_days = (int)d;
		} else {
			snprintf(why, n, "unknown key '%s' in [calendar]", key);
			return -1;
		}
		return 0;
	}
	if (!strcmp(section, "digest")) {
		int *ip = !strcmp(key, "participants") ? &sc->weekly : !strcmp(key, "coordinators") ?
		    &sc->daily : !strcmp(key, "nudge_after_days") ? &sc->nudge_after_days :
		    !strcmp(key, "escalate_after_days") ? &sc->escalate_after_days : NULL;
		char *end;
		long d;
		if (!ip) {
			snprintf(why, n, "unknown key '%s' in [digest]", key);
			return -1;
		}
		if (ip == &sc->weekly || ip == &sc->daily) {
			if (strcmp(value, "yes") && strcmp(value, "no")) {
				snprintf(why, n, "%s: yes or no", key);
				return -1;
			}
			*ip = !strcmp(value, "yes");
			return 0;
		}
		d = strtol(value, &end, 10);
		if (*end || end == value || d < 0 || d > 365) {
			snprintf(why, n, "%s: a number of days 0..365 (0: off)", key);
			return -1;
		}
		*ip = (int)d;
		return 0;
	}
	if (strcmp(key, "send")) {
		snprintf(why, n, "unknown key '%s' in [schedule]", key);
		return -1;
	}
	struct sched_send e = { .day = 1, .line = line };
	char when[32], tmpl[128], aud[32], tail[2];
	if (sscanf(value, "%31s %127s %31s %1s", when, tmpl, aud, tail) != 3 ||
	    (sscanf(when, "%d:%d%1s", &e.week, &e.day, tail) != 2 &&
	    (sscanf(when, "%d%1s", &e.week, tail) != 1 || (e.day = 1) != 1)) ||
	    e.week < 1 || e.week > 520 || e.day < 1 || e.day > 7) {
		snprintf(why, n, "send: WEEK[:DAY] TEMPLATE AUDIENCE, e.g. 2:3 activity mentees");
		return -1;
	}
	e.audience = !strcmp(aud, "mentees") ? AUD_MENTEES : !strcmp(aud, "mentors") ? AUD_MENTORS :
	    !strcmp(aud, "both") ? AUD_BOTH : !strcmp(aud, "coordinators") ? AUD_COORDINATORS : 0;
	if (!e.audience) {
		snprintf(why, n, "send: audience is mentees, mentors, both or coordinators");
		return -1;
	}
	e.template = xstrdup(tmpl);
	sc->v = xrealloc(sc->v, (sc->n + 1) * sizeof *sc->v);
	sc->v[sc->n++] = e;
	return 0;
}

enum mg_status
sched_conf_done(struct sched_conf *sc, const char *file, const char *dir, struct buf *errs)
{
	int bad = 0;

	if (sc->n && !dir) {
		buf_printf(errs, "%s: [schedule] needs [programme] templates\n", file);
		return MG_BADCONF;
	}
	for (size_t i = 0; i < sc->nsurveys; i++) {
		const struct survey_def *d = &sc->surveys[i];
		if (!d->week || !d->nquestions) {
			buf_printf(errs, "%s:%d: [survey %s] needs a week and at least one question\n", file,
			    d->line, d->name);
			bad++;
		}
	}
	for (size_t i = 0; i < sc->n; i++) {
		struct buf e = {0};
		for (size_t k = 0; k < i; k++)	/* one load per template */
			if (!strcmp(sc->v[k].template, sc->v[i].template) && sc->v[k].tmpl) {
				sc->v[i].tmpl = sc->v[k].tmpl;
				break;
			}
		if (sc->v[i].tmpl)
			continue;
		if (tmpl_load(dir, sc->v[i].template, &sc->v[i].tmpl, &e) != MG_OK) {
			buf_printf(errs, "%s:%d: send %s: %s", file, sc->v[i].line, sc->v[i].template,
			    e.s ? e.s : "cannot load\n");
			bad++;
		}
		buf_free(&e);
	}
	return bad ? MG_BADCONF : MG_OK;
}

void
sched_conf_free(struct sched_conf *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		int shared = 0;
		for (size_t k = 0; k < i; k++)
			if (sc->v[k].tmpl == sc->v[i].tmpl)
				shared = 1;
		if (!shared)
			tmpl_free(sc->v[i].tmpl);
		free(sc->v[i].template);
	}
	free(sc->v);
	survey_conf_free(sc);
	free(sc->cal.tz);
	free(sc->cal.excluded);
	memset(sc, 0, sizeof *sc);
}

/* --- sending -------------------------------------------------------- */

static const char q_done[] = "SELECT 1 FROM sched_done WHERE cohort_id = ?1 AND send_key = ?2";
static const char q_mark[] =
	"INSERT INTO sched_done(cohort_id, send_key, done_at, skipped) VALUES (?1, ?2, ?3, ?4)";

struct run {
	struct store *s;
	const struct conf *c;
	const struct sched_send *e;
	int64_t cohort;
	const char *cohort_name, *key;
	char week[12], weeks[12];
	int queued;
	enum mg_status rc;
};

static enum mg_status
send_one(struct run *r, const struct roster_person *to, const struct roster_person *partner,
    const char *partner_token)
{
	const struct conf *c = r->c;
	char *first = xstrdup(to->first ? to->first : to->name);
	char *pfirst = xstrdup(partner ? partner->first : "");
	char *paddr = partner_token ? xasprintf("%s+%s@%s", c->relay_local, partner_token,
	    c->relay_domain) : xstrdup("");
	char *coord = xasprintf("%s@%s", c->relay_local, c->relay_domain);
	struct tmpl_var v[] = {
		{ "name", to->name }, { "first_name", first }, { "role", to->role },
		{ "partner_name", partner ? partner->name : "" }, { "partner_first_name", pfirst },
		{ "partner_role", partner ? partner->role : "" }, { "partner_address", paddr },
		{ "programme", c->name }, { "cohort", r->cohort_name }, { "week", r->week },
		{ "weeks", r->weeks }, { "coordinator_address", coord },
	};
	char *subject, *body, *html, *key;
	enum mg_status rc;

	rc = tmpl_render(r->e->tmpl, v, sizeof v / sizeof *v, &subject, &body, &html);
	if (rc != MG_OK) {
		log_err("sched template=%s cannot be filled for %s", r->e->template, to->email);
		goto out;
	}
	key = xasprintf("prompt:%lld:%d:%d:%s:%s", (long long)r->cohort, r->e->week, r->e->day,
	    r->e->template, to->email);
	/* a reply to a prompt goes to the partner, through the relay */
	struct notice n = { key, to->name, to->email, to->id, 0, subject, body,
		partner_token ? paddr : NULL, NULL, NULL, NULL, 0, html };
	if ((rc = notice_enqueue(r->s, c, &n)) == MG_OK)
		r->queued++;
	free(key);
	free(subject);
	free(body);
	free(html);
out:
	free(first);
	free(pfirst);
	free(paddr);
	free(coord);
	return rc;
}

static int
each_pair(const struct roster_pair *p, void *arg)
{
	struct run *r = arg;

	if (strcmp(p->state, "active") || p->mentee.cohort_id != r->cohort)
		return 0;
	if (r->e->audience & AUD_MENTEES)
		r->rc = send_one(r, &p->mentee, &p->mentor, p->to_mentor_token);
	if (r->rc == MG_OK && (r->e->audience & AUD_MENTORS))
		r->rc = send_one(r, &p->mentor, &p->mentee, p->to_mentee_token);
	return r->rc != MG_OK;
}

static enum mg_status
mark(struct store *s, int64_t cohort, const char *key, int skipped)
{
	sqlite3_stmt *st = store_stmt(s, q_mark);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, cohort);
	store_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, mg_now());
	sqlite3_bind_int(st, 4, skipped);
	return store_exec(st);
}

static enum mg_status
run_send(struct store *s, const struct conf *c, int64_t cohort, const char *name, int start,
    int weeks, const struct sched_send *e, int *queued)
{
	const struct sched_conf *sc = &c->sched;
	char key[200];
	int64_t now = mg_now(), due;
	sqlite3_stmt *st;
	enum mg_status rc;

	if (e->week > weeks)
		return MG_OK;
	due = cal_due(&sc->cal, start, e->week, e->day);
	if (now < due || cal_next_allowed(&sc->cal, now) != now)
		return MG_OK;	/* not yet, or quiet hours / an excluded day now */
	snprintf(key, sizeof key, "%d:%d:%s:%d", e->week, e->day, e->template, e->audience);
	if (!(st = store_stmt(s, q_done)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, cohort);
	store_bind_text(st, 2, key);
	int done = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (done)
		return MG_OK;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	struct run r = { s, c, e, cohort, name, key, "", "", 0, MG_OK };
	snprintf(r.week, sizeof r.week, "%d", e->week);
	snprintf(r.weeks, sizeof r.weeks, "%d", weeks);
	int late = sc->late_days && now - due > (int64_t)sc->late_days * 86400;
	if (!late) {
		if (e->audience == AUD_COORDINATORS) {
			for (size_t i = 0; i < c->ncoordinators && r.rc == MG_OK; i++) {
				struct roster_person p = { 0, "coordinator", c->coordinators[i],
					c->coordinators[i], NULL, cohort, 0, c->coordinators[i] };
				r.rc = send_one(&r, &p, NULL, NULL);
			}
		} else if ((rc = roster_pairs(s, each_pair, &r)) != MG_OK)
			r.rc = rc;
	}
	char *detail = xasprintf("cohort %s week %d day %d %s: %s", name, e->week, e->day, e->template,
	    late ? "skipped, too late" : "queued");
	if ((rc = r.rc) != MG_OK || (rc = mark(s, cohort, key, late)) != MG_OK ||
	    (rc = audit_append(s, "scheduled", 0, 0, NULL, detail)) != MG_OK) {
		free(detail);
		store_rollback(s);
		return rc;
	}
	free(detail);
	if ((rc = store_commit(s)) == MG_OK) {
		log_info("sched cohort=%s week=%d day=%d template=%s %s=%d", name, e->week, e->day,
		    e->template, late ? "skipped" : "queued", r.queued);
		*queued += r.queued;
	}
	return rc;
}

enum mg_status
sched_run(struct store *s, const struct conf *c, int *queued)
{
	struct roster_cohort *v;
	size_t n;
	enum mg_status rc;

	*queued = 0;
	if (!c->sched.n)
		return MG_OK;
	if ((rc = roster_cohorts(s, &v, &n)) != MG_OK)
		return rc;
	for (size_t i = 0; i < n && rc == MG_OK; i++)
		for (size_t k = 0; k < c->sched.n && rc == MG_OK; k++)
			if (v[i].start > 0)
				rc = run_send(s, c, v[i].id, v[i].name, v[i].start, v[i].weeks, &c->sched.v[k],
				    queued);
	roster_cohorts_free(v, n);
	return rc;
}
