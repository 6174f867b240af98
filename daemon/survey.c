/* survey: definitions, invitations, answers by reply, reminders, imports. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "conf.h"
#include "dname.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "reply.h"
#include "roster.h"
#include "store_p.h"
#include "survey.h"

/* --- configuration ---------------------------------------------------- */

int
survey_conf_section(struct sched_conf *sc, const char *name, int line, char *why, size_t n)
{
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			snprintf(why, n, "[survey NAME]: a name of letters, digits, - and _");
			return -1;
		}
	for (size_t i = 0; i < sc->nsurveys; i++)
		if (!strcmp(sc->surveys[i].name, name)) {
			snprintf(why, n, "survey %s is defined twice", name);
			return -1;
		}
	sc->surveys = xrealloc(sc->surveys, (sc->nsurveys + 1) * sizeof *sc->surveys);
	sc->surveys[sc->nsurveys++] = (struct survey_def){ .name = xstrdup(name), .audience = 1,
		.reminder_days = 3, .max_reminders = 2, .close_days = -1, .line = line };
	return 0;
}

static int
number(const char *v, int lo, int hi, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (*end || end == v || x < lo || x > hi)
		return -1;
	*out = (int)x;
	return 0;
}

int
survey_conf_key(struct sched_conf *sc, const char *key, const char *value, char *why, size_t n)
{
	struct survey_def *d;

	if (!sc->nsurveys) {	/* its [survey NAME] line was refused */
		snprintf(why, n, "%s: in no survey (see the [survey NAME] line above)", key);
		return -1;
	}
	d = &sc->surveys[sc->nsurveys - 1];
	if (!strcmp(key, "week")) {
		if (number(value, 1, 520, &d->week)) {
			snprintf(why, n, "week: a week number");
			return -1;
		}
	} else if (!strcmp(key, "audience")) {
		d->audience = !strcmp(value, "mentees") ? 1 : !strcmp(value, "mentors") ? 2 :
		    !strcmp(value, "both") ? 3 : 0;
		if (!d->audience) {
			snprintf(why, n, "audience: mentees, mentors or both");
			return -1;
		}
	} else if (!strcmp(key, "question")) {
		if (mg_has_crlf(value) || d->nquestions >= 20) {
			snprintf(why, n, "question: one line; at most 20 questions");
			return -1;
		}
		d->questions = xrealloc(d->questions, (d->nquestions + 1) * sizeof *d->questions);
		d->questions[d->nquestions++] = xstrdup(value);
	} else if (!strcmp(key, "free_text")) {
		free(d->free_text);
		d->free_text = xstrdup(value);
	} else if (!strcmp(key, "link")) {
		if (strncmp(value, "https://", 8) && strncmp(value, "http://", 7)) {
			snprintf(why, n, "link: a web address, with {{token}} where the token goes");
			return -1;
		}
		free(d->link);
		d->link = xstrdup(value);
	} else if (!strcmp(key, "reminder_days")) {
		if (number(value, 1, 60, &d->reminder_days)) {
			snprintf(why, n, "reminder_days: 1..60");
			return -1;
		}
	} else if (!strcmp(key, "max_reminders")) {
		if (number(value, 0, 10, &d->max_reminders)) {
			snprintf(why, n, "max_reminders: 0..10");
			return -1;
		}
	} else if (!strcmp(key, "close_days")) {
		if (number(value, 0, 365, &d->close_days)) {
			snprintf(why, n, "close_days: days after the wave's end, 0..365");
			return -1;
		}
	} else {
		snprintf(why, n, "unknown key '%s' in [survey %s]", key, d->name);
		return -1;
	}
	return 0;
}

void
survey_conf_free(struct sched_conf *sc)
{
	for (size_t i = 0; i < sc->nsurveys; i++) {
		struct survey_def *d = &sc->surveys[i];
		free(d->name);
		for (size_t k = 0; k < d->nquestions; k++)
			free(d->questions[k]);
		free(d->questions);
		free(d->free_text);
		free(d->link);
	}
	free(sc->surveys);
	sc->surveys = NULL;
	sc->nsurveys = 0;
}

/* --- reading an answer ------------------------------------------------ */

