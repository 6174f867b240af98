/* spotcheck: a weighted sample of what screening passed, for a second look. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "audit.h"
#include "calendar.h"
#include "decider.h"
#include "log.h"
#include "notice.h"
#include "pairscore.h"
#include "reply.h"
#include "roster.h"
#include "screen.h"
#include "spotcheck.h"
#include "store_p.h"

static const char q_risk[] =
	"SELECT p.created, r.role, m.received, coalesce(m.attachments, '') <> '',"
	" CASE WHEN r.role = 'mentee' THEN r.born ELSE a.born END, m.pair_id, m.author_id"
	" FROM messages m JOIN pairs p ON p.id = m.pair_id"
	" JOIN participants r ON r.id = m.recipient_id JOIN participants a ON a.id = m.author_id"
	" WHERE m.id = ?1";
static const char q_add[] =
	"INSERT INTO spotchecks(message, token, chance, created) VALUES (?1, ?2, ?3, ?4)";
static const char q_get[] = "SELECT message, verdict FROM spotchecks WHERE token = ?1";
static const char q_verdict[] =
	"UPDATE spotchecks SET verdict = ?2, category = ?3, decided_by = ?4, decided = ?5"
	" WHERE token = ?1 AND verdict IS NULL";
static const char q_list[] =
	"SELECT id, message, created, chance, coalesce(verdict, '-'), coalesce(category, ''),"
	" coalesce(decided_by, '') FROM spotchecks ORDER BY id";
static const char q_misses[] =
	"SELECT s.message, s.category, r.raw FROM spotchecks s JOIN message_raw r ON r.id = s.message"
	" WHERE s.verdict = 'missed' ORDER BY s.id";

static const char *const categories[] = {
	"contact-phone", "contact-email", "social", "address", "meeting", "money", "risk", "abuse",
};

double
spotcheck_chance(int percent, const struct spotcheck_risk *r)
{
	/* each sign of risk counts once more: at most seven times the share */
	double w = 1 + !!r->new_pair + !!r->to_mentee + !!r->late + !!r->attachments + !!r->minor +
	    !!r->rising;
	double p = percent / 100.0 * w;

	return percent <= 0 ? 0 : p > 1 ? 1 : p;
}

static double
uniform(void)
{
	uint32_t u = 0;

	if (gnutls_rnd(GNUTLS_RND_NONCE, &u, sizeof u) != 0)
		u = (uint32_t)random();
	return u / 4294967296.0;
}

static enum mg_status
risk_of(struct store *s, const struct conf *c, int64_t message, struct spotcheck_risk *r)
{
	sqlite3_stmt *st = store_stmt(s, q_risk);
	int64_t pair = 0, author = 0;
	int rc;

	memset(r, 0, sizeof *r);
	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, message);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 2);
		const char *tz = c->sched.cal.tz;
		int hour = (int)((t - cal_local(tz, cal_ymd(tz, t), 0)) / 3600);
		r->new_pair = t - sqlite3_column_int64(st, 0) < 14 * 86400;
		r->to_mentee = !strcmp((const char *)sqlite3_column_text(st, 1), "mentee");
		r->late = hour >= 22 || hour < 6;
		r->attachments = sqlite3_column_int(st, 3);
		const char *born = (const char *)sqlite3_column_text(st, 4);
		int last = born ? roster_born(born, t) : -1;
		r->minor = last > 0 && cal_ymd(tz, t) < last + 180000;
		pair = sqlite3_column_int64(st, 5);
		author = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? MG_OK : store_status(rc);
	int n = pairscore_past(s, pair, author, 0);	/* this message too */
	if (n < 0)
		return MG_INTERNAL;
	r->rising = n > 0;
	return MG_OK;
}

