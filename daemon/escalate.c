/* escalate: the safeguarding list first, then the chain, one step each
 * escalation_minutes, until "ack". */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "escalate.h"
#include "log.h"
#include "decider.h"
#include "notice.h"
#include "reply.h"
#include "store_p.h"

static const char q_add[] =
	"INSERT INTO escalations(message, token, summary, step, next_at, created)"
	" VALUES (?1, ?2, ?3, 0, ?4, ?5)";
static const char q_due[] =
	"SELECT id, message, token, summary, step FROM escalations"
	" WHERE acked IS NULL AND exhausted = 0 AND next_at <= ?1 ORDER BY id";
static const char q_step[] =
	"UPDATE escalations SET step = ?2, next_at = ?3, exhausted = ?4 WHERE id = ?1";
static const char q_open[] = "SELECT 1 FROM escalations WHERE token = ?1 AND acked IS NULL";
static const char q_ack[] =
	"UPDATE escalations SET acked = ?2, acked_by = ?3 WHERE token = ?1 AND acked IS NULL";

/* Mail step's recipients: step 0 the safeguarding list, step k the k-th
 * address of the chain. */
static enum mg_status
mail_step(struct store *s, const struct conf *c, int64_t message, const char *token,
    const char *summary, int step)
{
	char *reply_to = xasprintf("%s+esc-%s@%s", c->relay_local, token, c->relay_domain);
	char *subject = xasprintf("[%s] URGENT safeguarding escalation%s", c->name,
	    step ? " (not yet acknowledged)" : "");
	char *body = xasprintf("A message has been held because it may show a child or young\n"
	    "person at risk. It has not reached anyone else.\n\n%s\n\n"
	    "Reply to this email with \"ack\" on the first line when you are dealing with\n"
	    "it. Until someone does, it goes to the next person on the escalation list\n"
	    "every %d minutes.%s\n",
	    summary, c->escalation_minutes,
	    step ? "\n\nEarlier steps were not acknowledged in time." : "");
	enum mg_status rc = MG_OK;

	/* (never to one the message concerns: a safeguarding lead who is
	 * also in the pair is passed over) */
	if (step == 0) {
		for (size_t i = 0; i < c->nsafeguarding && rc == MG_OK; i++) {
			if (decider_concerns(s, message, c->safeguarding[i]))
				continue;
			char *key = xasprintf("esc:%s:0:%s", token, c->safeguarding[i]);
			struct notice n = { key, NULL, c->safeguarding[i], 0, message, subject, body,
				reply_to, NULL, NULL, NULL, 0, NULL };
			rc = notice_enqueue(s, c, &n);
			free(key);
		}
	} else if ((size_t)step <= c->nchain && !decider_concerns(s, message, c->chain[step - 1])) {
		char *key = xasprintf("esc:%s:%d", token, step);
		struct notice n = { key, NULL, c->chain[step - 1], 0, message, subject, body, reply_to,
			NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &n);
		free(key);
	}
	free(reply_to);
	free(subject);
	free(body);
	return rc;
}

enum mg_status
escalate_start(struct store *s, const struct conf *c, int64_t message, const char *summary)
{
	sqlite3_stmt *st = store_stmt(s, q_add);
	char token[25];
	enum mg_status rc;

	if (!st)
		return MG_INTERNAL;
	mg_random_token(token, sizeof token);
	sqlite3_bind_int64(st, 1, message);
	store_bind_text(st, 2, token);
	store_bind_text(st, 3, summary);
	sqlite3_bind_int64(st, 4, mg_now() + (int64_t)c->escalation_minutes * 60);
	sqlite3_bind_int64(st, 5, mg_now());
	if ((rc = store_exec(st)) != MG_OK)
		return rc == MG_DUPLICATE ? MG_OK : rc;
	if ((rc = mail_step(s, c, message, token, summary, 0)) == MG_OK)
		rc = audit_append(s, "escalated", message, 0, NULL, "to the safeguarding list");
	if (rc == MG_OK)
		log_warn("escalate start message=%lld to=%zu", (long long)message, c->nsafeguarding);
	return rc;
}