enum mg_status
survey_parse(const char *text, size_t nq, int *scores, char **free_text, int *change, char *why,
    size_t wn)
{
	const char *p = text;
	size_t got = 0;

	*free_text = NULL;
	*change = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (!strncasecmp(p, "change", 6) && !isalpha((unsigned char)p[6])) {
		int q, s;
		if (sscanf(p + 6, " %d %d", &q, &s) != 2 || q < 1 || (size_t)q > nq || s < 1 || s > 5) {
			snprintf(why, wn, "CHANGE needs a question number (1-%zu) and a score (1-5), "
			    "e.g. CHANGE 2 3", nq);
			return MG_BADINPUT;
		}
		scores[0] = q;
		scores[1] = s;
		*change = 1;
		return MG_OK;
	}
	for (size_t i = 0; i < nq; i++)
		scores[i] = 0;
	/* numbered ("1) 4", "2. 5", "3: 3") or bare numbers, in order */
	while (*p && got < nq) {
		while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == ';'))
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		char *end;
		long a = strtol(p, &end, 10);
		const char *q = end;
		while (*q == ' ')
			q++;
		if ((*q == ')' || *q == '.' || *q == ':' || *q == '-') && a >= 1 && (size_t)a <= nq + 1) {
			q++;
			while (*q == ' ')
				q++;
			if ((size_t)a == nq + 1)
				break;	/* the free-text question's number */
			long s = strtol(q, &end, 10);
			if (end == q || s < 1 || s > 5) {
				snprintf(why, wn, "the answer to question %ld should be a number from 1 to 5", a);
				return MG_BADINPUT;
			}
			scores[a - 1] = (int)s;
			got++;
			p = end;
		} else {
			if (a < 1 || a > 5) {
				snprintf(why, wn, "%ld is not a score from 1 to 5", a);
				return MG_BADINPUT;
			}
			size_t k;
			for (k = 0; k < nq && scores[k]; k++)
				;
			scores[k] = (int)a;
			got++;
			p = end;
		}
	}
	for (size_t i = 0; i < nq; i++)
		if (!scores[i]) {
			snprintf(why, wn, "there should be %zu scores from 1 to 5, one for each question "
			    "(question %zu has none)", nq, i + 1);
			return MG_BADINPUT;
		}
	while (isspace((unsigned char)*p))
		p++;
	if (isdigit((unsigned char)*p)) {	/* "5) free text" */
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == ')' || *p == '.' || *p == ':')
			p++;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p) {
		*free_text = xstrdup(p);
		size_t l = strlen(*free_text);
		while (l && isspace((unsigned char)(*free_text)[l - 1]))
			(*free_text)[--l] = 0;
	}
	return MG_OK;
}

/* --- invitations and reminders ----------------------------------------- */

/* Whether d has closed for the cohort: at 00:00 local time on *day, the
 * wave's end plus close_days (by default the reminder period). */
static int
closed(const struct conf *c, const struct survey_def *d, const struct roster_cohort *v, size_t n,
    int64_t cohort, int *day)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == cohort && v[i].start > 0) {
			*day = cal_add_days(v[i].start, v[i].weeks * 7 +
			    (d->close_days >= 0 ? d->close_days : d->reminder_days * d->max_reminders));
			return mg_now() >= cal_local(c->sched.cal.tz, *day, 0);
		}
	return 0;
}

static const char q_invite[] =
	"INSERT OR IGNORE INTO survey_invites(survey, cohort_id, participant_id, token, sent)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";
static const char q_invited[] =
	"SELECT 1 FROM survey_invites WHERE survey = ?1 AND cohort_id = ?2 LIMIT 1";
static const char q_due_reminders[] =
	"SELECT i.id, i.token, i.reminders, p.name, p.email, p.id, i.cohort_id, p.first_name"
	" FROM survey_invites i"
	" JOIN participants p ON p.id = i.participant_id"
	" WHERE i.survey = ?1 AND i.answered IS NULL AND i.reminders < ?2"
	" AND coalesce(i.reminded, i.sent) <= ?3 ORDER BY i.id";
static const char q_reminded[] =
	"UPDATE survey_invites SET reminders = reminders + 1, reminded = ?2 WHERE id = ?1";

