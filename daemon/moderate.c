/* moderate: hold mail, decisions by reply or from the shell, receipts. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "decider.h"
#include "log.h"
#include "mime.h"
#include "moderate.h"
#include "notice.h"
#include "redact.h"
#include "relay.h"
#include "reply.h"
#include "roster.h"
#include "rules.h"
#include "screen.h"
#include "store_p.h"
#include "vis.h"

static const char *const verbs[] = {
	[MOD_APPROVE] = "approve", [MOD_REJECT] = "reject", [MOD_REDACT] = "redact", [MOD_EDIT] = "edit",
	[MOD_CLOSE] = "close",
};
static const char *const decided_state[] = {
	[MOD_APPROVE] = "approved", [MOD_REJECT] = "rejected", [MOD_REDACT] = "redacted",
	[MOD_EDIT] = "edited", [MOD_CLOSE] = "closed",
};

static const char q_add[] =
	"INSERT INTO holds(message, token, reason, created, subject, mail)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static char *
mod_address(const struct conf *c, const char *token)
{
	return xasprintf("%s+mod-%s@%s", c->relay_local, token, c->relay_domain);
}

/* text[0, n) as a coordinator reads it: controls and bidi marks visible
 * (vis.h), and no "[[" or "]]" of its own to pass for a mark of ours */
static void
shown(struct buf *b, const char *text, size_t n)
{
	struct buf v = {0};

	vis_escape(&v, text, n, 0);
	for (size_t i = 0; i < v.len; i++) {
		buf_addc(b, v.s[i]);
		if ((v.s[i] == '[' || v.s[i] == ']') && i + 1 < v.len && v.s[i + 1] == v.s[i])
			buf_addc(b, ' ');
	}
	buf_free(&v);
}

/* text with the hits' spans (in text order; overlapping ones merged)
 * wrapped in [[ ]] */
static char *
marked(const char *text, const struct screen_hit *h, size_t n)
{
	struct buf b = {0};
	size_t at = 0, len = strlen(text);

	for (size_t i = 0; i < n; i++) {
		size_t start = h[i].start, end = h[i].end;
		if (start < at || end > len)
			continue;
		while (i + 1 < n && h[i + 1].start < end) {	/* overlaps: one span */
			if (h[i + 1].end > end && h[i + 1].end <= len)
				end = h[i + 1].end;
			i++;
		}
		shown(&b, text + at, start - at);
		buf_adds(&b, "[[");
		shown(&b, text + start, end - start);
		buf_adds(&b, "]]");
		at = end;
	}
	shown(&b, text + at, len - at);
	return b.s ? buf_steal(&b) : xstrdup("");
}

/* text with every line begun by "| ": nothing in it can pass for the
 * gateway's own words (an "end of message" line, a note from us) */
