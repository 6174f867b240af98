/* confirm: a command by mail is carried out only when its claimed sender
 * confirms it from their own mailbox. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confirm.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "reply.h"
#include "store_p.h"

static const char q_add[] =
	"INSERT INTO confirmations(token, message, command, addr, created) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char q_today[] =
	"SELECT count(*) FROM confirmations WHERE addr = ?1 AND created >= ?2";
static const char q_get[] =
	"SELECT message, command, addr, created, confirmed FROM confirmations WHERE token = ?1";
static const char q_close[] =
	"UPDATE confirmations SET confirmed = ?2, reply = ?3 WHERE token = ?1 AND confirmed IS NULL";

enum mg_status
confirm_ask(struct store *s, const struct conf *c, int64_t message, const char *command,
    const char *addr, const char *what, const struct mime_msg *m)
{
	sqlite3_stmt *st;
	char token[27], *reply_to, *key, *subject, *body, *outcome;
	enum mg_status rc;
	int64_t asked;
	int step;

	mg_random_token(token, sizeof token);	/* 130 bits */
	reply_to = xasprintf("%s+confirm-%s@%s", c->relay_local, token, c->relay_domain);
	key = xasprintf("confirm:%lld", (long long)message);
	subject = xasprintf("Please confirm: %.*s", (int)strcspn(what, "\r\n"), what);
	if (subject[strlen(subject) - 1] == ':')
		subject[strlen(subject) - 1] = 0;
	body = xasprintf("We received a message from your address asking for this:\n\n"
	    "%s\n\n"
	    "Nothing has been done yet.  If you sent it, reply to this message with\n"
	    "YES on the first line within %d days.  If you did not send it, do not\n"
	    "reply: someone may be writing in your name, and your programme's\n"
	    "administrator should know.\n", what, CONFIRM_DAYS);
	outcome = xasprintf("%s command from %s: waiting for confirmation from that address",
	    !strncmp(command, "mod-", 4) ? "moderation" : "escalation", addr);
	struct notice n = { key, NULL, addr, 0, message, subject, body, reply_to, NULL, NULL, NULL, 0,
		NULL };
	if ((rc = store_begin(s)) != MG_OK)
		goto out;
	if (!(st = store_stmt(s, q_today))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	store_bind_text(st, 1, addr);
	sqlite3_bind_int64(st, 2, mg_now() - 86400);
	step = sqlite3_step(st);
	asked = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (step != SQLITE_ROW) {
		rc = store_status(step);
		goto fail;
	}
	if (asked >= CONFIRM_A_DAY) {
		free(outcome);
		outcome = xasprintf("%s command from %s: not asked to confirm (%d requests to that"
		    " address today)", !strncmp(command, "mod-", 4) ? "moderation" : "escalation", addr,
		    CONFIRM_A_DAY);
		log_warn("confirm not asked message=%lld addr=%s: too many today", (long long)message,
		    addr);
		if ((rc = store_msg_command(s, message, !strncmp(command, "mod-", 4) ? "moderation" :
		    "escalation", outcome, m->from.addr, m->subject, m->text)) != MG_OK)
			goto fail;
		rc = store_commit(s);
		goto out;
	}
	if (!(st = store_stmt(s, q_add))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	store_bind_text(st, 1, token);
	sqlite3_bind_int64(st, 2, message);
	store_bind_text(st, 3, command);
	store_bind_text(st, 4, addr);
	sqlite3_bind_int64(st, 5, mg_now());
	if ((rc = store_exec(st)) != MG_OK ||
	    (rc = store_msg_command(s, message, !strncmp(command, "mod-", 4) ? "moderation" :
	    "escalation", outcome, m->from.addr, m->subject, m->text)) != MG_OK ||
	    (rc = notice_enqueue(s, c, &n)) != MG_OK)
		goto fail;
	if ((rc = store_commit(s)) == MG_OK)
		log_info("confirm asked message=%lld addr=%s", (long long)message, addr);
	goto out;
fail:
	store_rollback(s);
out:
	free(reply_to);
	free(key);
	free(subject);
	free(body);
	free(outcome);
	return rc;
}

/* The first line of the new text says yes. */
static int
says_yes(const struct mime_msg *m)
{
	char *text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	const char *p = text;
	size_t n;
	int yes;

	while (isspace((unsigned char)*p))
		p++;
	n = strcspn(p, "\r\n");
	while (n && (isspace((unsigned char)p[n - 1]) || strchr(".!", p[n - 1])))
		n--;
	yes = (n == 3 && !strncasecmp(p, "yes", 3)) || (n == 7 && !strncasecmp(p, "confirm", 7));
	free(text);
	return yes;
}

enum mg_status
confirm_check(struct store *s, const char *token, const struct mime_msg *m, int64_t *orig,
    char **command, const char **why)
{
	sqlite3_stmt *st = store_stmt(s, q_get);
	char *from = mg_lower(m->from.addr ? m->from.addr : "");
	enum mg_status rc = MG_DENIED;
	int step;

	*command = NULL;
	*why = NULL;
	if (!st) {
		free(from);
		return MG_INTERNAL;
	}
	store_bind_text(st, 1, token);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		free(from);
		*why = "no such confirmation";
		return step == SQLITE_DONE ? MG_NOTFOUND : store_status(step);
	}
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		*why = "already confirmed";
	else if (mg_now() - sqlite3_column_int64(st, 3) > CONFIRM_DAYS * 86400)
		*why = "too late: the request has expired";
	else if (strcmp(from, (const char *)sqlite3_column_text(st, 2)))
		*why = "not from the address asked";
	else if (!says_yes(m))
		*why = "no YES on the first line";
	else {
		*orig = sqlite3_column_int64(st, 0);
		*command = store_col_text(st, 1);
		rc = MG_OK;
	}
	sqlite3_reset(st);
	free(from);
	return rc;
}

enum mg_status
confirm_close(struct store *s, int64_t message, const char *token, const struct mime_msg *m,
    const char *outcome)
{
	sqlite3_stmt *st;
	enum mg_status rc;

	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_close))) {
		store_rollback(s);
		return MG_INTERNAL;
	}
	store_bind_text(st, 1, token);
	sqlite3_bind_int64(st, 2, mg_now());
	sqlite3_bind_int64(st, 3, message);
	if ((rc = store_exec(st)) != MG_OK ||
	    (rc = store_msg_command(s, message, "confirmation", outcome, m->from.addr, m->subject,
	    m->text)) != MG_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}