static char *
invitation(const struct conf *c, const struct survey_def *d, const char *first, const char *token,
    int reminder)
{
	struct buf b = {0};

	buf_printf(&b, "Hello %s,\n\n%s%d short questions about %s. Please answer each from 1 "
	    "(not at all)\nto 5 (very much) by replying to this email:\n\n", first,
	    reminder ? "A reminder: we would still love your answers to these " : "", (int)d->nquestions,
	    c->name);
	for (size_t i = 0; i < d->nquestions; i++)
		buf_printf(&b, "  %zu) %s\n", i + 1, d->questions[i]);
	if (d->free_text)
		buf_printf(&b, "  %zu) %s (in your own words)\n", d->nquestions + 1, d->free_text);
	buf_adds(&b, "\nFor example, reply with:\n\n  ");
	for (size_t i = 0; i < d->nquestions; i++)
		buf_printf(&b, "%s%zu) %d", i ? " " : "", i + 1, 4 - (int)(i % 2));
	buf_adds(&b, "\n\nor just the numbers in order (");
	for (size_t i = 0; i < d->nquestions; i++)
		buf_printf(&b, "%s%d", i ? " " : "", 4 - (int)(i % 2));
	buf_adds(&b, ")");
	if (d->free_text)
		buf_adds(&b, ", and anything you want to add on the lines below");
	buf_adds(&b, ".\n");
	if (d->link) {
		const char *t = strstr(d->link, "{{token}}");
		buf_adds(&b, "\nYou can also answer on the web: ");
		if (t) {
			buf_add(&b, d->link, (size_t)(t - d->link));
			buf_adds(&b, token);
			buf_adds(&b, t + 9);
		} else
			buf_adds(&b, d->link);
		buf_adds(&b, "\n");
	}
	buf_printf(&b, "\nThank you!\nThe %s team\n", c->name);
	return buf_steal(&b);
}

struct inv {
	struct store *s;
	const struct conf *c;
	const struct survey_def *d;
	int64_t cohort;
	int queued;
	enum mg_status rc;
};

static enum mg_status
invite(struct inv *v, const struct roster_person *p)
{
	sqlite3_stmt *st = store_stmt(v->s, q_invite);
	char token[25], *first, *body, *subject, *key, *reply_to;
	enum mg_status rc;

	if (!st)
		return MG_INTERNAL;
	mg_random_token(token, sizeof token);
	store_bind_text(st, 1, v->d->name);
	sqlite3_bind_int64(st, 2, v->cohort);
	sqlite3_bind_int64(st, 3, p->id);
	store_bind_text(st, 4, token);
	sqlite3_bind_int64(st, 5, mg_now());
	if ((rc = store_exec(st)) != MG_OK)
		return rc;
	first = xstrdup(p->first);
	body = invitation(v->c, v->d, first, token, 0);
	subject = xasprintf("%s: %zu quick questions", v->c->name, v->d->nquestions);
	key = xasprintf("survey:%s:%lld:%lld", v->d->name, (long long)v->cohort, (long long)p->id);
	reply_to = xasprintf("%s+survey-%s@%s", v->c->relay_local, token, v->c->relay_domain);
	struct notice n = { key, p->name, p->email, p->id, 0, subject, body, reply_to, NULL, NULL, NULL,
		0, NULL };
	if ((rc = notice_enqueue(v->s, v->c, &n)) == MG_OK)
		v->queued++;
	free(first);
	free(body);
	free(subject);
	free(key);
	free(reply_to);
	return rc;
}

static int
each_pair(const struct roster_pair *p, void *arg)
{
	struct inv *v = arg;

	if (strcmp(p->state, "active") || p->mentee.cohort_id != v->cohort)
		return 0;
	if (v->d->audience & 1)
		v->rc = invite(v, &p->mentee);
	if (v->rc == MG_OK && (v->d->audience & 2))
		v->rc = invite(v, &p->mentor);
	return v->rc != MG_OK;
}