static char *
fenced(const char *text)
{
	struct buf b = {0};
	const char *p = text, *nl;

	do {
		nl = strchr(p, '\n');
		buf_adds(&b, "| ");
		buf_add(&b, p, nl ? (size_t)(nl - p) : strlen(p));
		buf_addc(&b, '\n');
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
	return buf_steal(&b);
}

/* One line per mark: what matched, which rule, and why. */
static char *
reasons(const char *text, const struct screen_hit *h, size_t n)
{
	struct buf b = {0};
	size_t len = strlen(text);

	for (size_t i = 0; i < n; i++) {
		if (h[i].rule->action == RULE_FLAG || h[i].end > len || h[i].start > h[i].end)
			continue;
		buf_adds(&b, b.len ? "" : "\nWhat screening found:\n");
		buf_adds(&b, "  \"");
		shown(&b, text + h[i].start, h[i].end - h[i].start > 80 ? 80 : h[i].end - h[i].start);
		buf_printf(&b, "\": rule %s (%s)%s%s\n", h[i].rule->name, h[i].rule->category,
		    h[i].rule->why ? ": " : "", h[i].rule->why ? h[i].rule->why : "");
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

char *
moderate_summary(const struct moderate_info *mi)
{
	char *who = mi->author ? xasprintf("%s (%s)", mi->author, mi->author_role) :
	    xasprintf("%s (not a participant)", mi->from_addr ? mi->from_addr : "unknown sender");
	char *text = marked(mi->text ? mi->text : "", mi->hits, mi->nhits);
	char *quoted = fenced(text);
	char *why = reasons(mi->text ? mi->text : "", mi->hits, mi->nhits);
	char *out = xasprintf("From:    %s <%s>\nTo:      %s%s%s%s\nSubject: %s\nWhy:     %s\n\n"
	    "The message, as %s wrote it: each of its lines begins with \"| \"%s.\n"
	    "Nothing on those lines comes from the gateway.\n\n%s"
	    "(end of the message: every line after this is the gateway's)\n%s",
	    who, mi->from_addr ? mi->from_addr : "", mi->recipient ? mi->recipient : "(nobody known)",
	    mi->recipient ? " (" : "", mi->recipient ? mi->recipient_role : "", mi->recipient ? ")" : "",
	    mi->subject ? mi->subject : "", mi->reason ? mi->reason : "held", who,
	    mi->nhits ? ", matches marked [[like this]]" : "", quoted, why);

	free(who);
	free(text);
	free(quoted);
	free(why);
	return out;
}

/* Holds mailed one by one in the last day for the same participant as
 * message's (or the same address, for a stranger); past MOD_HOLD_BURST, a hold is batched: not mailed by
 * itself, but listed in the next summary (moderate_remind).  MG_OK when
 * batched, MG_NOTFOUND when it is to be mailed. */
static const char q_burst[] =
	"SELECT count(*) FROM messages me, holds h JOIN messages m ON m.id = h.message"
	" WHERE me.id = ?1 AND h.message != ?1 AND h.created >= ?2 AND h.batched = 0"
	" AND CASE WHEN me.author_id IS NOT NULL THEN m.author_id = me.author_id"
	" ELSE m.author_id IS NULL AND lower(m.from_addr) = lower(me.from_addr) END";
static const char q_batch[] = "UPDATE holds SET batched = 1 WHERE message = ?1";

static enum mg_status
batched(struct store *s, int64_t message)
{
	sqlite3_stmt *st = store_stmt(s, q_burst);
	int64_t n = 0;
	int rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, message);
	sqlite3_bind_int64(st, 2, mg_now() - 86400);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_status(rc);
	if (n < MOD_HOLD_BURST)
		return MG_NOTFOUND;
	if (!(st = store_stmt(s, q_batch)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, message);
	log_info("moderate hold id=%lld batched (%lld mailed for its sender or pair today)",
	    (long long)message, (long long)n);
	return store_exec(st);
}

enum mg_status
moderate_hold(struct store *s, const struct conf *c, int64_t message, const struct moderate_info *mi)
{
	sqlite3_stmt *st = store_stmt(s, q_add);
	char token[25], *reply_to, *summary, *subject, *body, *key, *who;
	struct buf cats = {0};
	struct deciders dc;
	enum mg_status rc;

	if (!st)
		return MG_INTERNAL;
	if ((rc = decider_list(s, c, message, &dc)) != MG_OK)
		return rc;
	for (size_t i = 0; i < mi->nhits; i++)
		if (!cats.s || !strstr(cats.s, mi->hits[i].rule->category)) {
			buf_adds(&cats, cats.len ? ", " : "");
			buf_adds(&cats, mi->hits[i].rule->category);
		}
	who = mi->author ? xasprintf("%s (%s)", mi->author, mi->author_role) :
	    xasprintf("%s (not a participant)", mi->from_addr ? mi->from_addr : "unknown sender");
	mg_random_token(token, sizeof token);
	reply_to = mod_address(c, token);
	summary = moderate_summary(mi);
	subject = xasprintf("[%s] held: %s%s%s", c->name, who, cats.len ? " - " : "",
	    cats.len ? cats.s : "");
	for (char *p = subject; *p; p++)	/* one header line */
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	body = xasprintf("A message is held and has not reached anyone.%s\n\n%s\n\n"
	    "To decide, reply to this email with one of these words on the first line:\n\n"
	    "  approve          relay it as written\n"
	    "  reject REASON    do not relay it; the author is told the reason kindly\n"
	    "  redact           relay it with what is marked replaced by [removed by moderator]\n"
	    "                   (wherever it appears in the message, however written)\n"
	    "  edit             relay your own text instead: write it on the lines below \"edit\"\n"
	    "                   (it is screened too; \"edit anyway\" sends it all the same)\n"
	    "  close NOTE       end the hold; nothing is sent to anyone\n\n"
	    "Only the coordinators' addresses can decide, and the first decision counts.\n"
	    "From the shell: mentorctl hold show|approve|reject|redact|close HOLD_ID\n",
	    dc.safeguarding && c->ncoordinators ? "\nIt comes to the safeguarding addresses "
	    "because every coordinator is in the pair it concerns." : "", summary);
	sqlite3_bind_int64(st, 1, message);
	store_bind_text(st, 2, token);
	store_bind_text(st, 3, mi->reason ? mi->reason : "held");
	sqlite3_bind_int64(st, 4, mg_now());
	store_bind_text(st, 5, subject);
	store_bind_text(st, 6, body);
	if ((rc = store_exec(st)) != MG_OK) {
		if (rc == MG_DUPLICATE)	/* held before: mailed before */
			rc = MG_OK;
		goto out;
	}
	if ((rc = batched(s, message)) != MG_NOTFOUND)
		goto out;	/* (listed in the next summary instead) */
	key = xasprintf("hold:%lld", (long long)message);
	rc = MG_OK;
	for (size_t i = 0; i < dc.n && rc == MG_OK; i++) {
		char *k = xasprintf("%s:%s", key, dc.v[i]);
		struct notice n = { k, NULL, dc.v[i], 0, message, subject, body, reply_to,
			NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &n);
		free(k);
	}
	if (rc == MG_OK && !dc.n)
		log_warn("moderate hold id=%lld mailed to nobody: every coordinator and safeguarding "
		    "address is one it concerns (mentorctl hold list shows it)", (long long)message);
	else if (rc == MG_OK)
		log_info("moderate hold id=%lld mailed=%zu%s", (long long)message, dc.n,
		    dc.safeguarding ? " (to safeguarding: every coordinator is in its pair)" : "");
	free(key);
out:
	decider_clear(&dc);
	free(body);
	free(subject);
	free(summary);
	free(reply_to);
	free(who);
	buf_free(&cats);
	return rc;
}

/* Open holds to list in a summary: waiting since their mail (or last
 * listing) for hold_reminder_hours, or batched and never listed. */
static const char q_waiting[] =
	"SELECT h.id, h.token, coalesce(h.subject, ''), h.reason, h.batched AND h.reminded IS NULL,"
	" h.message FROM holds h WHERE h.state = 'open' AND h.mail IS NOT NULL"
	" AND (coalesce(h.reminded, h.created) <= ?1 OR (h.batched AND h.reminded IS NULL))"
	" ORDER BY h.id";
static const char q_reminded[] = "UPDATE holds SET reminded = ?2 WHERE id = ?1";
static const char q_last_summary[] =
	"SELECT coalesce(max(created), 0) FROM outbox"
	" WHERE dedupe_key >= 'holds-summary:' AND dedupe_key < 'holds-summary;'";	/* (the index) */

/* one reader's summary: the holds they may decide (decider.h) */
struct summary {
	const char *to;
	struct buf body;
	size_t n;
	char *one;	/* the hold's address, when it lists one hold */
};

static struct summary *
summary_of(struct summary **v, size_t *n, const char *to)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].to, to))
			return &(*v)[i];
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	memset(&(*v)[*n], 0, sizeof **v);
	(*v)[*n].to = to;
	return &(*v)[(*n)++];
}