enum mg_status
spotcheck_maybe(struct store *s, const struct conf *c, int64_t message,
    const struct moderate_info *mi)
{
	struct spotcheck_risk r;
	struct deciders dc;
	sqlite3_stmt *st;
	char token[25], *reply_to, *summary, *subject, *body;
	enum mg_status rc;
	double chance;

	if (c->spotcheck_percent <= 0)
		return MG_OK;
	if ((rc = risk_of(s, c, message, &r)) != MG_OK)
		return rc;
	chance = spotcheck_chance(c->spotcheck_percent, &r);
	if (uniform() >= chance)
		return MG_OK;
	if (!(st = store_stmt(s, q_add)))
		return MG_INTERNAL;
	mg_random_token(token, sizeof token);
	sqlite3_bind_int64(st, 1, message);
	store_bind_text(st, 2, token);
	sqlite3_bind_double(st, 3, chance);
	sqlite3_bind_int64(st, 4, mg_now());
	if ((rc = store_exec(st)) != MG_OK || (rc = decider_list(s, c, message, &dc)) != MG_OK)
		return rc;
	reply_to = xasprintf("%s+spot-%s@%s", c->relay_local, token, c->relay_domain);
	summary = moderate_summary(mi);
	subject = xasprintf("[%s] spot check: a relayed message for a second look", c->name);
	body = xasprintf("This message passed screening and was relayed. It is one of a share\n"
	    "of relayed messages (%d%%, more for new pairs, mentors writing to mentees,\n"
	    "mentees under 18, late-night sends, attachments and an author whose\n"
	    "messages to this pair set off warning signs lately) shown to a coordinator\n"
	    "for a second look.\n\n"
	    "%s\n\n"
	    "Reply to this email with one of these on the first line:\n\n"
	    "  ok                 nothing was missed\n"
	    "  missed CATEGORY    screening should have held it; CATEGORY is one of\n"
	    "                     %s\n\n"
	    "A miss is kept as a case the rules are checked against (mentorctl rules replay).\n",
	    c->spotcheck_percent, summary, RULES_CATEGORIES);
	for (size_t i = 0; i < dc.n && rc == MG_OK; i++) {
		char *key = xasprintf("spot:%lld:%s", (long long)message, dc.v[i]);
		struct notice n = { key, NULL, dc.v[i], 0, message, subject, body, reply_to,
			NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &n);
		free(key);
	}
	if (rc == MG_OK)
		log_info("spotcheck message=%lld chance=%.3f mailed=%zu", (long long)message, chance,
		    dc.n);
	decider_clear(&dc);
	free(reply_to);
	free(summary);
	free(subject);
	free(body);
	return rc;
}

/* "ok", or "missed CATEGORY": the first line alone; 0 for anything else */
static int
verdict(const char *text, const char **cat)
{
	const char *p = text, *e;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strcspn(p, "\n");
	while (e > p && (isspace((unsigned char)e[-1]) || e[-1] == '.'))
		e--;
	n = (size_t)(e - p);
	*cat = NULL;
	if (n == 2 && !strncasecmp(p, "ok", 2))
		return 1;
	if (n > 7 && !strncasecmp(p, "missed ", 7)) {
		for (p += 7; *p == ' '; p++)
			;
		for (size_t i = 0; i < sizeof categories / sizeof *categories; i++)
			if ((size_t)(e - p) == strlen(categories[i]) &&
			    !strncasecmp(p, categories[i], strlen(categories[i]))) {
				*cat = categories[i];
				return 1;
			}
	}
	return 0;
}

static enum mg_status
answer(struct store *s, const struct conf *c, int64_t message, const char *to, const char *body)
{
	char *key = xasprintf("spot-answer:%lld", (long long)message);
	struct notice n = { key, NULL, to, 0, message, "About your spot-check reply", body, NULL,
		NULL, NULL, NULL, 0, NULL };
	enum mg_status rc = notice_answer(s, c, &n);

	free(key);
	return rc;
}