static enum mg_status
reminders(struct store *s, const struct conf *c, const struct survey_def *d,
    const struct roster_cohort *co, size_t nco, int *queued)
{
	sqlite3_stmt *st = store_stmt(s, q_due_reminders);
	enum mg_status rc = MG_OK;
	struct r { int64_t id, pid; char *token, *name, *email, *first; int n; } *v = NULL;
	size_t n = 0;
	int day;

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, d->name);
	sqlite3_bind_int(st, 2, d->max_reminders);
	sqlite3_bind_int64(st, 3, mg_now() - (int64_t)d->reminder_days * 86400);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (closed(c, d, co, nco, sqlite3_column_int64(st, 6), &day))
			continue;
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].token = store_col_text(st, 1);
		v[n].n = sqlite3_column_int(st, 2);
		v[n].name = store_col_text(st, 3);
		v[n].email = store_col_text(st, 4);
		v[n].pid = sqlite3_column_int64(st, 5);
		v[n].first = sqlite3_column_type(st, 7) == SQLITE_NULL ? dname_first(v[n].name) :
		    store_col_text(st, 7);
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		char *first = xstrdup(v[i].first);
		char *body = invitation(c, d, first, v[i].token, 1);
		char *subject = xasprintf("Reminder: %s: %zu quick questions", c->name, d->nquestions);
		char *key = xasprintf("survey-reminder:%lld:%d", (long long)v[i].id, v[i].n + 1);
		char *reply_to = xasprintf("%s+survey-%s@%s", c->relay_local, v[i].token, c->relay_domain);
		struct notice nt = { key, v[i].name, v[i].email, v[i].pid, 0, subject, body, reply_to,
			NULL, NULL, NULL, 0, NULL };
		if ((rc = notice_enqueue(s, c, &nt)) == MG_OK && (st = store_stmt(s, q_reminded))) {
			sqlite3_bind_int64(st, 1, v[i].id);
			sqlite3_bind_int64(st, 2, mg_now());
			if ((rc = store_exec(st)) == MG_OK)
				(*queued)++;
		}
		free(first);
		free(body);
		free(subject);
		free(key);
		free(reply_to);
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].token);
		free(v[i].name);
		free(v[i].email);
		free(v[i].first);
	}
	free(v);
	return rc;
}

enum mg_status
survey_run(struct store *s, const struct conf *c, int *queued)
{
	const struct sched_conf *sc = &c->sched;
	sqlite3_stmt *st;
	enum mg_status rc = MG_OK;
	int64_t now = mg_now();
	int day;

	*queued = 0;
	if (!sc->nsurveys || cal_next_allowed(&sc->cal, now) != now)
		return MG_OK;
	struct roster_cohort *v;
	size_t n;
	if ((rc = roster_cohorts(s, &v, &n)) != MG_OK)
		return rc;
	for (size_t k = 0; k < sc->nsurveys && rc == MG_OK; k++) {
		const struct survey_def *d = &sc->surveys[k];
		if ((rc = store_begin(s)) != MG_OK)
			break;
		for (size_t i = 0; i < n && rc == MG_OK; i++) {
			if (v[i].start <= 0 || d->week > v[i].weeks || now < cal_due(&sc->cal, v[i].start,
			    d->week, 1) || closed(c, d, &v[i], 1, v[i].id, &day))
				continue;
			if (!(st = store_stmt(s, q_invited))) {
				rc = MG_INTERNAL;
				break;
			}
			store_bind_text(st, 1, d->name);
			sqlite3_bind_int64(st, 2, v[i].id);
			int invited = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_reset(st);
			if (invited)
				continue;
			struct inv iv = { s, c, d, v[i].id, 0, MG_OK };
			if ((rc = roster_pairs(s, each_pair, &iv)) == MG_OK)
				rc = iv.rc;
			if (rc == MG_OK) {
				char *detail = xasprintf("survey %s: %d invitations", d->name, iv.queued);
				rc = audit_append(s, "surveyed", 0, 0, NULL, detail);
				free(detail);
				*queued += iv.queued;
			}
		}
		if (rc == MG_OK)
			rc = reminders(s, c, d, v, n, queued);
		if (rc == MG_OK)
			rc = store_commit(s);
		else
			store_rollback(s);
	}
	roster_cohorts_free(v, n);
	return rc;
}

/* --- answers ------------------------------------------------------------ */

static const char q_by_token[] =
	"SELECT i.id, i.survey, i.participant_id, p.email, p.name, i.cohort_id, i.answered IS NOT NULL"
	" FROM survey_invites i"
	" JOIN participants p ON p.id = i.participant_id WHERE i.token = ?1";
static const char q_answer[] =
	"INSERT INTO survey_answers(invite_id, question, score, text, updated) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT(invite_id, question) DO UPDATE SET score = ?3, text = ?4, updated = ?5";
static const char q_answered[] =
	"UPDATE survey_invites SET answered = coalesce(answered, ?2) WHERE id = ?1";
static const char q_scores[] =
	"SELECT question, score FROM survey_answers WHERE invite_id = ?1 AND score IS NOT NULL"
	" ORDER BY question";

static const struct survey_def *
def(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->sched.nsurveys; i++)
		if (!strcmp(c->sched.surveys[i].name, name))
			return &c->sched.surveys[i];
	return NULL;
}

