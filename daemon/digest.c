/* digest: weekly conversation digests, nudges, the coordinators' day. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "calendar.h"
#include "decider.h"
#include "digest.h"
#include "log.h"
#include "notice.h"
#include "pairscore.h"
#include "outbox.h"
#include "roster.h"
#include "route.h"
#include "store_p.h"

static const char q_done[] = "SELECT 1 FROM sched_done WHERE cohort_id = ?1 AND send_key = ?2";
static const char q_mark[] =
	"INSERT OR IGNORE INTO sched_done(cohort_id, send_key, done_at, skipped) VALUES (?1, ?2, ?3, 0)";
/* (the text is the one the partner was given: outbox_given) */
static const char q_week[] =
	"SELECT m.author_id, m.received, m.id FROM messages m"
	" WHERE m.pair_id = ?1 AND m.state = 'relayed' AND m.received >= ?2"
	" AND m.received < ?3 ORDER BY m.received, m.id";
static const char q_last[] =
	"SELECT id, received, recipient_id FROM messages WHERE pair_id = ?1 AND state = 'relayed'"
	" ORDER BY received DESC, id DESC LIMIT 1";
static const char q_pair_created[] = "SELECT created FROM pairs WHERE id = ?1";

static int
done(struct store *s, int64_t cohort, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, q_done);
	int yes;

	if (!st)
		return 1;
	sqlite3_bind_int64(st, 1, cohort);
	store_bind_text(st, 2, key);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return yes;
}

static enum mg_status
mark(struct store *s, int64_t cohort, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, q_mark);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, cohort);
	store_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, mg_now());
	return store_exec(st);
}

static char *
first(const struct roster_person *p)
{
	return xstrdup(p->first);
}

/* --- the weekly digest ------------------------------------------------ */

struct week {
	struct store *s;
	const struct conf *c;
	int64_t cohort, from, to;
	int number, weeks, queued;
	enum mg_status rc;
};