enum mg_status
escalate_due(struct store *s, const struct conf *c, int *stepped)
{
	sqlite3_stmt *st;
	enum mg_status rc;
	int r;

	*stepped = 0;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_due))) {
		store_rollback(s);
		return MG_INTERNAL;
	}
	sqlite3_bind_int64(st, 1, mg_now());
	struct due { int64_t id, message; char *token, *summary; int step; } *v = NULL;
	size_t n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].message = sqlite3_column_int64(st, 1);
		v[n].token = store_col_text(st, 2);
		v[n].summary = store_col_text(st, 3);
		v[n].step = sqlite3_column_int(st, 4);
		n++;
	}
	sqlite3_reset(st);
	rc = r == SQLITE_DONE ? MG_OK : store_status(r);
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		int next = v[i].step + 1, exhausted = (size_t)next > c->nchain;
		if (!exhausted)
			rc = mail_step(s, c, v[i].message, v[i].token, v[i].summary, next);
		if (rc == MG_OK && (st = store_stmt(s, q_step))) {
			sqlite3_bind_int64(st, 1, v[i].id);
			sqlite3_bind_int(st, 2, exhausted ? v[i].step : next);
			sqlite3_bind_int64(st, 3, mg_now() + (int64_t)c->escalation_minutes * 60);
			sqlite3_bind_int(st, 4, exhausted);
			rc = store_exec(st);
		}
		if (rc == MG_OK) {
			char *detail = exhausted ? xstrdup("chain exhausted: nobody acknowledged") :
			    xasprintf("step %d to %s", next, c->chain[next - 1]);
			rc = audit_append(s, "escalated", v[i].message, 0, NULL, detail);
			free(detail);
		}
		if (rc == MG_OK && exhausted)
			log_err("escalate exhausted message=%lld: nobody acknowledged", (long long)v[i].message);
		else if (rc == MG_OK) {
			log_warn("escalate step message=%lld step=%d to=%s", (long long)v[i].message, next,
			    c->chain[next - 1]);
			(*stepped)++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].token);
		free(v[i].summary);
	}
	free(v);
	if (rc != MG_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

static const char q_message[] = "SELECT message FROM escalations WHERE token = ?1";

int
escalate_may_ack(struct store *s, const struct conf *c, const char *token, const char *addr)
{
	sqlite3_stmt *st;
	int64_t message = 0;

	if (!conf_listed(c->safeguarding, c->nsafeguarding, addr) &&
	    !conf_listed(c->chain, c->nchain, addr) &&
	    !conf_listed(c->coordinators, c->ncoordinators, addr))
		return 0;
	if (!(st = store_stmt(s, q_message)))
		return 0;
	store_bind_text(st, 1, token);
	if (sqlite3_step(st) == SQLITE_ROW)
		message = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	/* (no such escalation: nothing to ack, and nothing said about it) */
	return !message || !decider_concerns(s, message, addr);
}

enum mg_status
escalate_reply(struct store *s, const struct conf *c, int64_t message, const char *token,
    const struct mime_msg *m)
{
	char *from = mg_lower(m->from.addr ? m->from.addr : "");
	char *text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	char *outcome;
	const char *p = text;
	sqlite3_stmt *st;
	enum mg_status rc;
	int allowed = escalate_may_ack(s, c, token, from);

	while (isspace((unsigned char)*p))
		p++;
	int ack = !strncasecmp(p, "ack", 3) && !isalpha((unsigned char)p[3]);
	if ((rc = store_begin(s)) != MG_OK)
		goto out_free;
	if (allowed && ack) {
		if (!(st = store_stmt(s, q_ack))) {
			rc = MG_INTERNAL;
			goto fail;
		}
		store_bind_text(st, 1, token);
		sqlite3_bind_int64(st, 2, mg_now());
		store_bind_text(st, 3, from);
		if ((rc = store_exec(st)) != MG_OK)
			goto fail;
		if (sqlite3_changes(sqlite3_db_handle(st)) &&
		    (rc = audit_append(s, "acknowledged", message, 0, from, token)) != MG_OK)
			goto fail;
		outcome = xasprintf("escalation acknowledged by %s", from);
	} else
		outcome = xasprintf("escalation reply from %s not taken: %s", from,
		    !allowed ? "not on the safeguarding or escalation lists" : "no \"ack\" on the first line");
	rc = store_msg_command(s, message, "escalation", outcome, m->from.addr, m->subject, m->text);
	log_info("escalate reply message=%lld outcome=\"%s\"", (long long)message, outcome);
	free(outcome);
	if (rc != MG_OK)
		goto fail;
	rc = store_commit(s);
	goto out_free;
fail:
	store_rollback(s);
out_free:
	free(from);
	free(text);
	return rc;
}

enum mg_status
escalate_open(struct store *s, const char *token)
{
	sqlite3_stmt *st = store_stmt(s, q_open);
	int rc;

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, token);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MG_OK : rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}
