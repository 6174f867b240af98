/* report: gather a cohort's numbers, then print them three ways. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "calendar.h"
#include "log.h"
#include "notice.h"
#include "report.h"
#include "roster.h"
#include "store_p.h"
#include "survey.h"

#define MAXROWS 64

struct row {
	char *label;
	long long n;
};

struct question {
	char *text;
	int answers, high;	/* answers; answers of 4 or 5 */
	double mean;
};

struct survey_stat {
	char *name;
	int invited, answered;
	struct question q[20];
	size_t nq;
};

struct numbers {
	int64_t cohort;
	char *name, *start;
	int weeks;
	struct row people[MAXROWS];	/* "role / segment" */
	size_t npeople;
	long long pairs, active, to_mentor, to_mentee, prompts, holds;
	double median_hours;		/* < 0: no replies */
	struct survey_stat surveys[8];
	size_t nsurveys;
	struct row flags[MAXROWS];	/* category */
	size_t nflags;
};

static const char q_cohort[] = "SELECT id, start_date, weeks FROM cohorts WHERE name = ?1";
static const char q_people[] =
	"SELECT role || ' / ' || coalesce(nullif(segment, ''), '-'), count(*) FROM participants"
	" WHERE cohort_id = ?1 GROUP BY role, segment ORDER BY role, segment";
static const char q_pairs[] =
	"SELECT count(*) FROM pairs p JOIN participants a ON a.id = p.mentee_id WHERE a.cohort_id = ?1";
#define COHORT_MESSAGES \
	" FROM messages m JOIN pairs p ON p.id = m.pair_id JOIN participants a ON a.id = p.mentee_id" \
	" WHERE a.cohort_id = ?1"
static const char q_active[] =
	"SELECT count(*) FROM (SELECT m.pair_id" COHORT_MESSAGES " AND m.state = 'relayed'"
	" GROUP BY m.pair_id HAVING count(DISTINCT m.author_id) = 2)";
static const char q_each_way[] =
	"SELECT sum(m.author_id = p.mentee_id), sum(m.author_id = p.mentor_id)" COHORT_MESSAGES
	" AND m.state = 'relayed'";
/* each relayed message and the first later one from the other side */
static const char q_replies[] =
	"SELECT (SELECT min(r.received) FROM messages r WHERE r.pair_id = m.pair_id AND"
	" r.state = 'relayed' AND r.author_id <> m.author_id AND r.received >= m.received)"
	" - m.received" COHORT_MESSAGES " AND m.state = 'relayed'";
static const char q_prompts[] =
	"SELECT count(*) FROM outbox WHERE state = 'sent' AND dedupe_key LIKE 'prompt:' || ?1 || ':%'";
static const char q_holds[] = "SELECT count(*) FROM holds h JOIN messages m ON m.id = h.message"
	" JOIN pairs p ON p.id = m.pair_id JOIN participants a ON a.id = p.mentee_id"
	" WHERE a.cohort_id = ?1";
static const char q_flags[] =
	"SELECT f.category, count(DISTINCT f.message) FROM flags f JOIN messages m ON m.id = f.message"
	" JOIN pairs p ON p.id = m.pair_id JOIN participants a ON a.id = p.mentee_id"
	" WHERE a.cohort_id = ?1 GROUP BY f.category ORDER BY f.category";
static const char q_invites[] =
	"SELECT count(*), count(answered) FROM survey_invites WHERE survey = ?1 AND cohort_id = ?2";
static const char q_question[] =
	"SELECT count(a.score), avg(a.score), sum(a.score >= 4) FROM survey_answers a"
	" JOIN survey_invites i ON i.id = a.invite_id WHERE i.survey = ?1 AND i.cohort_id = ?2"
	" AND a.question = ?3 AND a.score IS NOT NULL AND i.answered IS NOT NULL";