enum mg_status
spotcheck_reply(struct store *s, const struct conf *c, int64_t message, const char *token,
    const struct mime_msg *m)
{
	char *from = mg_lower(m->from.addr ? m->from.addr : "");
	char *text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	char *outcome = NULL;
	const char *cat = NULL, *help = NULL;
	sqlite3_stmt *st;
	int64_t checked = 0;
	int rc2, open = 0;
	enum mg_status rc;

	if ((rc = store_begin(s)) != MG_OK)
		goto out;
	if (!(st = store_stmt(s, q_get))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	store_bind_text(st, 1, token);
	if ((rc2 = sqlite3_step(st)) == SQLITE_ROW) {
		checked = sqlite3_column_int64(st, 0);
		open = sqlite3_column_type(st, 1) == SQLITE_NULL;
	}
	sqlite3_reset(st);
	if (rc2 != SQLITE_ROW && rc2 != SQLITE_DONE) {
		rc = store_status(rc2);
		goto fail;
	}
	if (!checked || !decider_may(c, from) || decider_concerns(s, checked, from)) {
		/* no answer: the sender may be forged */
		outcome = xasprintf("spot-check reply from %s refused: %s", from,
		    checked ? "not one who may decide it" : "no such spot check");
	} else if (!verdict(text, &cat)) {
		outcome = xstrdup("spot-check reply without a verdict: answered with help");
		help = "Nothing was recorded. Put one of these on the first line of your reply:\n\n"
		    "  ok\n  missed CATEGORY   (" RULES_CATEGORIES ")\n";
	} else if (!open) {
		outcome = xstrdup("spot-check reply: already answered");
		help = "Thank you. This spot check had already been answered; nothing changed.\n";
	} else {
		if (!(st = store_stmt(s, q_verdict))) {
			rc = MG_INTERNAL;
			goto fail;
		}
		store_bind_text(st, 1, token);
		store_bind_text(st, 2, cat ? "missed" : "ok");
		store_bind_text(st, 3, cat);
		store_bind_text(st, 4, from);
		sqlite3_bind_int64(st, 5, mg_now());
		outcome = xasprintf("spot check: %s%s by %s", cat ? "missed " : "ok", cat ? cat : "",
		    from);
		if ((rc = store_exec(st)) != MG_OK ||
		    (rc = audit_append(s, "spotcheck", checked, 0, from, outcome)) != MG_OK)
			goto fail;
	}
	if ((rc = store_msg_command(s, message, "spotcheck", outcome, m->from.addr, m->subject,
	    m->text)) != MG_OK || (help && (rc = answer(s, c, message, from, help)) != MG_OK))
		goto fail;
	rc = store_commit(s);
	log_info("spotcheck reply message=%lld outcome=\"%s\"", (long long)message, outcome);
	goto out;
fail:
	store_rollback(s);
out:
	free(from);
	free(text);
	free(outcome);
	return rc;
}

enum mg_status
spotcheck_list(struct store *s, FILE *out)
{
	sqlite3_stmt *st = store_stmt(s, q_list);
	int rc;

	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "%lld\tmessage=%lld\tcreated=%lld\tchance=%.3f\t%s%s%s%s%s\n",
		    (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
		    (long long)sqlite3_column_int64(st, 2), sqlite3_column_double(st, 3),
		    sqlite3_column_text(st, 4), *sqlite3_column_text(st, 5) ? " " : "",
		    sqlite3_column_text(st, 5), *sqlite3_column_text(st, 6) ? "\tby=" : "",
		    sqlite3_column_text(st, 6));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

enum mg_status
spotcheck_replay(struct store *s, const struct rules *rs, FILE *out, int *missed)
{
	sqlite3_stmt *st = store_stmt(s, q_misses);
	int rc, n = 0;

	*missed = 0;
	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cat = (const char *)sqlite3_column_text(st, 1);
		struct mime_msg *m = mime_parse(sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2));
		char *text = screen_message_text(m);
		struct screen_hit *h;
		size_t nh = screen_text(rs, text, strlen(text), &h);
		int caught = 0;
		for (size_t i = 0; i < nh; i++)
			caught |= cat && !strcmp(h[i].rule->category, cat) &&
			    h[i].rule->action != RULE_FLAG;
		fprintf(out, "spot-check miss: message %lld %s: %s\n",
		    (long long)sqlite3_column_int64(st, 0), cat ? cat : "?",
		    caught ? "caught now" : "still missed");
		*missed += !caught;
		n++;
		free(h);
		free(text);
		mime_free(m);
	}
	sqlite3_reset(st);
	if (n)
		fprintf(out, "spot-check misses: %d, still missed: %d\n", n, *missed);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}