/* Each open hold (of ids, messages) added to the summary of each who may
 * decide it. */
static enum mg_status
summaries(struct store *s, const struct conf *c, const int64_t *messages, char *const *lines,
    char *const *addrs, size_t n, struct summary **sum, size_t *nsum)
{
	enum mg_status rc = MG_OK;

	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		struct deciders dc;
		if ((rc = decider_list(s, c, messages[i], &dc)) != MG_OK)
			break;
		for (size_t k = 0; k < dc.n; k++) {
			struct summary *m = summary_of(sum, nsum, dc.v[k]);
			buf_adds(&m->body, lines[i]);
			free(m->one);
			m->one = m->n++ ? NULL : xstrdup(addrs[i]);
		}
		decider_clear(&dc);
	}
	return rc;
}

enum mg_status
moderate_remind(struct store *s, const struct conf *c, int *sent)
{
	sqlite3_stmt *st;
	enum mg_status rc;
	int64_t now = mg_now(), last = 0, *ids = NULL, *messages = NULL;
	char **lines = NULL, **addrs = NULL;
	struct summary *sum = NULL;
	size_t n = 0, nsum = 0;
	int r, fresh = 0;

	*sent = 0;
	if (!c->ncoordinators && !c->nsafeguarding)
		return MG_OK;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if (!(st = store_stmt(s, q_last_summary))) {
		store_rollback(s);
		return MG_INTERNAL;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	/* (no summary is due within the hour of the last: nothing to read) */
	if (now - last < 3600)
		goto out;
	if (!(st = store_stmt(s, q_waiting))) {
		store_rollback(s);
		return MG_INTERNAL;
	}
	sqlite3_bind_int64(st, 1, now - (int64_t)c->hold_reminder_hours * 3600);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		messages = xrealloc(messages, (n + 1) * sizeof *messages);
		lines = xrealloc(lines, (n + 1) * sizeof *lines);
		addrs = xrealloc(addrs, (n + 1) * sizeof *addrs);
		ids[n] = sqlite3_column_int64(st, 0);
		messages[n] = sqlite3_column_int64(st, 5);
		addrs[n] = mod_address(c, (const char *)sqlite3_column_text(st, 1));
		lines[n] = xasprintf("  hold %lld: \"%s\"\n    why: %s\n    to decide, write to %s\n\n",
		    (long long)ids[n], sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), addrs[n]);
		fresh |= sqlite3_column_int(st, 4);
		n++;
	}
	sqlite3_reset(st);
	rc = r == SQLITE_DONE ? MG_OK : store_status(r);
	/* one summary a period; holds never mailed (batched) within the hour */
	if (rc != MG_OK || !n || now - last < (fresh ? 3600 : (int64_t)c->hold_reminder_hours * 3600))
		goto out;
	if ((rc = summaries(s, c, messages, lines, addrs, n, &sum, &nsum)) != MG_OK)
		goto out;
	for (size_t i = 0; i < nsum && rc == MG_OK; i++) {
		char *key = xasprintf("holds-summary:%lld:%s", (long long)now, sum[i].to);
		char *subject = xasprintf("Reminder: %zu held message%s waiting for a decision",
		    sum[i].n, sum[i].n == 1 ? "" : "s");
		char *text = xasprintf("These held messages have reached nobody yet:\n\n%s"
		    "Reply to a hold's address with approve, reject REASON, redact, edit or\n"
		    "close NOTE on the first line, or use mentorctl hold list / show ID.\n",
		    sum[i].body.s);
		struct notice no = { key, NULL, sum[i].to, 0, 0, subject, text, sum[i].one,
			NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &no);
		free(key);
		free(subject);
		free(text);
	}
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		if (!(st = store_stmt(s, q_reminded))) {
			rc = MG_INTERNAL;
			break;
		}
		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 2, now);
		rc = store_exec(st);
	}
	if (rc == MG_OK)
		*sent = (int)n;
