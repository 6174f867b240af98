/* export: write a pair's record as text, mbox or html. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "conf.h"
#include "export.h"
#include "log.h"
#include "mime.h"
#include "notice.h"
#include "outbox.h"
#include "reply.h"
#include "roster.h"
#include "store_p.h"

static const char q_messages[] =
	"SELECT m.id, received, state, coalesce(kind, 'message'), coalesce(reason, ''),"
	" coalesce(from_addr, ''), coalesce(subject, ''), coalesce(new_text, body, ''), r.raw,"
	" coalesce(message_id, '') FROM messages m JOIN message_raw r ON r.id = m.id"
	" WHERE pair_id = ?1 ORDER BY coalesce(thread_id, m.id), received, m.id";
static const char q_flags[] =
	"SELECT category, rule, action, span_start, span_end, excerpt FROM flags WHERE message = ?1"
	" ORDER BY span_start";
static const char q_holds[] =
	"SELECT id, state, reason, coalesce(decided_by, ''), coalesce(decided, 0), coalesce(note, '')"
	" FROM holds WHERE message = ?1";
static const char q_sent[] =
	"SELECT o.id, kind, rcpt, state, message_id, coalesce(sent_at, 0), d.data FROM outbox o"
	" JOIN outbox_data d ON d.id = o.id WHERE message = ?1 ORDER BY o.id";
static const char q_audit[] =
	"SELECT id, at, event, coalesce(message, 0), coalesce(actor, ''), coalesce(detail, ''), prev,"
	" hash FROM audit WHERE pair = ?1 OR message IN (SELECT id FROM messages WHERE pair_id = ?1)"
	" ORDER BY id";

int
export_format(const char *name)
{
	return !strcmp(name, "txt") ? EXPORT_TXT : !strcmp(name, "mbox") ? EXPORT_MBOX :
	    !strcmp(name, "html") ? EXPORT_HTML : -1;
}

static void
when(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The record is written to a buffer first: html escapes it, mbox wraps it. */
struct out {
	struct buf b;
	enum export_format f;
};