static enum mg_status
store_answer(struct store *s, int64_t invite, int q, int score, const char *text)
{
	sqlite3_stmt *st = store_stmt(s, q_answer);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, invite);
	sqlite3_bind_int(st, 2, q);
	if (score)
		sqlite3_bind_int(st, 3, score);
	else
		sqlite3_bind_null(st, 3);
	store_bind_text(st, 4, text);
	sqlite3_bind_int64(st, 5, mg_now());
	return store_exec(st);
}

/* "please reply again with" an example, then the questions. */
static void
example(struct buf *b, const struct survey_def *d)
{
	buf_printf(b, "%zu numbers from 1 to 5, one for each question, for example:\n\n  ",
	    d->nquestions);
	for (size_t i = 0; i < d->nquestions; i++)
		buf_printf(b, "%s%zu) %d", i ? " " : "", i + 1, 4);
	buf_adds(b, "\n\nThe questions were:\n");
	for (size_t i = 0; i < d->nquestions; i++)
		buf_printf(b, "  %zu) %s\n", i + 1, d->questions[i]);
}

/* Store an answer set for an invite (inside the caller's transaction). */
static enum mg_status
record(struct store *s, int64_t invite, const struct survey_def *d, const int *scores,
    const char *free_text)
{
	enum mg_status rc = MG_OK;
	sqlite3_stmt *st;

	for (size_t i = 0; i < d->nquestions && rc == MG_OK; i++)
		rc = store_answer(s, invite, (int)i + 1, scores[i], NULL);
	if (rc == MG_OK && free_text && d->free_text)
		rc = store_answer(s, invite, (int)d->nquestions + 1, 0, free_text);
	if (rc == MG_OK && (st = store_stmt(s, q_answered))) {
		sqlite3_bind_int64(st, 1, invite);
		sqlite3_bind_int64(st, 2, mg_now());
		rc = store_exec(st);
	}
	return rc;
}