out:
	for (size_t i = 0; i < n; i++) {
		free(lines[i]);
		free(addrs[i]);
	}
	for (size_t i = 0; i < nsum; i++) {
		buf_free(&sum[i].body);
		free(sum[i].one);
	}
	free(sum);
	free(ids);
	free(messages);
	free(lines);
	free(addrs);
	if (rc != MG_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

enum mg_status
moderate_parse(const char *text, struct moderate_decision *d, char **note)
{
	const char *p = text, *eol, *r, *end;
	size_t n;

	*note = NULL;
	while (*p && isspace((unsigned char)*p))
		p++;
	eol = p + strcspn(p, "\n");
	for (end = eol; end > p && isspace((unsigned char)end[-1]); end--)
		;
	for (n = 0; p + n < end && isalpha((unsigned char)p[n]); n++)
		;
	for (int v = 0; v < MOD_NVERB; v++) {
		if (n != strlen(verbs[v]) || strncasecmp(p, verbs[v], n))
			continue;
		/* the verb is the whole first line, or comes with its argument:
		 * "Approve? I am not sure" is a question, not a decision */
		r = p + n;
		if (v == MOD_REJECT || v == MOD_CLOSE) {
			if (r < end && !isspace((unsigned char)*r) && *r != ':')
				return MG_BADINPUT;
			while (r < end && (isspace((unsigned char)*r) || *r == ':'))
				r++;
			*note = xstrndup(r, (size_t)(end - r));
		} else if (v == MOD_EDIT) {
			/* "edit anyway": the coordinator confirms a text that
			 * screening holds */
			if (end - r == 7 && !strncasecmp(r, " anyway", 7))
				d->anyway = 1;
			else if (r < end && !(r + 1 == end && *r == ':'))
				return MG_BADINPUT;
			r = *eol ? eol + 1 : eol;
			while (*r == '\n' || *r == '\r')
				r++;
			if (!*r)
				return MG_BADINPUT;	/* edit needs the new text */
			*note = xstrdup(r);
		} else if (r < end && !(r + 1 == end && (*r == '.' || *r == '!')))
			return MG_BADINPUT;
		d->verb = (enum moderate_verb)v;
		d->note = *note;
		return MG_OK;
	}
	return MG_BADINPUT;
}

static const char q_get_token[] =
	"SELECT h.id, h.message, h.state, coalesce(h.decided_by, ''), coalesce(m.subject, ''),"
	" m.author_id, h.token FROM holds h JOIN messages m ON m.id = h.message WHERE h.token = ?1";
static const char q_get_id[] =
	"SELECT h.id, h.message, h.state, coalesce(h.decided_by, ''), coalesce(m.subject, ''),"
	" m.author_id, h.token FROM holds h JOIN messages m ON m.id = h.message WHERE h.id = ?1";
static const char q_decide[] =
	"UPDATE holds SET state = ?2, decided = ?3, decided_by = ?4, note = ?5"
	" WHERE id = ?1 AND state = 'open'";
static const char q_reject_msg[] =
	"UPDATE messages SET state = 'ignored', kind = 'rejected', reason = ?2, decided = ?3"
	" WHERE id = ?1";
/* what redact takes out: every excerpt; the categories of those that held */
static const char q_flags[] =
	"SELECT excerpt, CASE WHEN action = 'flag' THEN NULL ELSE category END"
	" FROM flags WHERE message = ?1";

struct hold {
	int64_t id, message, author;
	char *state, *by, *subject, *token;
};

static void
hold_clear(struct hold *h)
{
	free(h->state);
	free(h->by);
	free(h->subject);
	free(h->token);
}

static enum mg_status
hold_get(struct store *s, const char *token, int64_t id, struct hold *h)
{
	sqlite3_stmt *st = store_stmt(s, token ? q_get_token : q_get_id);
	int rc;

	memset(h, 0, sizeof *h);
	if (!st)
		return MG_INTERNAL;
	if (token)
		store_bind_text(st, 1, token);
	else
		sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		h->id = sqlite3_column_int64(st, 0);
		h->message = sqlite3_column_int64(st, 1);
		h->state = store_col_text(st, 2);
		h->by = store_col_text(st, 3);
		h->subject = store_col_text(st, 4);
		h->author = sqlite3_column_int64(st, 5);
		h->token = store_col_text(st, 6);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MG_OK;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

const char *
moderate_verb(enum moderate_verb v)
{
	return v < MOD_NVERB ? verbs[v] : "?";
}

enum mg_status
moderate_open(struct store *s, const char *token, int64_t *id, char **subject)
{
	struct hold h;
	enum mg_status rc = hold_get(s, token, 0, &h);

	if (rc == MG_OK && strcmp(h.state, "open"))
		rc = MG_NOTFOUND;
	if (rc == MG_OK) {
		*id = h.id;
		*subject = h.subject;
		h.subject = NULL;
	}
	hold_clear(&h);
	return rc;
}

/* body and subject with every flagged detail taken out, wherever and in
 * whatever form it appears (redact.h) */
static void
redacted(struct store *s, const struct conf *c, int64_t message, const char *body,
    const char *subject, char **rb, char **rs, int *unfinished)
{
	sqlite3_stmt *st = store_stmt(s, q_flags);
	char **ex = NULL, **cats = NULL;
	size_t nex = 0, ncat = 0;

	if (st) {
		sqlite3_bind_int64(st, 1, message);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *e = (const char *)sqlite3_column_text(st, 0);
			const char *cat = (const char *)sqlite3_column_text(st, 1);
			size_t k;
			if (e && *e) {
				ex = xrealloc(ex, (nex + 1) * sizeof *ex);
				ex[nex++] = xstrdup(e);
			}
			for (k = 0; cat && k < ncat && strcmp(cats[k], cat); k++)
				;
			if (cat && k == ncat) {
				cats = xrealloc(cats, (ncat + 1) * sizeof *cats);
				cats[ncat++] = xstrdup(cat);
			}
		}
		sqlite3_reset(st);
	}
	*rb = redact_text(body ? body : "", ex, nex, c->rules, cats, ncat, unfinished);
	*rs = redact_text(subject ? subject : "", ex, nex, c->rules, cats, ncat, unfinished);
	for (size_t i = 0; i < nex; i++)
		free(ex[i]);
	for (size_t i = 0; i < ncat; i++)
		free(cats[i]);
	free(ex);
	free(cats);
}

int
moderate_may(struct store *s, const struct conf *c, const char *token, const char *addr)
{
	struct hold h;
	struct deciders dc;
	int yes = 0;

	if (hold_get(s, token, 0, &h) != MG_OK)
		return 0;
	if (decider_list(s, c, h.message, &dc) == MG_OK)
		yes = decider_has(&dc, addr);
	decider_clear(&dc);
	hold_clear(&h);
	return yes;
}

/* MG_DENIED, saying why, when by may not decide message's hold (decider.h) */
static enum mg_status
may_decide(struct store *s, const struct conf *c, int64_t message, const char *by, char **detail)
{
	struct deciders dc;
	enum mg_status rc = decider_list(s, c, message, &dc);

	if (rc == MG_OK && !decider_has(&dc, by)) {
		*detail = xasprintf("%s may not decide it (%s); %s", by,
		    decider_may(c, by) ? "they are in the pair it concerns" : "not a coordinator",
		    dc.n ? "another coordinator decides it" : "nobody else can: use mentorctl");
		rc = MG_DENIED;
	}
	decider_clear(&dc);
	return rc;
}

/* Why screening would hold a coordinator's edited text (what matched,
 * and how to send it all the same), or NULL when it would pass. */
static char *
screened_edit(const struct conf *c, const char *text)
{
	struct screen_hit *h;
	struct buf why = {0};
	int unfinished = 0;
	size_t n;

	if (!c->rules)
		return NULL;
	n = screen_text_checked(c->rules, text, strlen(text), &h, &unfinished);
	for (size_t i = 0; i < n; i++) {
		if (h[i].rule->action == RULE_FLAG)
			continue;
		buf_printf(&why, "%s\"%.*s\" (%s)", why.len ? ", " : "", (int)(h[i].end - h[i].start),
		    text + h[i].start, h[i].rule->category);
	}
	if (unfinished)
		buf_printf(&why, "%sscreening could not finish reading it", why.len ? ", " : "");
	free(h);
	if (!why.len)
		return NULL;
	char *out = xasprintf("your edited text has what screening holds: %s; to relay it as "
	    "written, reply with \"edit anyway\" on the first line and the text below", why.s);
	buf_free(&why);
	return out;
}

/* the author hears, kindly, that their message was not passed on */
static enum mg_status
tell_author(struct store *s, const struct conf *c, const struct hold *h, const char *reason)
{
	struct roster_person who;
	enum mg_status rc;
	char *key, *subject, *body;

	if (!h->author)
		return MG_OK;	/* a stranger: nobody to tell */
	if ((rc = roster_person_by_id(s, h->author, &who)) != MG_OK)
		return rc == MG_NOTFOUND ? MG_OK : rc;
	key = xasprintf("hold:%lld:rejected", (long long)h->message);
	subject = xasprintf("About your message \"%s\"", h->subject);
	for (char *p = subject; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	body = xasprintf("Hello %s,\n\n"
	    "Your message \"%s\" was not passed on by the programme.\n\n"
	    "The coordinator says: %s\n\n"
	    "You have done nothing wrong by writing. If anything is worrying you,\n"
	    "you can reply to this email and a coordinator will read it.\n\n"
	    "This message was sent automatically by %s.\n",
	    who.first, h->subject, reason && *reason ? reason : "it could not be relayed as written.",
	    c->name);
	struct notice n = { key, who.name, who.email, who.id, h->message, subject, body, NULL, NULL, NULL, NULL, 0, NULL };
	rc = notice_enqueue(s, c, &n);
	free(key);
	free(subject);
	free(body);
	roster_person_clear(&who);
	return rc;
}

/* every other who may decide it hears who decided what */
static enum mg_status
receipts(struct store *s, const struct conf *c, const struct hold *h,
    const struct moderate_decision *d)
{
	char *key = xasprintf("hold:%lld:decided", (long long)h->message);
	char *subject = xasprintf("[%s] hold %lld decided by %s: %s", c->name, (long long)h->id, d->by,
	    verbs[d->verb]);
	char *body = xasprintf("Hold %lld (\"%s\") was decided by %s: %s%s%s\n\nNothing more to do.\n",
	    (long long)h->id, h->subject, d->by, verbs[d->verb],
	    (d->verb == MOD_REJECT || d->verb == MOD_CLOSE) && d->note && *d->note ? " - " : "",
	    (d->verb == MOD_REJECT || d->verb == MOD_CLOSE) && d->note ? d->note : "");
	enum mg_status rc = MG_OK;

	for (char *p = subject; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	struct deciders dc;
	if ((rc = decider_list(s, c, h->message, &dc)) != MG_OK)
		goto out;
	for (size_t i = 0; i < dc.n && rc == MG_OK; i++) {
		if (!strcasecmp(dc.v[i], d->by))
			continue;
		char *k = xasprintf("%s:%s", key, dc.v[i]);
		struct notice n = { k, NULL, dc.v[i], 0, h->message, subject, body, NULL, NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &n);
		free(k);
	}
	decider_clear(&dc);
out:
	free(key);
	free(subject);
	free(body);
	return rc;
}

enum mg_status
moderate_decide(struct store *s, const struct conf *c, const char *token, int64_t id,
    const struct moderate_decision *d, char **detail)
{
	struct hold h = {0};
	struct buf why = {0};
	sqlite3_stmt *st;
	enum mg_status rc;
	char *body = NULL, *subject = NULL;

	*detail = NULL;
	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if ((rc = hold_get(s, token, id, &h)) != MG_OK)
		goto fail;
	if (!h.state) {		/* SQLite could not give the text (out of memory) */
		rc = MG_TEMPFAIL;
		goto fail;
	}
	if (strcmp(h.state, "open")) {
		*detail = xasprintf("%s (%s)", h.by, h.state);
		rc = MG_DUPLICATE;
		goto fail;
	}
	if (strncmp(d->by, "shell:", 6) && (rc = may_decide(s, c, h.message, d->by, detail)) != MG_OK)
		goto fail;
	if (!(st = store_stmt(s, q_decide))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, h.id);
	store_bind_text(st, 2, decided_state[d->verb]);
	sqlite3_bind_int64(st, 3, mg_now());
	store_bind_text(st, 4, d->by);
	store_bind_text(st, 5, d->note);
	if ((rc = store_exec(st)) != MG_OK)
		goto fail;
	if (d->verb == MOD_REJECT) {
		char *reason = xasprintf("rejected by %s: %s", d->by, d->note && *d->note ? d->note :
		    "(no reason given)");
		if (!(st = store_stmt(s, q_reject_msg))) {
			free(reason);
			rc = MG_INTERNAL;
			goto fail;
		}
		sqlite3_bind_int64(st, 1, h.message);
		store_bind_text(st, 2, reason);
		sqlite3_bind_int64(st, 3, mg_now());
		rc = store_exec(st);
		free(reason);
		if (rc == MG_OK)
			rc = tell_author(s, c, &h, d->note);
	} else if (d->verb == MOD_CLOSE) {
		;	/* the hold's state says it all; nobody is mailed */
	} else {
		if (d->verb == MOD_REDACT || d->verb == MOD_EDIT) {
			/* (an edit replaces the text; its subject is redacted) */
			char *raw;
			size_t len;
			int unfinished = 0, same;
			if ((rc = store_msg_raw(s, h.message, &raw, &len)) != MG_OK)
				goto fail;
			struct mime_msg *m = mime_parse(raw, len);
			redacted(s, c, h.message, m->text, m->subject, &body, &subject, &unfinished);
			same = !strcmp(body, m->text ? m->text : "") &&
			    !strcmp(subject, m->subject ? m->subject : "");
			mime_free(m);
			free(raw);
			if (d->verb == MOD_REDACT && (unfinished || same)) {
				*detail = xstrdup(unfinished ? "screening could not finish reading it, so "
				    "what to take out is not known; edit it instead" :
				    "nothing in it is marked to take out; approve it, edit it or reject it");
				rc = MG_DENIED;
				goto fail;
			}
			if (d->verb == MOD_EDIT) {
				if (!d->anyway && (*detail = screened_edit(c, d->note))) {
					rc = MG_DENIED;
					goto fail;
				}
				free(body);
				body = xstrdup(d->note);
			}
		}
		rc = relay_release(s, c, h.message, body, subject, &why);
		if (rc != MG_OK) {
			*detail = why.s ? buf_steal(&why) : NULL;
			goto fail;
		}
	}
	if (rc == MG_OK) {
		char *detail = xasprintf("hold %lld: %s%s%s%s", (long long)h.id, verbs[d->verb],
		    d->verb == MOD_EDIT && d->anyway ? " anyway (over screening)" : "", d->note && *d->note && (d->verb == MOD_REJECT || d->verb == MOD_CLOSE) ? " - " : "",
		    d->note && (d->verb == MOD_REJECT || d->verb == MOD_CLOSE) ? d->note : "");
		rc = audit_append(s, "decided", h.message, 0, d->by, detail);
		free(detail);
	}
	if (rc == MG_OK)
		rc = receipts(s, c, &h, d);
	if (rc != MG_OK)
		goto fail;
	if ((rc = store_commit(s)) == MG_OK)
		log_info("moderate decided hold=%lld message=%lld by=%s verb=%s", (long long)h.id,
		    (long long)h.message, d->by, verbs[d->verb]);
	goto out;
fail:
	store_rollback(s);
out:
	hold_clear(&h);
	buf_free(&why);
	free(body);
	free(subject);
	return rc;
}

static const char q_paused_holds[] =
	"SELECT h.id FROM holds h JOIN messages m ON m.id = h.message"
	" JOIN participants p ON p.id = m.recipient_id"
	" WHERE h.state = 'open' AND p.email = ?1 AND h.reason = ?2 ORDER BY h.id";

enum mg_status
moderate_release_paused(struct store *s, const struct conf *c, const char *email,
    const char *by, int *released, struct buf *err)
{
	sqlite3_stmt *st = store_stmt(s, q_paused_holds);
	char *low = mg_lower(email), *reason = xasprintf(RELAY_PAUSED, low);
	struct moderate_decision d = { MOD_APPROVE, NULL, by, 0 };
	enum mg_status rc = MG_OK, r;
	int64_t *ids = NULL;
	size_t n = 0;
	int step;

	*released = 0;
	if (!st) {
		rc = MG_INTERNAL;
		goto out;
	}
	store_bind_text(st, 1, low);
	store_bind_text(st, 2, reason);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		rc = store_status(step);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {	/* (one decided meanwhile is skipped) */
		char *detail = NULL;
		if ((r = moderate_decide(s, c, NULL, ids[i], &d, &detail)) == MG_OK)
			(*released)++;
		else if (r != MG_DUPLICATE) {
			buf_printf(err, "hold %lld: %s\n", (long long)ids[i],
			    detail ? detail : mg_strerror(r));
			rc = r;
		}
		free(detail);
	}
out:
	free(ids);
	free(low);
	free(reason);
	return rc;
}

/* The reply itself is recorded (not relayed), with what came of it. */
static enum mg_status
record_reply(struct store *s, int64_t message, const struct mime_msg *m, const char *outcome)
{
	enum mg_status rc;

	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if ((rc = store_msg_command(s, message, "moderation", outcome, m->from.addr, m->subject,
	    m->text)) != MG_OK) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

/* A short answer to a coordinator (never to anyone else). */
static enum mg_status
answer(struct store *s, const struct conf *c, int64_t message, const char *to, const char *token,
    const char *subject, const char *body)
{
	enum mg_status rc;
	char *key = xasprintf("mod-answer:%lld", (long long)message);
	char *reply_to = token ? mod_address(c, token) : NULL;
	struct notice n = { key, NULL, to, 0, message, subject, body, reply_to, NULL, NULL, NULL, 0, NULL };

	if ((rc = store_begin(s)) == MG_OK) {
		if ((rc = notice_answer(s, c, &n)) == MG_OK)
			rc = store_commit(s);
		else
			store_rollback(s);
	}
	free(key);
	free(reply_to);
	return rc;
}

enum mg_status
moderate_reply(struct store *s, const struct conf *c, int64_t message, const char *token,
    const struct mime_msg *m)
{
	struct moderate_decision d = {0};
	char *from = mg_lower(m->from.addr ? m->from.addr : ""), *note = NULL, *detail = NULL;
	char *text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	char *outcome = NULL, *body = NULL;
	const char *open = NULL;
	enum mg_status rc;

	/* (authenticated already, where that is required: relay.c) */
	if (!decider_may(c, from)) {
		/* no answer: the sender may be forged, and is no coordinator */
		outcome = xasprintf("moderation reply from %s refused: not a coordinator", from);
		log_warn("moderate refused message=%lld from=%s", (long long)message, from);
		rc = record_reply(s, message, m, outcome);
		goto out;
	}
	d.by = from;
	if (moderate_parse(text, &d, &note) != MG_OK) {
		outcome = xstrdup("moderation reply without a decision: answered with help");
		if ((rc = record_reply(s, message, m, outcome)) == MG_OK)
			rc = answer(s, c, message, from, token, "Your reply was not understood",
			    "Nothing was decided. Put one of these words on the first line of your reply:\n\n"
			    "  approve\n  reject REASON\n  redact\n  edit   (then the new text on the next lines)\n"
			    "  close NOTE   (nothing is sent to anyone)\n");
		goto out;
	}
	rc = moderate_decide(s, c, token, 0, &d, &detail);
	if (rc == MG_OK)
		outcome = xasprintf("moderation: %s by %s", verbs[d.verb], from);
	else if (rc == MG_DUPLICATE && detail && !strncmp(detail, from, strlen(from)) &&
	    detail[strlen(from)] == ' ')
		/* their own decision again (a confirmation read twice, say):
		 * nothing to tell them */
		outcome = xasprintf("moderation: already decided by the same coordinator: %s", detail);
	else if (rc == MG_DUPLICATE && detail) {	/* (without: a UNIQUE conflict below) */
		outcome = xasprintf("moderation: too late, already decided by %s", detail);
		body = xasprintf("Thank you. This hold had already been decided by %s;\n"
		    "your %s was not applied.\n", detail, verbs[d.verb]);
	} else if (rc == MG_NOTFOUND) {
		outcome = xstrdup("moderation reply for an unknown hold");
		body = xstrdup("This reply names no hold we know of. Nothing was decided.\n");
	} else if (rc == MG_DENIED) {
		outcome = xasprintf("moderation: %s could not be applied: %s", verbs[d.verb],
		    detail ? detail : "");
		body = xasprintf("Your %s could not be applied: %s.\nThe hold is still open.\n",
		    verbs[d.verb], detail ? detail : "");
		open = token;	/* a reply to this answer decides the hold */
	} else
		goto out;	/* a database problem: try the whole reply again later */
	if ((rc = record_reply(s, message, m, outcome)) == MG_OK && body)
		rc = answer(s, c, message, from, open, "About your moderation reply", body);
out:
	free(from);
	free(note);
	free(detail);
	free(text);
	free(outcome);
	free(body);
	return rc;
}

static const char q_list[] =
	"SELECT h.id, h.created, h.state, h.reason, coalesce(m.from_addr, ''),"
	" coalesce(m.subject, '') FROM holds h JOIN messages m ON m.id = h.message"
	" WHERE h.state = 'open' ORDER BY h.id";

enum mg_status
moderate_list(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, q_list);
	int rc;

	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%lld\t%lld\t%s\tfrom=%s\tsubject=%s\treason=%s\n",
		    (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
		    sqlite3_column_text(st, 2), sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
		    sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

static const char q_show[] =
	"SELECT h.id, h.message, h.state, h.reason, coalesce(h.decided_by, ''), coalesce(h.note, ''),"
	" coalesce(m.from_addr, ''), coalesce(m.subject, ''), coalesce(m.body, '')"
	" FROM holds h JOIN messages m ON m.id = h.message WHERE h.id = ?1";
static const char q_show_flags[] =
	"SELECT category, rule, action, excerpt FROM flags WHERE message = ?1 ORDER BY span_start";

enum mg_status
moderate_show(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, q_show);
	int64_t message;
	int rc;

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
	}
	message = sqlite3_column_int64(st, 1);
	printf("hold %lld (message %lld): %s\nreason: %s\n", (long long)id, (long long)message,
	    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
	if (*sqlite3_column_text(st, 4))
		printf("decided by: %s %s\n", sqlite3_column_text(st, 4), sqlite3_column_text(st, 5));
	printf("from: %s\nsubject: %s\n\n%s", sqlite3_column_text(st, 6), sqlite3_column_text(st, 7),
	    sqlite3_column_text(st, 8));
	sqlite3_reset(st);
	if (!(st = store_stmt(s, q_show_flags)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, message);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("flag: %s %s %s: %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}