static void
text(struct out *o, const char *s, size_t n)
{
	if (o->f != EXPORT_HTML) {
		buf_add(&o->b, s, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		switch (s[i]) {
		case '<': buf_adds(&o->b, "&lt;"); break;
		case '>': buf_adds(&o->b, "&gt;"); break;
		case '&': buf_adds(&o->b, "&amp;"); break;
		case '"': buf_adds(&o->b, "&quot;"); break;
		default: buf_addc(&o->b, s[i]);
		}
}

static void __attribute__((format(printf, 2, 3)))
textf(struct out *o, const char *fmt, ...)
{
	struct buf t = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&t, fmt, ap);
	va_end(ap);
	text(o, t.s ? t.s : "", t.len);
	buf_free(&t);
}

/* A heading: "=== x ===" in text, <h2> in html. */
static void
heading(struct out *o, int level, const char *s)
{
	if (o->f == EXPORT_HTML) {
		buf_printf(&o->b, "<h%d>", level);
		text(o, s, strlen(s));
		buf_printf(&o->b, "</h%d>\n", level);
	} else
		textf(o, "\n%s %s %s\n", level == 2 ? "===" : "---", s, level == 2 ? "===" : "---");
}

static void
block(struct out *o, const char *s, size_t n)
{
	if (o->f == EXPORT_HTML)
		buf_adds(&o->b, "<pre>");
	text(o, s, n);
	if (n && s[n - 1] != '\n')
		text(o, "\n", 1);
	if (o->f == EXPORT_HTML)
		buf_adds(&o->b, "</pre>\n");
}

/* an mbox message: From_ line, LF line ends, ">From " quoting (mboxrd) */
static void
mbox_message(FILE *f, const char *raw, size_t n, int64_t t)
{
	char d[64];
	time_t tt = (time_t)t;
	struct tm tm;
	int bol = 1;

	gmtime_r(&tt, &tm);
	strftime(d, sizeof d, "%a %b %e %H:%M:%S %Y", &tm);
	fprintf(f, "From mentorgate@localhost %s\n", d);
	for (size_t i = 0; i < n; i++) {
		if (bol) {
			size_t k = i;
			while (k < n && raw[k] == '>')
				k++;
			if (n - k >= 5 && !memcmp(raw + k, "From ", 5))
				fputc('>', f);
		}
		if (raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n')
			continue;
		fputc(raw[i], f);
		bol = raw[i] == '\n';
	}
	if (!bol)
		fputc('\n', f);
	fputc('\n', f);
}

/* After a loop of steps: MG_OK when it ended because the rows did, else
 * the error (an I/O error or corruption must not pass for the end). */
static enum mg_status
stepped(int rc)
{
	if (rc == SQLITE_DONE)
		return MG_OK;
	log_err("export: reading the database failed: %s", sqlite3_errstr(rc));
	return store_status(rc) != MG_OK ? store_status(rc) : MG_INTERNAL;
}

static enum mg_status
one_message(struct store *s, struct out *o, sqlite3_stmt *m, FILE *f, int *count)
{
	int64_t id = sqlite3_column_int64(m, 0), at = sqlite3_column_int64(m, 1);
	sqlite3_stmt *st;
	char t[40], head[160];
	enum mg_status e;
	int rc;

	when(at, t, sizeof t);
	snprintf(head, sizeof head, "Message %lld, received %s", (long long)id, t);
	heading(o, 2, head);
	textf(o, "State: %s (%s)%s%s\nFrom: %s\nSubject: %s\nMessage-ID: %s\n",
	    sqlite3_column_text(m, 2), sqlite3_column_text(m, 3),
	    *sqlite3_column_text(m, 4) ? "\nReason: " : "", sqlite3_column_text(m, 4),
	    sqlite3_column_text(m, 5), sqlite3_column_text(m, 6), sqlite3_column_text(m, 9));
	if (o->f == EXPORT_HTML)
		buf_adds(&o->b, "<br/>\n");
	heading(o, 3, "Extracted text");
	block(o, (const char *)sqlite3_column_text(m, 7), (size_t)sqlite3_column_bytes(m, 7));
	/* the decision's outcome beside the original: what the partner read */
	char *given;
	if ((e = outbox_given(s, id, 1, &given)) == MG_OK) {
		heading(o, 3, "Text as its recipient was given it");
		block(o, given, strlen(given));
		free(given);
	} else if (e != MG_NOTFOUND)
		return e;
	if (!(st = store_stmt(s, q_flags)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	int any = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!any++)
			heading(o, 3, "Screening flags");
		textf(o, "%s %s %s %lld-%lld: %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2), (long long)sqlite3_column_int64(st, 3),
		    (long long)sqlite3_column_int64(st, 4), sqlite3_column_text(st, 5));
	}
	sqlite3_reset(st);
	if ((e = stepped(rc)) != MG_OK)
		return e;
	if (!(st = store_stmt(s, q_holds)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		heading(o, 3, "Hold and decision");
		when(sqlite3_column_int64(st, 4), t, sizeof t);
		textf(o, "Hold %lld: %s (%s)%s%s%s%s%s%s\n", (long long)sqlite3_column_int64(st, 0),
		    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		    *sqlite3_column_text(st, 3) ? "; decided by " : "", sqlite3_column_text(st, 3),
		    *sqlite3_column_text(st, 3) ? " at " : "", *sqlite3_column_text(st, 3) ? t : "",
		    *sqlite3_column_text(st, 5) ? ": " : "", sqlite3_column_text(st, 5));
	}
	sqlite3_reset(st);
	if ((e = stepped(rc)) != MG_OK)
		return e;
	if (!(st = store_stmt(s, q_sent)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(head, sizeof head, "Sent by us: outbox %lld (%s) to %s, %s",
		    (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3));
		heading(o, 3, head);
		if (f)	/* mbox: our copy as a message of its own */
			mbox_message(f, sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6),
			    sqlite3_column_int64(st, 5) ? sqlite3_column_int64(st, 5) : at);
		else
			block(o, sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6));
	}
	sqlite3_reset(st);
	if ((e = stepped(rc)) != MG_OK)
		return e;
	heading(o, 3, "Original, as received");
	if (f)
		mbox_message(f, sqlite3_column_blob(m, 8), (size_t)sqlite3_column_bytes(m, 8), at);
	else
		block(o, sqlite3_column_blob(m, 8), (size_t)sqlite3_column_bytes(m, 8));
	(*count)++;
	return MG_OK;
}

enum mg_status
export_pair(struct store *s, int64_t pair, enum export_format fmt, const char *actor, FILE *f)
{
	struct roster_pair p;
	struct out o = { .f = fmt };
	sqlite3_stmt *st;
	enum mg_status rc;
	char t[40], *detail;
	int r, count = 0;

	if ((rc = store_begin(s)) != MG_OK)
		return rc;
	if ((rc = roster_pair_get(s, pair, &p)) != MG_OK)
		goto fail;
	when(mg_now(), t, sizeof t);
	if (fmt == EXPORT_HTML)
		buf_adds(&o.b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/><title>mentorgate export"
		    "</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}"
		    "pre{white-space:pre-wrap;background:#f4f4f4;padding:.5em}</style></head><body>\n");
	char title[200];
	snprintf(title, sizeof title, "Pair %lld: mentee %s, mentor %s", (long long)pair, p.mentee.name,
	    p.mentor.name);
	heading(&o, 1, title);
	textf(&o, "Mentee: %s <%s>\nMentor: %s <%s>\nExported %s by %s\n", p.mentee.name,
	    p.mentee.email, p.mentor.name, p.mentor.email, t, actor);
	roster_pair_clear(&p);
	if (!(st = store_stmt(s, q_messages))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, pair);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = one_message(s, &o, st, fmt == EXPORT_MBOX ? f : NULL, &count)) != MG_OK)
			break;
	sqlite3_reset(st);
	if (rc == MG_OK)
		rc = stepped(r);
	if (rc != MG_OK)
		goto fail;
	heading(&o, 2, "Audit rows (audit verify checks the whole chain)");
	if (!(st = store_stmt(s, q_audit))) {
		rc = MG_INTERNAL;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, pair);
	if (fmt == EXPORT_HTML)
		buf_adds(&o.b, "<pre>");
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		when(sqlite3_column_int64(st, 1), t, sizeof t);
		textf(&o, "%lld %s %s message=%lld actor=%s %s\n  prev=%s\n  hash=%s\n",
		    (long long)sqlite3_column_int64(st, 0), t, sqlite3_column_text(st, 2),
		    (long long)sqlite3_column_int64(st, 3), sqlite3_column_text(st, 4),
		    sqlite3_column_text(st, 5), sqlite3_column_text(st, 6), sqlite3_column_text(st, 7));
	}
	sqlite3_reset(st);
	if ((rc = stepped(r)) != MG_OK)
		goto fail;
	if (fmt == EXPORT_HTML)
		buf_adds(&o.b, "</pre>\n</body></html>\n");
	detail = xasprintf("pair %lld as %s, %d messages", (long long)pair,
	    fmt == EXPORT_TXT ? "txt" : fmt == EXPORT_MBOX ? "mbox" : "html", count);
	rc = audit_append(s, "exported", 0, pair, actor, detail);
	free(detail);
	if (rc != MG_OK || (rc = store_commit(s)) != MG_OK)
		goto fail;
	if (fmt == EXPORT_MBOX) {
		/* the record itself, last, as a plain text message */
		struct buf m = {0};
		buf_printf(&m, "From: mentorgate\nSubject: record of pair %lld\n"
		    "Content-Type: text/plain; charset=utf-8\n\n", (long long)pair);
		buf_add(&m, o.b.s, o.b.len);
		mbox_message(f, m.s, m.len, mg_now());
		buf_free(&m);
	} else
		fwrite(o.b.s, 1, o.b.len, f);
	buf_free(&o.b);
	return ferror(f) ? MG_TEMPFAIL : MG_OK;