enum mg_status
survey_reply(struct store *s, const struct conf *c, int64_t message, const char *token,
    const struct mime_msg *m)
{
	sqlite3_stmt *st = store_stmt(s, q_by_token);
	char *text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	char *from = mg_lower(m->from.addr ? m->from.addr : ""), *survey = NULL, *email = NULL;
	char *name = NULL, *free_text = NULL, *outcome = NULL, why[200];
	struct buf body = {0};
	int64_t invite = 0, pid = 0, cohort = 0;
	int scores[20], change = 0, answered = 0, day;
	enum mg_status rc;
	const struct survey_def *d = NULL;
	struct roster_cohort *co = NULL;
	size_t nco = 0;

	if (!st) {
		rc = MG_INTERNAL;
		goto out;
	}
	store_bind_text(st, 1, token);
	if (sqlite3_step(st) == SQLITE_ROW) {
		invite = sqlite3_column_int64(st, 0);
		survey = store_col_text(st, 1);
		pid = sqlite3_column_int64(st, 2);
		email = store_col_text(st, 3);
		name = store_col_text(st, 4);
		cohort = sqlite3_column_int64(st, 5);
		answered = sqlite3_column_int(st, 6);
	}
	sqlite3_reset(st);
	if ((rc = roster_cohorts(s, &co, &nco)) != MG_OK || (rc = store_begin(s)) != MG_OK)
		goto out;
	if (!invite || !(d = def(c, survey)) || strcmp(from, email)) {
		/* an unknown token, or somebody else's: nothing recorded, no answer */
		outcome = xasprintf("survey reply from %s refused: %s", from,
		    !invite ? "unknown token" : !d ? "survey no longer configured" : "not the person invited");
	} else if (closed(c, d, co, nco, cohort, &day)) {
		snprintf(why, sizeof why, "%d-%02d-%02d", day / 10000, day / 100 % 100, day % 100);
		outcome = xasprintf("survey %s: too late, closed on %s", d->name, why);
		buf_printf(&body, "Thank you for replying! This survey closed on %s, so we could not "
		    "record your answer.\n\nThank you for taking part.\n", why);
	} else if (survey_parse(text, d->nquestions, scores, &free_text, &change, why, sizeof why) !=
	    MG_OK) {
		outcome = xasprintf("survey %s: answer not understood (%s)", d->name, why);
		buf_printf(&body, "Thank you for replying! We could not read your answer: %s.\n\n"
		    "Please reply again with ", why);
		example(&body, d);
	} else if (change && !answered) {
		outcome = xasprintf("survey %s: CHANGE before any answer", d->name);
		buf_adds(&body, "Thank you for replying! There is no answer to change yet: please "
		    "answer all the\nquestions first. Reply with ");
		example(&body, d);
	} else {
		if (change)
			rc = store_answer(s, invite, scores[0], scores[1], NULL);
		else
			rc = record(s, invite, d, scores, free_text);
		if (rc != MG_OK) {
			store_rollback(s);
			goto out;
		}
		outcome = xasprintf("survey %s: %s", d->name, change ? "changed" : "answered");
		buf_adds(&body, "Thank you! We recorded: ");
		if ((st = store_stmt(s, q_scores))) {
			sqlite3_bind_int64(st, 1, invite);
			while (sqlite3_step(st) == SQLITE_ROW)
				buf_printf(&body, "%d) %d ", sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
			sqlite3_reset(st);
		}
		buf_adds(&body, "\n\nTo correct one, reply CHANGE and the question number and the new "
		    "score,\nfor example: CHANGE 2 3\n");
	}
	rc = store_msg_command(s, message, "survey", outcome, m->from.addr, m->subject, m->text);
	if (rc == MG_OK && body.len) {
		char *key = xasprintf("survey-answer:%lld", (long long)message);
		char *reply_to = xasprintf("%s+survey-%s@%s", c->relay_local, token, c->relay_domain);
		struct notice n = { key, name, email, pid, message, "Your answers", body.s, reply_to, NULL,
			NULL, NULL, 0, NULL };
		rc = notice_answer(s, c, &n);
		free(key);
		free(reply_to);
	}
	if (rc == MG_OK)
		rc = store_commit(s);
	else
		store_rollback(s);
	log_info("survey reply message=%lld outcome=\"%s\"", (long long)message, outcome ? outcome : "");
out:
	free(text);
	free(from);
	free(survey);
	free(email);
	free(name);
	free(free_text);
	free(outcome);
	buf_free(&body);
	roster_cohorts_free(co, nco);
	return rc;
}

static const char q_token_survey[] = "SELECT id, survey FROM survey_invites WHERE token = ?1";

enum mg_status
survey_import(struct store *s, const struct conf *c, const char *path, int *count, struct buf *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, bad = 0;
	enum mg_status rc;

	*count = 0;
	if (!f) {
		buf_printf(err, "%s: cannot open\n", path);
		return MG_NOTFOUND;
	}
	if ((rc = store_begin(s)) != MG_OK) {
		fclose(f);
		return rc;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *fields[24], *p = line;
		int nf = 0;
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (lineno == 1 && !strncasecmp(line, "token", 5))
			continue;	/* the header */
		if (!*line)
			continue;
		while (nf < 24) {
			fields[nf++] = p;
			if (!(p = strchr(p, ',')))
				break;
			*p++ = 0;
		}
		sqlite3_stmt *st = store_stmt(s, q_token_survey);
		int64_t invite = 0;
		char *survey = NULL;
		if (st) {
			store_bind_text(st, 1, fields[0]);
			if (sqlite3_step(st) == SQLITE_ROW) {
				invite = sqlite3_column_int64(st, 0);
				survey = store_col_text(st, 1);
			}
			sqlite3_reset(st);
		}
		const struct survey_def *d = survey ? def(c, survey) : NULL;
		free(survey);
		if (!d) {
			buf_printf(err, "%s:%d: unknown token %s\n", path, lineno, fields[0]);
			bad++;
			continue;
		}
		int scores[20];
		if ((size_t)nf <= d->nquestions) {
			buf_printf(err, "%s:%d: %zu scores expected\n", path, lineno, d->nquestions);
			bad++;
			continue;
		}
		size_t i;
		for (i = 0; i < d->nquestions; i++) {
			char *end;
			long v = strtol(fields[i + 1], &end, 10);
			if (*end || end == fields[i + 1] || v < 1 || v > 5)
				break;
			scores[i] = (int)v;
		}
		if (i < d->nquestions) {
			buf_printf(err, "%s:%d: question %zu: a score from 1 to 5\n", path, lineno, i + 1);
			bad++;
			continue;
		}
		const char *text = (size_t)nf > d->nquestions + 1 ? fields[d->nquestions + 1] : NULL;
		if ((rc = record(s, invite, d, scores, text && *text ? text : NULL)) != MG_OK)
			break;
		(*count)++;
	}
	free(line);
	fclose(f);
	if (bad || rc != MG_OK) {
		store_rollback(s);
		*count = 0;
		return bad ? MG_BADINPUT : rc;
	}
	return store_commit(s);
}