static long long
one(struct store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	long long v = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

static size_t
rows(struct store *s, const char *sql, int64_t id, struct row *out)
{
	sqlite3_stmt *st = store_stmt(s, sql);
	size_t n = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	while (n < MAXROWS && sqlite3_step(st) == SQLITE_ROW) {
		out[n].label = store_col_text(st, 0);
		out[n].n = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_reset(st);
	return n;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static enum mg_status
gather(struct store *s, const struct conf *c, const char *name, struct numbers *nb)
{
	sqlite3_stmt *st = store_stmt(s, q_cohort);
	long long *gaps = NULL;
	size_t ng = 0;

	memset(nb, 0, sizeof *nb);
	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return MG_NOTFOUND;
	}
	nb->cohort = sqlite3_column_int64(st, 0);
	nb->start = store_col_text(st, 1);
	nb->weeks = sqlite3_column_int(st, 2);
	sqlite3_reset(st);
	nb->name = xstrdup(name);
	nb->npeople = rows(s, q_people, nb->cohort, nb->people);
	nb->pairs = one(s, q_pairs, nb->cohort);
	nb->active = one(s, q_active, nb->cohort);
	if ((st = store_stmt(s, q_each_way))) {
		sqlite3_bind_int64(st, 1, nb->cohort);
		if (sqlite3_step(st) == SQLITE_ROW) {
			nb->to_mentor = sqlite3_column_int64(st, 0);
			nb->to_mentee = sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
	}
	if ((st = store_stmt(s, q_replies))) {
		sqlite3_bind_int64(st, 1, nb->cohort);
		while (sqlite3_step(st) == SQLITE_ROW)
			if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
				gaps = xrealloc(gaps, (ng + 1) * sizeof *gaps);
				gaps[ng++] = sqlite3_column_int64(st, 0);
			}
		sqlite3_reset(st);
	}
	nb->median_hours = -1;
	if (ng) {
		qsort(gaps, ng, sizeof *gaps, cmp_ll);
		double med = ng % 2 ? (double)gaps[ng / 2] : (gaps[ng / 2 - 1] + gaps[ng / 2]) / 2.0;
		nb->median_hours = med / 3600.0;
	}
	free(gaps);
	if ((st = store_stmt(s, q_prompts))) {
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)nb->cohort);
		store_bind_text(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			nb->prompts = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	nb->holds = one(s, q_holds, nb->cohort);
	nb->nflags = rows(s, q_flags, nb->cohort, nb->flags);
	for (size_t k = 0; k < c->sched.nsurveys && nb->nsurveys < 8; k++) {
		const struct survey_def *d = &c->sched.surveys[k];
		struct survey_stat *ss = &nb->surveys[nb->nsurveys++];
		ss->name = xstrdup(d->name);
		if ((st = store_stmt(s, q_invites))) {
			store_bind_text(st, 1, d->name);
			sqlite3_bind_int64(st, 2, nb->cohort);
			if (sqlite3_step(st) == SQLITE_ROW) {
				ss->invited = sqlite3_column_int(st, 0);
				ss->answered = sqlite3_column_int(st, 1);
			}
			sqlite3_reset(st);
		}
		for (size_t q = 0; q < d->nquestions && q < 20; q++) {
			struct question *qq = &ss->q[ss->nq++];
			qq->text = xstrdup(d->questions[q]);
			if ((st = store_stmt(s, q_question))) {
				store_bind_text(st, 1, d->name);
				sqlite3_bind_int64(st, 2, nb->cohort);
				sqlite3_bind_int(st, 3, (int)q + 1);
				if (sqlite3_step(st) == SQLITE_ROW) {
					qq->answers = sqlite3_column_int(st, 0);
					qq->mean = sqlite3_column_double(st, 1);
					qq->high = sqlite3_column_int(st, 2);
				}
				sqlite3_reset(st);
			}
		}
	}
	return MG_OK;
}

static void
numbers_free(struct numbers *nb)
{
	free(nb->name);
	free(nb->start);
	for (size_t i = 0; i < nb->npeople; i++)
		free(nb->people[i].label);
	for (size_t i = 0; i < nb->nflags; i++)
		free(nb->flags[i].label);
	for (size_t i = 0; i < nb->nsurveys; i++) {
		free(nb->surveys[i].name);
		for (size_t q = 0; q < nb->surveys[i].nq; q++)
			free(nb->surveys[i].q[q].text);
	}
}

static double
pct(int part, int whole)
{
	return whole ? 100.0 * part / whole : 0.0;
}

/* --- text and csv ------------------------------------------------------- */

static void
text(FILE *f, const struct conf *c, const struct numbers *nb)
{
	fprintf(f, "%s: cohort %s (from %s, %d weeks)\n\n", c->name, nb->name, nb->start, nb->weeks);
	fprintf(f, "Participants\n");
	for (size_t i = 0; i < nb->npeople; i++)
		fprintf(f, "  %-28s %lld\n", nb->people[i].label, nb->people[i].n);
	fprintf(f, "\nPairs                          %lld\n", nb->pairs);
	fprintf(f, "Active pairs (both wrote)      %lld\n", nb->active);
	fprintf(f, "Messages mentee to mentor      %lld\n", nb->to_mentor);
	fprintf(f, "Messages mentor to mentee      %lld\n", nb->to_mentee);
	if (nb->median_hours >= 0)
		fprintf(f, "Median time to a reply         %.1f hours\n", nb->median_hours);
	else
		fprintf(f, "Median time to a reply         no replies yet\n");
	fprintf(f, "Prompts sent                   %lld\n", nb->prompts);
	fprintf(f, "Messages held                  %lld\n", nb->holds);
	fprintf(f, "\nFlags by category (messages)\n");
	if (!nb->nflags)
		fprintf(f, "  none\n");
	for (size_t i = 0; i < nb->nflags; i++)
		fprintf(f, "  %-28s %lld\n", nb->flags[i].label, nb->flags[i].n);
	for (size_t i = 0; i < nb->nsurveys; i++) {
		const struct survey_stat *ss = &nb->surveys[i];
		fprintf(f, "\nSurvey %s: %d of %d answered (%.0f%%)\n", ss->name, ss->answered, ss->invited,
		    pct(ss->answered, ss->invited));
		for (size_t q = 0; q < ss->nq; q++)
			fprintf(f, "  %zu) %s\n     mean %.2f / 5, %.0f%% answered 4 or 5 (%d answers)\n", q + 1,
			    ss->q[q].text, ss->q[q].mean, pct(ss->q[q].high, ss->q[q].answers),
			    ss->q[q].answers);
	}
}

static void
csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void
csv(FILE *f, const struct numbers *nb)
{
	fputs("section,item,value\n", f);
	for (size_t i = 0; i < nb->npeople; i++) {
		fputs("participants,", f);
		csv_field(f, nb->people[i].label);
		fprintf(f, ",%lld\n", nb->people[i].n);
	}
	fprintf(f, "pairs,pairs,%lld\npairs,active,%lld\nmessages,mentee to mentor,%lld\n"
	    "messages,mentor to mentee,%lld\n", nb->pairs, nb->active, nb->to_mentor, nb->to_mentee);
	if (nb->median_hours >= 0)
		fprintf(f, "messages,median reply hours,%.2f\n", nb->median_hours);
	fprintf(f, "prompts,sent,%lld\nholds,held,%lld\n", nb->prompts, nb->holds);
	for (size_t i = 0; i < nb->nflags; i++)
		fprintf(f, "flags,%s,%lld\n", nb->flags[i].label, nb->flags[i].n);
	for (size_t i = 0; i < nb->nsurveys; i++) {
		const struct survey_stat *ss = &nb->surveys[i];
		fprintf(f, "survey %s,invited,%d\nsurvey %s,answered,%d\nsurvey %s,response rate %%,%.2f\n",
		    ss->name, ss->invited, ss->name, ss->answered, ss->name, pct(ss->answered, ss->invited));
		for (size_t q = 0; q < ss->nq; q++) {
			char item[64];
			snprintf(item, sizeof item, "survey %s", ss->name);
			fprintf(f, "%s,q%zu mean,%.2f\n%s,q%zu share 4 or 5 %%,%.2f\n", item, q + 1,
			    ss->q[q].mean, item, q + 1, pct(ss->q[q].high, ss->q[q].answers));
		}
	}
}

/* --- html ------------------------------------------------------------------ */

static void
esc(FILE *f, const char *s)
{
	if (!s)		/* a label SQLite could not give (out of memory) */
		return;
	for (; *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

/* a horizontal bar chart: labels, values, the value shown as text */
static void
bars(FILE *f, const char *const *labels, const double *values, const char *const *shown, size_t n,
    double max)
{
	int h = 24, w = 560, lw = 240;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" role=\"img\">\n",
	    w, n * (size_t)h + 4);
	for (size_t i = 0; i < n; i++) {
		double len = max > 0 ? (values[i] / max) * (w - lw - 60) : 0;
		fprintf(f, "<text x=\"0\" y=\"%zu\" font-size=\"13\">", i * (size_t)h + 16);
		esc(f, labels[i]);
		fprintf(f, "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"#005eb8\"/>"
		    "<text x=\"%.1f\" y=\"%zu\" font-size=\"13\">", lw, i * (size_t)h + 4, len,
		    lw + len + 6, i * (size_t)h + 16);
		esc(f, shown[i]);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}

static void
html(FILE *f, const struct conf *c, const struct numbers *nb)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>", f);
	esc(f, c->name);
	fputs("</title><style>body{font-family:sans-serif;max-width:44em;margin:auto;color:#212b32}"
	    "td{padding:2px 12px 2px 0}h1{color:#005eb8}</style></head><body>\n<h1>", f);
	esc(f, c->name);
	fputs(": cohort ", f);
	esc(f, nb->name);
	fprintf(f, "</h1>\n<p>From %s, %d weeks.</p>\n<h2>Participants</h2>\n<table>\n", nb->start,
	    nb->weeks);
	for (size_t i = 0; i < nb->npeople; i++) {
		fputs("<tr><td>", f);
		esc(f, nb->people[i].label);
		fprintf(f, "</td><td>%lld</td></tr>\n", nb->people[i].n);
	}
	fprintf(f, "</table>\n<h2>Activity</h2>\n<table>\n<tr><td>Pairs</td><td>%lld</td></tr>\n"
	    "<tr><td>Active pairs (both wrote)</td><td>%lld</td></tr>\n"
	    "<tr><td>Prompts sent</td><td>%lld</td></tr>\n<tr><td>Messages held</td><td>%lld</td></tr>\n",
	    nb->pairs, nb->active, nb->prompts, nb->holds);
	if (nb->median_hours >= 0)
		fprintf(f, "<tr><td>Median time to a reply</td><td>%.1f hours</td></tr>\n", nb->median_hours);
	fputs("</table>\n", f);
	{
		const char *labels[] = { "Mentee to mentor", "Mentor to mentee" };
		double v[] = { (double)nb->to_mentor, (double)nb->to_mentee };
		char a[24], b[24];
		snprintf(a, sizeof a, "%lld", nb->to_mentor);
		snprintf(b, sizeof b, "%lld", nb->to_mentee);
		const char *shown[] = { a, b };
		fputs("<h2>Messages each way</h2>\n", f);
		bars(f, labels, v, shown, 2, v[0] > v[1] ? v[0] : v[1]);
	}
	for (size_t i = 0; i < nb->nsurveys; i++) {
		const struct survey_stat *ss = &nb->surveys[i];
		const char *labels[20], *shown[20];
		double v[20];
		char buf[20][32];
		fputs("<h2>Survey ", f);
		esc(f, ss->name);
		fprintf(f, "</h2>\n<p>%d of %d answered (%.0f%%).</p>\n", ss->answered, ss->invited,
		    pct(ss->answered, ss->invited));
		for (size_t q = 0; q < ss->nq; q++) {
			labels[q] = ss->q[q].text;
			v[q] = ss->q[q].mean;
			snprintf(buf[q], sizeof buf[q], "%.2f / 5 (%.0f%% 4-5)", ss->q[q].mean,
			    pct(ss->q[q].high, ss->q[q].answers));
			shown[q] = buf[q];
		}
		bars(f, labels, v, shown, ss->nq, 5.0);
	}
	fputs("<h2>Flags by category</h2>\n<table>\n", f);
	if (!nb->nflags)
		fputs("<tr><td>none</td></tr>\n", f);
	for (size_t i = 0; i < nb->nflags; i++) {
		fputs("<tr><td>", f);
		esc(f, nb->flags[i].label);
		fprintf(f, "</td><td>%lld</td></tr>\n", nb->flags[i].n);
	}
	fputs("</table>\n</body></html>\n", f);
}

enum mg_status
report_write(struct store *s, const struct conf *c, const char *name, enum report_format fmt,
    FILE *f)
{
	struct numbers nb;
	enum mg_status rc = gather(s, c, name, &nb);

	if (rc == MG_OK) {
		if (fmt == REPORT_CSV)
			csv(f, &nb);
		else if (fmt == REPORT_HTML)
			html(f, c, &nb);
		else
			text(f, c, &nb);
	}
	numbers_free(&nb);
	return rc == MG_OK && ferror(f) ? MG_TEMPFAIL : rc;
}

static const char q_reported[] =
	"SELECT count(*) FROM sched_done WHERE cohort_id = ?1 AND send_key = 'report'";
static const char q_mark_reported[] =
	"INSERT INTO sched_done(cohort_id, send_key, done_at, skipped) VALUES (?1, 'report', ?2, 0)";

enum mg_status
report_run(struct store *s, const struct conf *c, int *queued)
{
	sqlite3_stmt *st;
	struct roster_cohort *v;
	size_t n;
	enum mg_status rc;
	int64_t now = mg_now();

	*queued = 0;
	if (!c->sched.n || !c->ncoordinators)
		return MG_OK;
	if ((rc = roster_cohorts(s, &v, &n)) != MG_OK)
		return rc;
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		if (v[i].start <= 0 || now < cal_due(&c->sched.cal, v[i].start, v[i].weeks + 1, 1))
			continue;	/* the day after the last week, at the send hour */
		if (one(s, q_reported, v[i].id))
			continue;
		char *body = NULL, *page = NULL, *key, *subject;
		size_t bl = 0, pl = 0;
		FILE *fb = open_memstream(&body, &bl), *fp = open_memstream(&page, &pl);
		if (!fb || !fp) {
			if (fb)
				fclose(fb);
			if (fp)
				fclose(fp);
			free(body);
			free(page);
			rc = MG_TEMPFAIL;
			break;
		}
		report_write(s, c, v[i].name, REPORT_TEXT, fb);
		report_write(s, c, v[i].name, REPORT_HTML, fp);
		fclose(fb);
		fclose(fp);
		key = xasprintf("report:%lld", (long long)v[i].id);
		subject = xasprintf("[%s] end-of-wave report: %s", c->name, v[i].name);
		if ((rc = store_begin(s)) == MG_OK) {
			for (size_t k = 0; k < c->ncoordinators && rc == MG_OK; k++) {
				char *kk = xasprintf("%s:%s", key, c->coordinators[k]);
				struct notice nt = { kk, NULL, c->coordinators[k], 0, 0, subject, body, NULL, NULL,
					NULL, NULL, 0, page };
				rc = notice_enqueue(s, c, &nt);
				free(kk);
			}
			if (rc == MG_OK && (st = store_stmt(s, q_mark_reported))) {
				sqlite3_bind_int64(st, 1, v[i].id);
				sqlite3_bind_int64(st, 2, now);
				rc = store_exec(st);
			}
			if (rc == MG_OK)
				rc = store_commit(s);
			else
				store_rollback(s);
		}
		if (rc == MG_OK) {
			(*queued)++;
			log_info("report mailed cohort=%s", v[i].name);
		}
		free(key);
		free(subject);
		free(body);
		free(page);
	}
	roster_cohorts_free(v, n);
	return rc;
}