/* reader's digest of pair p's week: NULL when nothing was said */
static char *
week_text(struct week *w, const struct roster_pair *p, const struct roster_person *reader)
{
	const struct roster_person *partner = reader->id == p->mentee.id ? &p->mentor : &p->mentee;
	const char *partner_token = reader->id == p->mentee.id ? p->to_mentor_token : p->to_mentee_token;
	const char *own_token = reader->id == p->mentee.id ? p->to_mentee_token : p->to_mentor_token;
	const struct conf *c = w->c;
	char *pmask = xasprintf("%s+%s@%s", c->relay_local, partner_token, c->relay_domain);
	char *omask = xasprintf("%s+%s@%s", c->relay_local, own_token, c->relay_domain);
	char **emails = NULL, *pf = first(partner), when[40];
	size_t ne = 0;
	struct buf b = {0};
	sqlite3_stmt *st = store_stmt(w->s, q_week);
	int any = 0;

	roster_addresses(w->s, &emails, &ne);
	struct route_mask *mk = xcalloc(ne + 2, sizeof *mk);
	mk[0] = (struct route_mask){ partner->email, pmask };
	mk[1] = (struct route_mask){ reader->email, omask };
	for (size_t i = 0; i < ne; i++)
		mk[i + 2] = (struct route_mask){ emails[i], "[address removed]" };
	buf_printf(&b, "Hello %s,\n\nYour conversation with %s in week %d of %d:\n", reader->first, pf,
	    w->number, w->weeks);
	if (st) {
		sqlite3_bind_int64(st, 1, p->id);
		sqlite3_bind_int64(st, 2, w->from);
		sqlite3_bind_int64(st, 3, w->to);
		while (w->rc == MG_OK && sqlite3_step(st) == SQLITE_ROW) {
			time_t t = (time_t)sqlite3_column_int64(st, 1);
			struct tm tm;
			int64_t author = sqlite3_column_int64(st, 0);
			char *given, *text;
			enum mg_status r = outbox_given(w->s, sqlite3_column_int64(st, 2), 0, &given);
			if (r != MG_OK) {
				if (r != MG_NOTFOUND)	/* (not passed on, or erased: not shown) */
					w->rc = r;
				continue;
			}
			text = route_mask(given, mk, ne + 2);
			free(given);
			gmtime_r(&t, &tm);
			strftime(when, sizeof when, "%a %d %b, %H:%M UTC", &tm);
			buf_printf(&b, "\n--- %s, %s ---\n%s", author == reader->id ? "You" : pf, when, text);
			if (b.len && b.s[b.len - 1] != '\n')
				buf_addc(&b, '\n');
			free(text);
			any = 1;
		}
		sqlite3_reset(st);
	}
	buf_printf(&b, "\nKeep writing to %s at %s.\n\nThe %s team\n", pf, pmask, c->name);
	for (size_t i = 0; i < ne; i++)
		free(emails[i]);
	free(emails);
	free(mk);
	free(pmask);
	free(omask);
	free(pf);
	if (!any || w->rc != MG_OK) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
week_pair(const struct roster_pair *p, void *arg)
{
	struct week *w = arg;
	const struct roster_person *readers[] = { &p->mentee, &p->mentor };

	if (strcmp(p->state, "active") || p->mentee.cohort_id != w->cohort)
		return 0;
	for (int i = 0; i < 2 && w->rc == MG_OK; i++) {
		char *body = week_text(w, p, readers[i]);
		if (!body)
			continue;
		char *key = xasprintf("digest:%lld:%d:%lld", (long long)p->id, w->number,
		    (long long)readers[i]->id);
		char *subject = xasprintf("Week %d: your conversation", w->number);
		struct notice n = { key, readers[i]->name, readers[i]->email, readers[i]->id, 0, subject,
			body, NULL, NULL, NULL, NULL, 0, NULL };
		if ((w->rc = notice_enqueue(w->s, w->c, &n)) == MG_OK)
			w->queued++;
		free(key);
		free(subject);
		free(body);
	}
	return w->rc != MG_OK;
}

static enum mg_status
weekly(struct store *s, const struct conf *c, const struct roster_cohort *co, int *queued)
{
	const struct calendar *cal = &c->sched.cal;
	int64_t now = mg_now();
	enum mg_status rc = MG_OK;

	for (int wk = 1; wk <= co->weeks && rc == MG_OK; wk++) {
		char key[32];
		int64_t due = cal_due(cal, co->start, wk, 7);
		if (now < due)
			break;
		snprintf(key, sizeof key, "digest:%d", wk);
		if (done(s, co->id, key))
			continue;
		if ((rc = store_begin(s)) != MG_OK)
			return rc;
		struct week w = { s, c, co->id,
			cal_local(cal->tz, cal_add_days(co->start, (wk - 1) * 7), 0),
			cal_local(cal->tz, cal_add_days(co->start, wk * 7), 0), wk, co->weeks, 0, MG_OK };
		int late = c->sched.late_days && now - due > (int64_t)c->sched.late_days * 86400;
		if (!late && (rc = roster_pairs(s, week_pair, &w)) == MG_OK)
			rc = w.rc;
		if (rc == MG_OK)
			rc = mark(s, co->id, key);
		if (rc != MG_OK) {
			store_rollback(s);
			return rc;
		}
		if ((rc = store_commit(s)) == MG_OK && w.queued) {
			log_info("digest cohort=%s week=%d queued=%d", co->name, wk, w.queued);
			*queued += w.queued;
		}
	}
	return rc;
}

/* --- nudges ----------------------------------------------------------- */

struct nudge {
	struct store *s;
	const struct conf *c;
	const struct roster_cohort *co;
	int queued;
	enum mg_status rc;
};

/* When the pair last spoke (or was made) and who owes the next message. */
static int64_t
silence(struct store *s, const struct roster_pair *p, int64_t *last_msg, int64_t *owes)
{
	sqlite3_stmt *st = store_stmt(s, q_last);
	int64_t since = 0;

	*last_msg = 0;
	*owes = p->mentee.id;	/* nobody has written: the mentee was asked to */
	if (st) {
		sqlite3_bind_int64(st, 1, p->id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*last_msg = sqlite3_column_int64(st, 0);
			since = sqlite3_column_int64(st, 1);
			*owes = sqlite3_column_int64(st, 2);
		}
		sqlite3_reset(st);
	}
	if (!*last_msg && (st = store_stmt(s, q_pair_created))) {
		sqlite3_bind_int64(st, 1, p->id);
		if (sqlite3_step(st) == SQLITE_ROW)
			since = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return since;
}

static int
nudge_pair(const struct roster_pair *p, void *arg)
{
	struct nudge *u = arg;
	int64_t last, owes, since;

	if (strcmp(p->state, "active") || p->mentee.cohort_id != u->co->id)
		return 0;
	since = silence(u->s, p, &last, &owes);
	/* silence counts from the wave's start at the earliest */
	int64_t start = cal_local(u->c->sched.cal.tz, u->co->start, 0);
	if (since < start)
		since = start;
	if (mg_now() - since < (int64_t)u->c->sched.nudge_after_days * 86400)
		return 0;
	const struct roster_person *to = owes == p->mentor.id ? &p->mentor : &p->mentee;
	const struct roster_person *partner = to == &p->mentee ? &p->mentor : &p->mentee;
	const char *token = to == &p->mentee ? p->to_mentor_token : p->to_mentee_token;
	char *pf = first(partner), *tf = first(to);
	char *addr = xasprintf("%s+%s@%s", u->c->relay_local, token, u->c->relay_domain);
	char *key = xasprintf("nudge:%lld:%lld", (long long)p->id, (long long)last);
	char *subject = xasprintf("%s is waiting to hear from you", pf);
	char *body = xasprintf("Hello %s,\n\nIt has been a little while since you and %s last wrote. "
	    "%s would\nlove to hear from you - a few lines about your week is plenty.\n\n"
	    "Reply to this email and it goes to %s.\n\nThe %s team\n", tf, pf, pf, pf, u->c->name);
	struct notice n = { key, to->name, to->email, to->id, 0, subject, body, addr, NULL, NULL,
		NULL, 0, NULL };
	u->rc = notice_enqueue(u->s, u->c, &n);
	if (u->rc == MG_OK)
		u->queued++;	/* (a nudge already sent counts again: the key keeps it once) */
	free(pf);
	free(tf);
	free(addr);
	free(key);
	free(subject);
	free(body);
	return u->rc != MG_OK;
}

/* --- the coordinators' day -------------------------------------------- */

static const char q_day_pairs[] =
	"SELECT p.id, a.name, b.name, sum(m.state = 'relayed'), sum(m.state = 'held')"
	" FROM messages m JOIN pairs p ON p.id = m.pair_id JOIN participants a ON a.id = p.mentee_id"
	" JOIN participants b ON b.id = p.mentor_id WHERE m.received >= ?1"
	" GROUP BY p.id ORDER BY p.id";
static const char q_day_holds[] =
	"SELECT h.id, coalesce(m.from_addr, ''), h.reason, h.message FROM holds h"
	" JOIN messages m ON m.id = h.message WHERE h.state = 'open' ORDER BY h.id";
/* authors whose flag rules are adding up in a pair (pairscore.h), not
 * shown to one of the pair */
static const char q_day_signals[] =
	"SELECT m.pair_id, a.name, count(DISTINCT f.rule), group_concat(DISTINCT f.rule)"
	" FROM messages m JOIN flags f ON f.message = m.id AND f.action = 'flag'"
	" JOIN participants a ON a.id = m.author_id"
	" WHERE m.received >= ?1 AND m.pair_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pairs p"
	"  JOIN participants x ON x.id IN (p.mentee_id, p.mentor_id)"
	"  WHERE p.id = m.pair_id AND lower(x.email) = ?2)"
	" GROUP BY m.pair_id, m.author_id HAVING count(DISTINCT f.rule) >= 2 ORDER BY m.pair_id";
static const char q_day_bounces[] =
	"SELECT rcpt, permanent, coalesce(why, '') FROM bounces WHERE created >= ?1 ORDER BY id";
static const char q_quiet[] =
	"SELECT p.id, a.name, b.name, coalesce(max(m.received), p.created) AS last FROM pairs p"
	" JOIN participants a ON a.id = p.mentee_id JOIN participants b ON b.id = p.mentor_id"
	" LEFT JOIN messages m ON m.pair_id = p.id AND m.state = 'relayed'"
	" WHERE p.state = 'active' GROUP BY p.id HAVING last < ?1 ORDER BY last";

/* The day as reader sees it: the holds they may decide (decider.h). */
static char *
day_text(struct store *s, const struct conf *c, int64_t now, const char *reader)
{
	struct buf b = {0};
	sqlite3_stmt *st;
	int any = 0;

	buf_printf(&b, "The %s day, up to now.\n\nMessages in the last 24 hours:\n", c->name);
	if ((st = store_stmt(s, q_day_pairs))) {
		sqlite3_bind_int64(st, 1, now - 86400);
		while (sqlite3_step(st) == SQLITE_ROW) {
			buf_printf(&b, "  pair %lld (%s / %s): %d relayed, %d held\n",
			    (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
			    sqlite3_column_text(st, 2), sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
			any = 1;
		}
		sqlite3_reset(st);
	}
	if (!any)
		buf_adds(&b, "  none\n");
	buf_adds(&b, "\nHolds waiting for a decision (mentorctl hold list):\n");
	any = 0;
	if ((st = store_stmt(s, q_day_holds))) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct deciders dc;
			if (decider_list(s, c, sqlite3_column_int64(st, 3), &dc) != MG_OK ||
			    !decider_has(&dc, reader)) {
				decider_clear(&dc);
				continue;
			}
			decider_clear(&dc);
			buf_printf(&b, "  hold %lld from %s: %s\n", (long long)sqlite3_column_int64(st, 0),
			    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
			any = 1;
		}
		sqlite3_reset(st);
	}
	if (!any)
		buf_adds(&b, "  none\n");
	buf_printf(&b, "\nSignals adding up in a pair (last %d days; held at %d):\n",
	    PAIRSCORE_DAYS, c->pair_signals);
	any = 0;
	if ((st = store_stmt(s, q_day_signals))) {
		sqlite3_bind_int64(st, 1, now - (int64_t)PAIRSCORE_DAYS * 86400);
		store_bind_text(st, 2, reader);
		while (sqlite3_step(st) == SQLITE_ROW) {
			buf_printf(&b, "  pair %lld, from %s: %d (%s)\n",
			    (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
			    sqlite3_column_int(st, 2), sqlite3_column_text(st, 3));
			any = 1;
		}
		sqlite3_reset(st);
	}
	if (!any)
		buf_adds(&b, "  none\n");
	buf_adds(&b, "\nDelivery failures in the last 24 hours:\n");
	any = 0;
	if ((st = store_stmt(s, q_day_bounces))) {
		sqlite3_bind_int64(st, 1, now - 86400);
		while (sqlite3_step(st) == SQLITE_ROW) {
			buf_printf(&b, "  %s (%s) %s\n", sqlite3_column_text(st, 0),
			    sqlite3_column_int(st, 1) ? "permanent" : "transient", sqlite3_column_text(st, 2));
			any = 1;
		}
		sqlite3_reset(st);
	}
	if (!any)
		buf_adds(&b, "  none\n");
	if (c->sched.escalate_after_days) {
		buf_printf(&b, "\nPairs silent for %d days or more:\n", c->sched.escalate_after_days);
		any = 0;
		if ((st = store_stmt(s, q_quiet))) {
			sqlite3_bind_int64(st, 1, now - (int64_t)c->sched.escalate_after_days * 86400);
			while (sqlite3_step(st) == SQLITE_ROW) {
				buf_printf(&b, "  pair %lld (%s / %s): silent %lld days\n",
				    (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
				    sqlite3_column_text(st, 2),
				    (long long)((now - sqlite3_column_int64(st, 3)) / 86400));
				any = 1;
			}
			sqlite3_reset(st);
		}
		if (!any)
			buf_adds(&b, "  none\n");
	}
	return buf_steal(&b);
}

static enum mg_status
daily(struct store *s, const struct conf *c, int *queued)
{
	const struct calendar *cal = &c->sched.cal;
	int64_t now = mg_now();
	int today = cal_ymd(cal->tz, now);
	enum mg_status rc;

	if (!c->ncoordinators || now < cal_local(cal->tz, today, cal->send_hour))
		return MG_OK;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	char *subject = xasprintf("[%s] the day in the programme: %d", c->name, today);
	rc = MG_OK;
	for (size_t i = 0; i < c->ncoordinators && rc == MG_OK; i++) {
		char *body = day_text(s, c, now, c->coordinators[i]);
		char *key = xasprintf("coord-digest:%d:%s", today, c->coordinators[i]);
		struct notice n = { key, NULL, c->coordinators[i], 0, 0, subject, body, NULL,
			NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &n);
		free(body);
		free(key);
	}
	free(subject);
	if (rc != MG_OK) {
		store_rollback(s);
		return rc;
	}
	if ((rc = store_commit(s)) == MG_OK)
		(*queued)++;
	return rc;
}

enum mg_status
digest_run(struct store *s, const struct conf *c, int *queued)
{
	const struct sched_conf *sc = &c->sched;
	struct roster_cohort *co;
	size_t n;
	enum mg_status rc = MG_OK;

	*queued = 0;
	if (!sc->weekly && !sc->daily && !sc->nudge_after_days)
		return MG_OK;
	if (cal_next_allowed(&sc->cal, mg_now()) != mg_now())
		return MG_OK;	/* quiet hours or an excluded day: later */
	if ((rc = roster_cohorts(s, &co, &n)) != MG_OK)
		return rc;
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		if (co[i].start <= 0)
			continue;
		int64_t end = cal_local(sc->cal.tz, cal_add_days(co[i].start, co[i].weeks * 7), 0);
		if (sc->weekly)
			rc = weekly(s, c, &co[i], queued);
		if (rc == MG_OK && sc->nudge_after_days && mg_now() < end) {
			struct nudge u = { s, c, &co[i], 0, MG_OK };
			if ((rc = store_begin(s)) != MG_OK)
				break;
			if ((rc = roster_pairs(s, nudge_pair, &u)) == MG_OK)
				rc = u.rc;
			if (rc == MG_OK)
				rc = store_commit(s);
			else
				store_rollback(s);
			*queued += u.queued;
		}
	}
	roster_cohorts_free(co, n);
	if (rc == MG_OK && sc->daily)
		rc = daily(s, c, queued);
	return rc;
}