fail:
	store_rollback(s);
	buf_free(&o.b);
	return rc;
}

enum mg_status
export_reply(struct store *s, const struct conf *c, int64_t message, const struct mime_msg *m)
{
	char *from = mg_lower(m->from.addr ? m->from.addr : "");
	char *text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	char *data = NULL, *outcome = NULL, *name = NULL, *key = NULL, *body = NULL;
	size_t dlen = 0, i;
	long long pair = 0;
	char fmtname[8] = "txt";
	enum mg_status rc = MG_OK;
	FILE *f;
	int fmt = EXPORT_TXT;

	for (i = 0; i < c->nsafeguarding && strcmp(c->safeguarding[i], from); i++)
		;
	/* (authenticated already, where that is required: relay.c) */
	if (i == c->nsafeguarding) {
		outcome = xasprintf("export request from %s refused: not on the safeguarding list", from);
		log_warn("export refused message=%lld from=%s", (long long)message, from);
	} else if (sscanf(text, " export %lld %7s", &pair, fmtname) < 1 || pair <= 0 ||
	    (fmt = export_format(fmtname)) < 0) {
		outcome = xasprintf("export request from %s not understood", from);
		body = xstrdup("Write \"export PAIR_ID\" (and optionally txt, mbox or html) on the first\n"
		    "line of a message to this address.\n");
	} else if (!(f = open_memstream(&data, &dlen))) {
		rc = MG_TEMPFAIL;
		goto out;
	} else {
		rc = export_pair(s, pair, (enum export_format)fmt, from, f);
		fclose(f);
		if (rc == MG_NOTFOUND) {
			outcome = xasprintf("export request from %s: no pair %lld", from, pair);
			body = xasprintf("There is no pair %lld.\n", pair);
		} else if (rc != MG_OK)
			goto out;
		else {
			outcome = xasprintf("exported pair %lld as %s to %s", pair, fmtname, from);
			body = xasprintf("The record of pair %lld is attached (%s). \"mentorctl audit verify\"\n"
			    "checks the audit chain it quotes.\n", pair, fmtname);
			name = xasprintf("pair-%lld.%s", pair, fmtname);
		}
	}
	if ((rc = store_begin(s)) != MG_OK)
		goto out;
	rc = store_msg_command(s, message, "export", outcome, m->from.addr, m->subject, m->text);
	if (rc == MG_OK && body) {
		key = xasprintf("export:%lld", (long long)message);
		struct notice n = { key, NULL, from, 0, message, "Your export request", body, NULL,
			name, fmt == EXPORT_HTML ? "text/html" : fmt == EXPORT_MBOX ? "application/mbox" :
			"text/plain", name ? data : NULL, name ? dlen : 0, NULL };
		rc = notice_answer(s, c, &n);
	}
	if (rc == MG_OK)
		rc = store_commit(s);
	else
		store_rollback(s);
out:
	free(from);
	free(text);
	free(data);
	free(outcome);
	free(name);
	free(key);
	free(body);
	return rc;
}
