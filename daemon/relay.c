/* One message through the gateway: store raw, then parse, route, verify
 * the sender, and hold it or enqueue the regenerated copy, each decision
 * committed together with what it enqueues. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "audit.h"
#include "authres.h"
#include "bounce.h"
#include "classify.h"
#include "confirm.h"
#include "dname.h"
#include "escalate.h"
#include "export.h"
#include "log.h"
#include "moderate.h"
#include "mime.h"
#include "outbox.h"
#include "pairscore.h"
#include "quote.h"
#include "relay.h"
#include "reply.h"
#include "roster.h"
#include "route.h"
#include "rules.h"
#include "screen.h"
#include "spotcheck.h"
#include "survey.h"
#include "thread.h"

static char *
strip_brackets(char *v)
{
	char *p = v, *e;

	if (!v)
		return NULL;
	while (*p == ' ' || *p == '<')
		p++;
	e = p + strcspn(p, ">");
	*e = 0;
	memmove(v, p, (size_t)(e - p) + 1);
	return v;
}

/* The header values that identify a delivery, read once per message. */
enum { H_MSGID, H_DELIVERED, H_FROM, H_DATE, H_SUBJECT, NHDR };
static const char *const id_headers[NHDR] = {
	"Message-ID", "Delivered-To", "From", "Date", "Subject"
};

static void
dedupe_of(char *const hv[NHDR], const char *raw, size_t len, char out[65])
{
	unsigned char digest[32];
	struct buf b = {0};
	size_t body;

	for (size_t i = 0; i < NHDR; i++) {
		buf_adds(&b, hv[i] ? hv[i] : "");
		buf_addc(&b, 0);
	}
	for (body = 0; body + 1 < len; body++)
		if (raw[body] == '\n' && (raw[body + 1] == '\n' ||
		    (raw[body + 1] == '\r' && body + 2 < len && raw[body + 2] == '\n')))
			break;
	buf_add(&b, raw + body, len - body);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, b.s, b.len, digest);
	mg_hex(digest, sizeof digest, out);
	buf_free(&b);
}

/* What identifies a delivery: its header values and the content hash. */
struct ident {
	char *hv[NHDR];
	char dedupe[65];
};

static void
ident_read(struct ident *d, const char *raw, size_t len)
{
	for (size_t i = 0; i < NHDR; i++)
		d->hv[i] = mime_header(raw, len, id_headers[i]);
	dedupe_of(d->hv, raw, len, d->dedupe);
	strip_brackets(d->hv[H_MSGID]);
}

static void
ident_clear(struct ident *d)
{
	for (size_t i = 0; i < NHDR; i++)
		free(d->hv[i]);
}

static enum mg_status
store_ident(struct store *s, const char *mailbox, uint32_t uidvalidity, uint32_t uid,
    const char *raw, size_t len, const struct ident *d, int64_t *id)
{
	struct store_msg m = { mailbox, uidvalidity, uid, raw, len, d->dedupe, d->hv[H_MSGID],
		d->hv[H_FROM], d->hv[H_SUBJECT], d->hv[H_DATE] };
	enum mg_status rc;

	if ((rc = store_begin(s)) == MG_OK) {
		rc = store_msg_add(s, &m, id);
		if (rc == MG_OK) {
			char *detail = xasprintf("mailbox=%s uid=%u from=%s", mailbox, uid,
			    d->hv[H_FROM] ? d->hv[H_FROM] : "");
			rc = audit_append(s, "received", *id, 0, NULL, detail);
			free(detail);
		}
		if (rc == MG_OK)
			rc = store_commit(s);
		else
			store_rollback(s);
	}
	if (rc == MG_OK) {
		log_debug("ingest stored id=%lld mailbox=%s uid=%u", (long long)*id, mailbox, uid);
		mg_crashpoint("stored");
	} else if (rc == MG_DUPLICATE)
		log_info("ingest duplicate of=%lld mailbox=%s uid=%u", (long long)*id, mailbox, uid);
	return rc;
}

enum mg_status
relay_store(struct store *s, const char *mailbox, uint32_t uidvalidity, uint32_t uid,
    const char *raw, size_t len, int64_t *id)
{
	struct ident d;
	enum mg_status rc;

	ident_read(&d, raw, len);
	rc = store_ident(s, mailbox, uidvalidity, uid, raw, len, &d, id);
	ident_clear(&d);
	return rc;
}

/* --- deciding ------------------------------------------------------- */

struct job {
	struct store *s;
	const struct conf *c;
	int64_t id;
	struct mime_msg *m;
	struct roster_pair pair;
	struct roster_person sender;	/* a participant without a pair, writing to us */
	const struct roster_person *author, *recipient;
	const char *author_token;	/* under which the recipient sees the author */
	const char *recipient_token;	/* under which the author sees the recipient */
	char *token;
	const char *token_header;	/* where the token was found */
	struct store_decision d;
	struct buf refs;
	char *in_reply_to;
	char *new_text, *topic;
	struct buf att;		/* attachments, "name\ttype\tbytes" lines */
	char *screened;		/* subject, blank line, new text with signature */
	char *screen_reason;	/* why screening holds it, or NULL */
	int escalate;		/* a risk disclosure: the safeguarding list now */
	char *raw;
	size_t rawlen;
	int to_mentor;
	/* a release by a coordinator: inside their transaction, maybe with
	 * the coordinator's text instead of the author's */
	int in_tx;
	const char *body_override, *subject_override;
	struct screen_hit *hits;
	size_t nhits;
	/* screened ahead (job_screen_ahead): what screen() takes over */
	char *pre_screened;
	struct screen_hit *pre_hits;
	size_t pre_nhits;
	int pre_unfinished;	/* a search hit the match limit */
	/* to be relayed if it passes: its quoted history is screened too,
	 * where it is not what the pair exchanged; quoted: where that begins
	 * in screened (0: none) */
	int relaying;
	size_t quoted;
	struct classify cl;
};

/* A message fetched (relay_read) and waiting for its decision; read
 * then or later, by whichever thread gets to it first. */
struct relay_msg {
	struct job j;
	struct ident d;
	int read;		/* j and d read (else only j.raw is there) */
	uint32_t oversized;	/* not fetched, of this size (then j is empty) */
};

static void
job_free(struct job *j)
{
	free(j->new_text);
	free(j->topic);
	buf_free(&j->att);
	free(j->screened);
	free(j->hits);
	free(j->pre_screened);
	free(j->pre_hits);
	free(j->screen_reason);
	free(j->raw);
	mime_free(j->m);
	roster_pair_clear(&j->pair);
	roster_person_clear(&j->sender);
	free(j->token);
	buf_free(&j->refs);
	free(j->in_reply_to);
	classify_clear(&j->cl);
}

/* The screening hits, with the decision they led to (same transaction). */
static enum mg_status
record_flags(struct job *j)
{
	enum mg_status rc = MG_OK;

	for (size_t i = 0; i < j->nhits && rc == MG_OK; i++) {
		const struct screen_hit *h = &j->hits[i];
		char *excerpt = xstrndup(j->screened + h->start, h->end - h->start);
		rc = store_flag_add(j->s, j->id, h->rule->name, h->rule->category,
		    rules_action_name(h->rule->action), h->start, h->end, excerpt);
		free(excerpt);
		if (rc == MG_OK) {
			char *detail = xasprintf("%s %s %s %zu-%zu", h->rule->category, h->rule->name,
			    rules_action_name(h->rule->action), h->start, h->end);
			rc = audit_append(j->s, "flagged", j->id, j->d.pair_id, NULL, detail);
			free(detail);
		}
	}
	return rc;
}

/* A held message goes to the coordinators, with what they need to decide. */
static enum mg_status
mail_hold(struct job *j)
{
	struct moderate_info mi = {
		.reason = j->d.reason,
		.author = j->d.author_id ? j->author->name : NULL,
		.author_role = j->d.author_id ? j->author->role : NULL,
		.recipient = j->d.recipient_id ? j->recipient->name : NULL,
		.recipient_role = j->d.recipient_id ? j->recipient->role : NULL,
		.from_addr = j->m->from.addr,
		.subject = j->m->subject,
		.text = j->screened ? j->screened : j->m->text,
		.hits = j->hits,
		.nhits = j->nhits,
	};

	enum mg_status rc = moderate_hold(j->s, j->c, j->id, &mi);

	if (rc == MG_OK && j->escalate && j->c->nsafeguarding) {
		char *summary = moderate_summary(&mi);
		rc = escalate_start(j->s, j->c, j->id, summary);
		free(summary);
	}
	return rc;
}

static enum mg_status
commit_decision(struct job *j)
{
	enum mg_status rc;

	if ((rc = store_begin(j->s)) != MG_OK)
		return rc;
	if ((rc = store_msg_decide(j->s, j->id, &j->d)) != MG_OK || (rc = record_flags(j)) != MG_OK ||
	    (rc = audit_append(j->s, j->d.state, j->id, j->d.pair_id, NULL, j->d.reason)) != MG_OK ||
	    (!strcmp(j->d.state, "held") && (rc = mail_hold(j)) != MG_OK)) {
		store_rollback(j->s);
		return rc;
	}
	return store_commit(j->s);
}

static enum mg_status
hold(struct job *j, const char *fmt, const char *arg)
{
	enum mg_status rc;
	char *reason = xasprintf(fmt, arg ? arg : "");

	j->d.state = "held";
	j->d.reason = reason;
	rc = commit_decision(j);
	if (rc == MG_OK) {
		log_info("relay held id=%lld reason=\"%s\"", (long long)j->id, reason);
		mg_crashpoint("held");
	}
	free(reason);
	return rc;
}

/* Is w one of the space-separated words of list (NULL: empty)? */
static int
has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; p && (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return 1;
	return 0;
}

/* In-Reply-To and References as the recipient knows them; ids the recipient
 * never saw are dropped (they would reveal the author's mail domain). */
static void
translate_refs(struct job *j)
{
	struct mime_list *lists[] = { &j->m->references, &j->m->in_reply_to };

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			char *t = NULL;
			if (store_map_translate(j->s, lists[l]->v[i], j->author->id, j->pair.id, &t) != MG_OK)
				continue;
			if (l == 1 && !j->in_reply_to)
				j->in_reply_to = xstrdup(t);
			if (!has_word(j->refs.s, t)) {
				if (j->refs.len)
					buf_addc(&j->refs, ' ');
				buf_adds(&j->refs, t);
			}
			free(t);
		}
	if (!j->in_reply_to && j->refs.len) {	/* fall back to the newest reference */
		const char *last = strrchr(j->refs.s, ' ');
		j->in_reply_to = xstrdup(last ? last + 1 : j->refs.s);
	}
}

/* Masks for the body and subject: both partners' real addresses become the
 * masked ones the recipient knows; any other participant's becomes a
 * placeholder (looked up only for the addresses the text holds). */
struct masks {
	const struct job *j;
	char *author_mask, *recip_mask;
};

static void
masks_init(struct masks *m, const struct job *j)
{
	m->j = j;
	m->author_mask = xasprintf("%s+%s@%s", j->c->relay_local, j->author_token, j->c->relay_domain);
	m->recip_mask = xasprintf("%s+%s@%s", j->c->relay_local, j->recipient_token,
	    j->c->relay_domain);
}

static const char *
mask_of(const char *addr, void *arg)
{
	const struct masks *m = arg;

	if (!strcmp(addr, m->j->author->email))
		return m->author_mask;
	if (!strcmp(addr, m->j->recipient->email))
		return m->recip_mask;
	return roster_is_address(m->j->s, addr) ? "[address removed]" : NULL;
}

static void
masks_free(struct masks *m)
{
	free(m->author_mask);
	free(m->recip_mask);
}

static void
human_size(size_t n, char *out, size_t len)
{
	if (n < 1024)
		snprintf(out, len, "%zu bytes", n);
	else if (n < 1024 * 1024)
		snprintf(out, len, "%zu KB", (n + 512) / 1024);
	else
		snprintf(out, len, "%.1f MB", (double)n / (1024 * 1024));
}

/* Attachments are not relayed (the text is regenerated); the reader is
 * told what was left out rather than it vanishing silently.  Takes body. */
static char *
with_attachment_note(const struct job *j, char *body)
{
	struct buf b = {0};
	char size[32];

	if (!j->m->natt)
		return body;
	buf_adds(&b, body);
	if (b.len && b.s[b.len - 1] != '\n')
		buf_addc(&b, '\n');
	buf_adds(&b, "\n[Not passed on by the programme:");
	for (size_t i = 0; i < j->m->natt; i++) {
		human_size(j->m->att[i].size, size, sizeof size);
		buf_printf(&b, "%s %s (%s, %s)", i ? ";" : "",
		    j->m->att[i].filename && *j->m->att[i].filename ? j->m->att[i].filename :
		    "an attachment", j->m->att[i].type, size);
	}
	buf_adds(&b, ". Your coordinator can see it.]\n");
	free(body);
	return buf_steal(&b);
}

static enum mg_status
audit_relayed(struct job *j, const char *key)
{
	char *detail = xasprintf("to %s (%s) outbox key %s%s", j->recipient->email, j->recipient->role, key,
	    j->body_override ? ", text replaced by a coordinator" :
	    j->in_tx ? ", released by a coordinator" : "");
	enum mg_status rc = audit_append(j->s, "relayed", j->id, j->pair.id, NULL, detail);

	free(detail);
	return rc;
}

/* A share of what screening passed goes for a second look (spotcheck.h);
 * not a copy a coordinator released: one has looked already. */
static enum mg_status
spot_check(struct job *j, const char *body)
{
	struct moderate_info mi = {
		.reason = "passed screening (a spot check)",
		.author = j->author->name,
		.author_role = j->author->role,
		.recipient = j->recipient->name,
		.recipient_role = j->recipient->role,
		.from_addr = j->m->from.addr,
		.subject = j->m->subject,
		.text = body,
	};

	if (j->in_tx || !j->c->rules)
		return MG_OK;
	return spotcheck_maybe(j->s, j->c, j->id, &mi);
}

static enum mg_status
relay(struct job *j)
{
	const struct conf *c = j->c;
	char rnd[21], *msgid, *from_addr, *display, *first, *body, *full, *subject, *data = NULL;
	char *key;
	struct mime_out o = {0};
	struct masks mk;
	enum mg_status rc;
	size_t len;

	translate_refs(j);
	mg_random_token(rnd, sizeof rnd);
	/* the row's id first: msgid_map's key then grows in order, one index
	 * page for many messages instead of a random page each */
	msgid = xasprintf("%lld.%s@%s", (long long)j->id, rnd, c->relay_domain);
	from_addr = xasprintf("%s+%s@%s", c->relay_local, j->author_token, c->relay_domain);
	first = dname_clean(j->author->first);	/* (as every display name is) */
	display = xasprintf("%s (%s) via %s", first, j->author->role, c->name);
	masks_init(&mk, j);
	full = with_attachment_note(j, xstrdup(j->body_override ? j->body_override : j->m->text));
	body = route_mask_with(full, mask_of, &mk);	/* names can hold addresses too */
	free(full);
	subject = route_mask_with(j->subject_override ? j->subject_override : j->m->subject, mask_of,
	    &mk);
	masks_free(&mk);
	o.from_name = display;
	o.from_addr = from_addr;
	o.reply_to = from_addr;
	o.to_name = j->recipient->name;
	o.to_addr = j->recipient->email;
	o.subject = subject;
	o.message_id = msgid;
	o.in_reply_to = j->in_reply_to;
	o.references = j->refs.len ? j->refs.s : NULL;
	o.body = body;
	o.date = mg_now();
	key = xasprintf("relay:%lld:%lld", (long long)j->id, (long long)j->recipient->id);
	if ((rc = mime_build(&o, &data, &len)) != MG_OK) {
		if (!j->in_tx)
			rc = hold(j, "could not build the relayed copy%s", "");
		goto out;
	}
	j->d.state = "relayed";
	if (!j->in_tx && (rc = store_begin(j->s)) != MG_OK)
		goto out;
	struct outbox_item it = { key, "relay", j->id, j->recipient->id, j->recipient->email,
		msgid, data, len, body };
	if ((rc = store_msg_decide(j->s, j->id, &j->d)) != MG_OK || (rc = record_flags(j)) != MG_OK ||
	    (rc = store_map_add(j->s, msgid, j->m->message_id, j->id, j->pair.id, j->author->id,
	    j->recipient->id)) != MG_OK ||
	    (rc = outbox_enqueue(j->s, &it)) != MG_OK ||
	    (rc = audit_relayed(j, key)) != MG_OK || (rc = spot_check(j, body)) != MG_OK) {
		if (!j->in_tx)
			store_rollback(j->s);
		goto out;
	}
	if (j->in_tx || (rc = store_commit(j->s)) == MG_OK) {
		log_info("relay queued id=%lld pair=%lld from=%s to=%s via=%s", (long long)j->id,
		    (long long)j->pair.id, j->author->role, j->recipient->role, j->token_header);
		mg_crashpoint("relayed");
	}
out:
	free(msgid);
	free(from_addr);
	free(first);
	free(display);
	free(body);
	free(subject);
	free(data);
	free(key);
	return rc;
}

/* The new text of read job j, once. */
static void
job_extract(struct job *j)
{
	if (!j->new_text)
		j->new_text = reply_extract(j->m->text ? j->m->text : "",
		    j->m->text ? strlen(j->m->text) : 0);
	j->d.new_text = j->new_text;
}

/* Screen j ahead of screen(), which most messages get as far as. */
static void
job_screen_ahead(struct job *j)
{
	if (!j->c->rules || j->pre_screened)
		return;
	j->pre_screened = screen_message_text(j->m);
	j->pre_nhits = screen_text_checked(j->c->rules, j->pre_screened, strlen(j->pre_screened),
	    &j->pre_hits, &j->pre_unfinished);
}

/* Addresses in a quote that relaying masks anyway (the roster's, the
 * gateway's own): not a detail anyone shares. */
static const char *
known_address(const char *addr, void *arg)
{
	const struct job *j = arg;
	const char *at = strrchr(addr, '@');

	if ((at && !strcasecmp(at + 1, j->c->relay_domain)) || roster_is_address(j->s, addr))
		return "[address]";
	return NULL;
}

/* Add to j's screening the quoted history that is not what its pair
 * exchanged (quote.h): a made-up quote is new text. */
static void
screen_quotes(struct job *j)
{
	const char *text = j->m->text ? j->m->text : "";
	struct mime_list ids = {0};
	char **refs, *extra, *masked;
	size_t nref, nh, base;
	struct screen_hit *h;
	int unfinished = 0;

	if (!quote_any(text, strlen(text)))
		return;
	ids.n = j->m->references.n + j->m->in_reply_to.n;
	ids.v = xcalloc(ids.n ? ids.n : 1, sizeof *ids.v);
	for (size_t i = 0; i < j->m->references.n; i++)
		ids.v[i] = j->m->references.v[i];
	for (size_t i = 0; i < j->m->in_reply_to.n; i++)
		ids.v[j->m->references.n + i] = j->m->in_reply_to.v[i];
	nref = quote_exchanged(j->s, j->pair.id, j->author->id, j->recipient->id, j->id, &ids, text,
	    &refs);
	free(ids.v);
	extra = quote_unverified(text, strlen(text), refs, nref);
	for (size_t i = 0; i < nref; i++)
		free(refs[i]);
	free(refs);
	if (!extra)
		return;
	masked = route_mask_with(extra, known_address, j);
	free(extra);
	nh = screen_quote_checked(j->c->rules, masked, strlen(masked), &h, &unfinished);
	base = strlen(j->screened) + 2;
	j->screened = xrealloc(j->screened, base + strlen(masked) + 1);
	memcpy(j->screened + base - 2, "\n\n", 2);
	strcpy(j->screened + base, masked);
	j->quoted = base;
	j->hits = xrealloc(j->hits, (j->nhits + nh + 1) * sizeof *j->hits);
	for (size_t i = 0; i < nh; i++) {
		h[i].start += base;
		h[i].end += base;
		j->hits[j->nhits++] = h[i];
	}
	j->pre_unfinished |= unfinished;
	free(h);
	free(masked);
}

/* Screen the subject and the new text (signature included), and the
 * quoted history of a message to be relayed where it is not what its pair
 * exchanged: 1 when a hold or escalate rule hit, with the reason set. */
static int
screen(struct job *j)
{
	struct buf why = {0};
	int escalate = 0, holds = 0, in_quote = 0;

	job_screen_ahead(j);
	j->screened = j->pre_screened;
	j->hits = j->pre_hits;
	j->nhits = j->pre_nhits;
	j->pre_screened = NULL;
	j->pre_hits = NULL;
	if (j->relaying)
		screen_quotes(j);
	for (size_t i = 0; i < j->nhits; i++) {
		const struct rule *r = j->hits[i].rule;
		if (r->action == RULE_FLAG)
			continue;
		escalate |= r->action == RULE_ESCALATE;
		holds++;
		in_quote |= j->quoted && j->hits[i].start >= j->quoted;
		if (!why.s || !strstr(why.s, r->category)) {
			buf_adds(&why, why.len ? ", " : "");
			buf_adds(&why, r->category);
		}
	}
	if (j->pre_unfinished) {
		/* what it holds is unknown: a person reads it */
		buf_adds(&why, why.len ? ", " : "");
		buf_adds(&why, "screening could not finish");
		holds++;
		log_warn("screen unfinished id=%lld (match limit)", (long long)j->id);
	}
	if (j->nhits)
		log_info("screen hits id=%lld count=%zu holds=%d escalate=%d", (long long)j->id, j->nhits,
		    holds, escalate);
	if (!holds) {
		buf_free(&why);
		return 0;
	}
	j->screen_reason = xasprintf("screening%s: %s%s", escalate ? " (escalate)" : "", why.s,
	    in_quote ? " (in quoted text this pair never exchanged)" : "");
	j->escalate = escalate;
	buf_free(&why);
	return 1;
}

/* Held when, with j, what its author set off in the pair adds up to
 * pair_signals distinct flag rules (pairscore.h); MG_NOTFOUND if not. */
static enum mg_status
signals(struct job *j)
{
	struct buf names = {0};
	int n = pairscore_signals(j->s, j->pair.id, j->author->id, j->id, j->hits, j->nhits, &names);
	enum mg_status rc = MG_NOTFOUND;

	if (n < 0)
		rc = MG_TEMPFAIL;
	else if (n >= j->c->pair_signals) {
		log_info("relay signals id=%lld pair=%lld count=%d (%s)", (long long)j->id,
		    (long long)j->pair.id, n, names.s);
		rc = hold(j, "signals adding up in this pair over 30 days: %s", names.s);
	}
	buf_free(&names);
	return rc;
}

/* Hold j for a reason of its own (fmt with arg), screened all the same:
 * the coordinators see its flags, and a risk disclosure reaches the
 * safeguarding list, whoever sent it and however it came. */
static enum mg_status
hold_screened(struct job *j, const char *fmt, const char *arg)
{
	char *reason = xasprintf(fmt, arg ? arg : ""), *both;
	enum mg_status rc;

	if (!j->c->rules || !screen(j)) {
		rc = hold(j, "%s", reason);
		free(reason);
		return rc;
	}
	both = xasprintf("%s; %s", reason, j->screen_reason);
	rc = hold(j, "%s", both);
	free(both);
	free(reason);
	return rc;
}

/* Record the message as not for relaying (kind says why) in one
 * transaction with what fn does (recording bounces, say). */
static enum mg_status
ignore(struct job *j, const char *kind, const char *reason,
    enum mg_status (*fn)(struct job *, void *), void *arg)
{
	enum mg_status rc;

	j->d.state = "ignored";
	j->d.kind = kind;
	j->d.reason = reason;
	if ((rc = store_begin(j->s)) != MG_OK)
		return rc;
	char *detail = xasprintf("%s: %s", kind, reason);
	rc = store_msg_decide(j->s, j->id, &j->d);
	if (rc == MG_OK)
		rc = audit_append(j->s, "ignored", j->id, j->d.pair_id, NULL, detail);
	free(detail);
	if (rc != MG_OK || (fn && (rc = fn(j, arg)) != MG_OK)) {
		store_rollback(j->s);
		return rc;
	}
	if ((rc = store_commit(j->s)) == MG_OK)
		log_info("relay ignored id=%lld kind=%s reason=\"%s\"", (long long)j->id, kind, reason);
	return rc;
}

/* Each failed recipient of a delivery report, or the one recipient of the
 * outbox row its VERP address names. */
struct report {
	const struct classify *cl;
	int64_t outbox_id;
	const char *rcpt;	/* from the VERP address, or NULL */
	int verified;		/* it answers mail we sent to rcpt */
};

static enum mg_status
record_bounces(struct job *j, void *arg)
{
	const struct report *r = arg;
	enum mg_status rc = MG_OK;
	const char *why = r->cl->permanent ? "permanent delivery failure" : "delivery delayed";

	if (r->rcpt && r->verified)
		return bounce_record(j->s, j->c, j->id, r->outbox_id, r->rcpt, r->cl->permanent, 1,
		    why);
	for (size_t i = 0; i < r->cl->nrcpts && rc == MG_OK; i++)
		rc = bounce_record(j->s, j->c, j->id, r->outbox_id, r->cl->rcpts[i],
		    r->cl->permanent, 0, why);
	return rc;
}

/* Does the report name rcpt among its failed recipients? */
static int
names(const struct classify *cl, const char *rcpt)
{
	for (size_t i = 0; i < cl->nrcpts; i++)
		if (!strcasecmp(cl->rcpts[i], rcpt))
			return 1;
	return 0;
}

/* A delivery report that answers no mail of ours, as far as anyone can
 * tell (anyone can write one): recorded and listed, never believed, never
 * answered. */
static enum mg_status
unverified(struct job *j, const struct classify *cl, int64_t outbox_id, const char *why)
{
	struct report r = { cl, outbox_id, NULL, 0 };
	char *reason = xasprintf("unverified delivery report (%s): nobody paused", why);
	enum mg_status rc = ignore(j, "bounce", reason, record_bounces, &r);

	log_warn("relay unverified report id=%lld why=\"%s\"", (long long)j->id, why);
	free(reason);
	return rc;
}

/* Mail to LOCAL+bounce-ID-MAC@DOMAIN: a report about outbox row ID, believed
 * only when the MAC is right and the report names the row's recipient.
 * The VERP address ties it to its row even when its body cannot be read. */
static enum mg_status
verp_report(struct job *j, const struct classify *cl)
{
	struct report r = { cl, 0, NULL, 1 };
	char *rcpt = NULL, *reason;
	enum mg_status rc;

	if ((rc = bounce_verp(j->s, j->token, &r.outbox_id, &rcpt)) == MG_NOTFOUND) {
		if (cl->kind == CLASS_AUTOREPLY)
			return ignore(j, "autoreply", "automatic reply to an envelope sender we did"
			    " not write", NULL, NULL);
		return unverified(j, cl, 0, "its return address is none we wrote");
	}
	if (rc != MG_OK)
		return rc;
	r.rcpt = rcpt;
	if (cl->kind == CLASS_BOUNCE && cl->nrcpts && !names(cl, rcpt)) {
		rc = unverified(j, cl, r.outbox_id, "it does not name the recipient of the mail"
		    " it answers");
	} else if (cl->kind == CLASS_BOUNCE && cl->nrcpts) {
		reason = xasprintf("%s delivery report for outbox %lld (%s)",
		    cl->permanent ? "permanent" : "transient", (long long)r.outbox_id, rcpt);
		rc = ignore(j, "bounce", reason, record_bounces, &r);
		free(reason);
	} else if (cl->kind == CLASS_AUTOREPLY) {
		reason = xasprintf("automatic reply to the envelope sender (%s)", cl->why);
		rc = ignore(j, "autoreply", reason, NULL, NULL);
		free(reason);
	} else {
		/* unreadable, or names nobody: a person decides what it means */
		reason = xasprintf("unreadable report for outbox %lld (%s)", (long long)r.outbox_id,
		    rcpt);
		j->d.kind = "bounce";
		rc = hold(j, "%s", reason);
		free(reason);
	}
	free(rcpt);
	return rc;
}

/* Our own Message-ID coming back (a relayed copy or a notice): a loop.
 * Coordinators often write from the relay's own domain, so the domain
 * alone proves nothing. */
static int
ours(const struct job *j)
{
	const char *id = j->m->message_id, *at = id ? strrchr(id, '@') : NULL;

	if (!at || strcasecmp(at + 1, j->c->relay_domain))
		return 0;
	if (at - id > 7 && !strncmp(at - 7, ".notice", 7))
		return 1;
	return store_map_known(j->s, id) == MG_OK;
}

/* Automatic mail is recorded, never relayed and never answered. */
static enum mg_status
automatic(struct job *j, const char *raw, size_t len, const struct classify *cl)
{
	char *prec, *reason;
	enum mg_status rc = MG_NOTFOUND;

	if (cl->kind == CLASS_BOUNCE) {
		/* reports we can believe come to the VERP address */
		rc = unverified(j, cl, 0, "not sent to a return address of ours");
	} else if (cl->kind == CLASS_AUTOREPLY && !strcmp(cl->why, "vacation subject") &&
	    j->c->rules && screen(j)) {
		/* a subject alone ("School absence") is weak evidence: what a
		 * person may have written is screened before it is set aside */
		rc = hold(j, "%s (its subject reads like an automatic reply)", j->screen_reason);
	} else if (cl->kind == CLASS_AUTOREPLY) {
		reason = xasprintf("automatic reply (%s), not relayed", cl->why);
		rc = ignore(j, "autoreply", reason, NULL, NULL);
		free(reason);
	} else if (ours(j)) {
		rc = ignore(j, "loop", "our own message came back", NULL, NULL);
	} else if ((prec = mime_header(raw, len, "Precedence"))) {
		/* mailing-list traffic is not a person writing to their partner */
		if (!strcasecmp(prec, "list"))
			rc = ignore(j, "autoreply", "mailing-list mail (Precedence: list), not relayed",
			    NULL, NULL);
		free(prec);
	} else if (classify_machine(raw, len)) {
		rc = ignore(j, "autoreply", "automatic mail (Auto-Submitted), not relayed", NULL, NULL);
	}
	return rc;
}

/* Mail claiming a participant's address that our server does not vouch
 * for (RFC 8601: a DMARC pass, or a DKIM or SPF pass aligned with the From
 * domain) is held as a possible spoof: always when something failed, and,
 * with hold_unauthenticated (the default), when nothing passed.
 * MG_NOTFOUND when it is not held. */
static enum mg_status
spoofed(struct job *j)
{
	struct authres a;
	struct buf why = {0};
	enum mg_status rc;

	authres_check(j->raw, j->rawlen, j->c->authserv_id, j->m->from.addr, &a);
	if (a.authenticated)
		return MG_NOTFOUND;
	if (a.dkim == AUTHRES_FAIL)
		buf_adds(&why, " dkim=fail");
	if (a.spf == AUTHRES_FAIL)
		buf_adds(&why, " spf=fail");
	if (a.dmarc == AUTHRES_FAIL)
		buf_adds(&why, " dmarc=fail");
	if (!why.len && !j->c->hold_unauthenticated)
		return MG_NOTFOUND;
	if (!why.len)
		buf_adds(&why, a.trusted ? " not authenticated (no pass for the sender's domain)" :
		    " not authenticated (no Authentication-Results from our server)");
	rc = hold_screened(j, "possible spoof of a participant's address:%s", why.s);
	buf_free(&why);
	return rc;
}

/* What a reserved token commands, or NULL: moderation (mod-), a survey
 * answer (survey-), an export request (audit), an escalation ack (esc-). */
static const char *
command_of(const char *token)
{
	if (!token)
		return NULL;
	if (!strncmp(token, "mod-", 4))
		return "moderation";
	if (!strncmp(token, "survey-", 7))
		return "survey";
	if (!strcmp(token, "audit"))
		return "export";
	if (!strncmp(token, "esc-", 4))
		return "escalation";
	if (!strncmp(token, "spot-", 5))
		return "spotcheck";
	return NULL;
}

/* Record j as a command of kind not taken (outcome says why); never
 * answered: its sender may be forged. */
static enum mg_status
refused(struct job *j, const char *kind, const char *outcome)
{
	enum mg_status rc;

	if ((rc = store_begin(j->s)) != MG_OK)
		return rc;
	if ((rc = store_msg_command(j->s, j->id, kind, outcome, j->m->from.addr, j->m->subject,
	    j->m->text)) != MG_OK) {
		store_rollback(j->s);
		return rc;
	}
	return store_commit(j->s);
}

/* Every command by mail meets one rule: with require_authentication (the
 * default where authserv_id is set), our server must vouch for the From
 * domain.  A refused command is recorded and never answered (its sender
 * may be forged).  MG_NOTFOUND when the command may go on. */
static enum mg_status
unauthenticated_command(struct job *j, const char *kind)
{
	struct authres a;
	char *from, *outcome;
	enum mg_status rc;

	if (!j->c->require_authentication || !j->c->authserv_id)
		return MG_NOTFOUND;	/* (then decisions are confirmed instead) */
	authres_check(j->raw, j->rawlen, j->c->authserv_id, j->m->from.addr, &a);
	if (a.authenticated)
		return MG_NOTFOUND;
	from = mg_lower(j->m->from.addr ? j->m->from.addr : "");
	outcome = xasprintf("%s command from %s refused: not authenticated (%s)", kind, from,
	    a.trusted ? "no pass for the sender's domain" : "no Authentication-Results from our server");
	log_warn("relay refused command id=%lld kind=%s from=%s: not authenticated", (long long)j->id,
	    kind, from);
	rc = refused(j, kind, outcome);
	free(from);
	free(outcome);
	return rc;
}

/* At most n bytes of s, cut at a character's start. */
static char *
cut_utf8(const char *s, size_t n)
{
	size_t len = strlen(s);

	if (len <= n)
		return xstrdup(s);
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return xasprintf("%.*s [...]", (int)n, s);
}

/* Without our server's word (no authserv_id), a decision or an ack from a
 * listed address about an open hold or escalation is carried out only once
 * that address confirms it (confirm.h); MG_NOTFOUND when the command needs
 * no confirmation (it decides nothing: the handler refuses or answers it). */
static enum mg_status
ask_confirmation(struct job *j, const char *kind)
{
	const struct conf *c = j->c;
	char *from = mg_lower(j->m->from.addr ? j->m->from.addr : "");
	char *text = reply_extract(j->m->text ? j->m->text : "", j->m->text ? strlen(j->m->text) : 0);
	char *what = NULL, *note = NULL, *subject = NULL, *shown;
	const char *p = text;
	struct moderate_decision d = {0};
	enum mg_status rc = MG_NOTFOUND;
	int64_t hold = 0;

	while (isspace((unsigned char)*p))
		p++;
	shown = cut_utf8(p, 2000);	/* all of it: an edit's text is what goes out */
	if (!strcmp(kind, "moderation") && moderate_may(j->s, c, j->token + 4, from) &&
	    moderate_parse(text, &d, &note) == MG_OK &&
	    (rc = moderate_open(j->s, j->token + 4, &hold, &subject)) == MG_OK)
		what = xasprintf("%s on hold %lld (\"%s\"):\n\n%s", moderate_verb(d.verb), (long long)hold,
		    subject, shown);
	else if (!strcmp(kind, "escalation") && escalate_may_ack(j->s, c, j->token + 4, from) &&
	    !strncasecmp(p, "ack", 3) && !isalpha((unsigned char)p[3]) &&
	    (rc = escalate_open(j->s, j->token + 4)) == MG_OK)
		what = xstrdup("ack (you are dealing with an urgent safeguarding alert)");
	if (what)
		rc = confirm_ask(j->s, c, j->id, j->token, from, what, j->m);
	else if (rc == MG_OK)
		rc = MG_NOTFOUND;
	free(from);
	free(text);
	free(what);
	free(note);
	free(subject);
	free(shown);
	return rc;
}

/* Mail to LOCAL+confirm-TOKEN: the command it confirms is carried out now,
 * as if it had just arrived; a refusal is recorded, never answered. */
static enum mg_status
confirmed(struct job *j)
{
	const char *token = j->token + 8, *why;
	char *command = NULL, *raw = NULL, *outcome;
	int64_t orig = 0;
	size_t len;
	struct mime_msg *m;
	enum mg_status rc;

	rc = confirm_check(j->s, token, j->m, &orig, &command, &why);
	if (rc == MG_DENIED || rc == MG_NOTFOUND) {
		outcome = xasprintf("confirmation refused: %s", why);
		log_warn("relay confirmation refused id=%lld: %s", (long long)j->id, why);
		rc = refused(j, "confirmation", outcome);
		free(outcome);
		return rc;
	}
	if (rc != MG_OK)
		return rc;
	if ((rc = store_msg_raw(j->s, orig, &raw, &len)) != MG_OK) {
		free(command);
		return rc;
	}
	/* (the command first, then the close: a crash between them carries
	 * it out again, which a decision or an ack takes as already done) */
	m = mime_parse(raw, len);
	if (!strncmp(command, "mod-", 4))
		rc = moderate_reply(j->s, j->c, orig, command + 4, m);
	else
		rc = escalate_reply(j->s, j->c, orig, command + 4, m);
	if (rc == MG_OK) {
		outcome = xasprintf("confirmed message %lld", (long long)orig);
		rc = confirm_close(j->s, j->id, token, j->m, outcome);
		free(outcome);
	}
	mime_free(m);
	free(raw);
	free(command);
	return rc;
}

/* Read the message (j->raw): everything that does not depend on who it
 * is from or on the database, so any thread may do it. */
static void
job_read(struct job *j)
{
	j->m = mime_parse(j->raw, j->rawlen);
	j->topic = thread_topic(j->m->subject);
	j->d.body = j->m->text;
	j->d.subject = j->m->subject;
	j->d.from_addr = j->m->from.addr;
	j->d.in_reply_to = j->m->in_reply_to.n ? j->m->in_reply_to.v[0] : NULL;
	j->d.topic = j->topic;
	for (size_t i = 0; i < j->m->natt; i++)
		buf_printf(&j->att, "%s\t%s\t%zu\n", j->m->att[i].filename ? j->m->att[i].filename : "",
		    j->m->att[i].type, j->m->att[i].size);
	j->d.attachments = j->att.s;
	j->token = route_token(j->c->relay_local, j->c->relay_domain, j->m, &j->token_header);
	j->d.token = j->token;
	classify_parsed(j->raw, j->rawlen, j->m, &j->cl);
}

/* Load the stored message and read it. */
static enum mg_status
job_prepare(struct job *j)
{
	enum mg_status rc;

	if ((rc = store_msg_raw(j->s, j->id, &j->raw, &j->rawlen)) != MG_OK)
		return rc;
	job_read(j);
	job_extract(j);
	return MG_OK;
}

/* The pair the token names (recorded whatever follows) and its
 * conversation; MG_NOTFOUND when the token names none. */
static enum mg_status
job_pair(struct job *j)
{
	enum mg_status rc;

	rc = j->token ? roster_pair_by_token(j->s, j->token, &j->pair, &j->to_mentor) : MG_NOTFOUND;
	if (rc != MG_OK)
		return rc;
	j->d.pair_id = j->pair.id;
	if ((rc = thread_assign(j->s, j->pair.id, j->id, j->m, j->topic, &j->d.thread_id)) != MG_OK)
		return rc;
	j->author = j->to_mentor ? &j->pair.mentee : &j->pair.mentor;
	j->recipient = j->to_mentor ? &j->pair.mentor : &j->pair.mentee;
	j->author_token = j->to_mentor ? j->pair.to_mentee_token : j->pair.to_mentor_token;
	j->recipient_token = j->to_mentor ? j->pair.to_mentor_token : j->pair.to_mentee_token;
	return MG_OK;
}

/* The newest active pair of a person, else their newest pair. */
static int
newest_pair(const struct roster_pair *p, void *arg)
{
	int64_t *best = arg;	/* [0] any, [1] active */

	best[0] = p->id > best[0] ? p->id : best[0];
	if (!strcmp(p->state, "active") && p->id > best[1])
		best[1] = p->id;
	return 0;
}

/* Mail from a known participant to the programme's own address (the
 * welcome mail invites it: "if anything worries you, write to ..."): it is
 * theirs and their pair's (so it is in the pair's export), screened and
 * escalated like any message, and held for the coordinators, who close it
 * (nothing is relayed).  MG_NOTFOUND when the sender is no participant. */
static enum mg_status
to_programme(struct job *j)
{
	char *from = mg_lower(j->m->from.addr ? j->m->from.addr : ""), *reason;
	int64_t best[2] = { 0, 0 };
	enum mg_status rc;
	int unsure = 0;

	rc = roster_person_by_email(j->s, from, &j->sender);
	free(from);
	if (rc != MG_OK)
		return rc;
	if (!strcmp(j->sender.role, "coordinator") || !strcmp(j->sender.role, "safeguarding"))
		return MG_NOTFOUND;
	if ((rc = roster_pairs_of(j->s, j->sender.id, newest_pair, best)) != MG_OK)
		return rc;
	j->author = &j->sender;
	if (best[1] || best[0]) {
		if ((rc = roster_pair_get(j->s, best[1] ? best[1] : best[0], &j->pair)) != MG_OK)
			return rc;
		j->d.pair_id = j->pair.id;
		j->author = j->pair.mentee.id == j->sender.id ? &j->pair.mentee : &j->pair.mentor;
		if ((rc = thread_assign(j->s, j->pair.id, j->id, j->m, j->topic, &j->d.thread_id)) !=
		    MG_OK)
			return rc;
	}
	j->d.author_id = j->author->id;
	if (j->c->authserv_id) {
		struct authres a;
		authres_check(j->raw, j->rawlen, j->c->authserv_id, j->m->from.addr, &a);
		unsure = !a.authenticated;
	}
	if (j->c->rules && screen(j))
		reason = xasprintf("%s (written to the programme's address%s)", j->screen_reason,
		    unsure ? "; not authenticated: maybe not them" : "");
	else
		reason = xasprintf("written to the programme's address by a %s%s: for a coordinator"
		    " (close it when done)", j->author->role,
		    unsure ? " (not authenticated: maybe not them)" : "");
	rc = hold(j, "%s", reason);
	free(reason);
	return rc;
}

/* Is the sender the participant the token expects? */
static int
job_sender_ok(struct job *j)
{
	char *from = mg_lower(j->m->from.addr);
	int yes = !strcmp(from, j->author->email);

	free(from);
	if (yes) {
		j->d.author_id = j->author->id;
		j->d.recipient_id = j->recipient->id;
	}
	return yes;
}

/* Decide read message j->id (state 'received'). */
static enum mg_status
decide(struct job *j)
{
	struct store *s = j->s;
	const struct conf *c = j->c;
	int64_t id = j->id, n;
	const char *cmd;
	enum mg_status rc;

	if (j->token && !strncmp(j->token, "bounce-", 7)) {
		rc = verp_report(j, &j->cl);
		goto out;
	}
	if (j->m->malformed) {
		rc = hold_screened(j, "malformed: %s", j->m->malformed);
		goto out;
	}
	if ((rc = job_pair(j)) != MG_OK && rc != MG_NOTFOUND)
		goto out;
	/* (a coordinator's out-of-office must not answer a hold: automatic
	 * mail is sorted out first) */
	if ((rc = automatic(j, j->raw, j->rawlen, &j->cl)) != MG_NOTFOUND)
		goto out;
	if ((cmd = command_of(j->token)) && (rc = unauthenticated_command(j, cmd)) != MG_NOTFOUND)
		goto out;
	/* a survey's free text is read by nobody at once: a disclosure in it
	 * goes to the coordinators and the safeguarding list */
	if (cmd && !strcmp(cmd, "survey") && c->rules && screen(j) && j->escalate) {
		rc = hold(j, "%s (in a survey reply)", j->screen_reason);
		goto out;
	}
	if (cmd && c->require_authentication && !c->authserv_id &&
	    (rc = ask_confirmation(j, cmd)) != MG_NOTFOUND)
		goto out;
	if (j->token && !strncmp(j->token, "confirm-", 8)) {
		rc = confirmed(j);
		goto out;
	}
	if (j->token && !strncmp(j->token, "mod-", 4)) {
		rc = moderate_reply(s, c, id, j->token + 4, j->m);
		goto out;
	}
	if (j->token && !strncmp(j->token, "survey-", 7)) {
		rc = survey_reply(s, c, id, j->token + 7, j->m);
		goto out;
	}
	if (j->token && !strcmp(j->token, "audit")) {
		rc = export_reply(s, c, id, j->m);
		goto out;
	}
	if (j->token && !strncmp(j->token, "esc-", 4)) {
		rc = escalate_reply(s, c, id, j->token + 4, j->m);
		goto out;
	}
	if (j->token && !strncmp(j->token, "spot-", 5)) {
		rc = spotcheck_reply(s, c, id, j->token + 5, j->m);
		goto out;
	}
	if (!j->token) {
		if ((rc = to_programme(j)) == MG_NOTFOUND)
			rc = hold_screened(j, "not addressed to a masked relay address%s", "");
		goto out;
	}
	if (!j->d.pair_id) {
		rc = hold_screened(j, "unknown token %s", j->token);
		goto out;
	}
	if (!job_sender_ok(j)) {
		char *from = mg_lower(j->m->from.addr);
		rc = hold_screened(j, "sender %s is not the participant expected for this address", from);
		free(from);
		goto out;
	}
	j->relaying = 1;
	if (c->authserv_id && (rc = spoofed(j)) != MG_NOTFOUND)
		goto out;
	if (c->rules && screen(j)) {
		rc = hold(j, "%s", j->screen_reason);
		goto out;
	}
	if (c->rules && c->pair_signals && (rc = signals(j)) != MG_NOTFOUND)
		goto out;
	int att_policy = !strcmp(j->author->role, "mentee") ? c->mentee_attachments :
	    c->mentor_attachments;
	if (j->m->natt && att_policy == CONF_ATT_HOLD) {
		char n[24];
		snprintf(n, sizeof n, "%zu", j->m->natt);
		rc = hold(j, "attachments (%s) wait for a coordinator", n);
		goto out;
	}
	if (strcmp(j->pair.state, "active")) {
		rc = hold(j, "pair is %s", j->pair.state);
		goto out;
	}
	if (j->recipient->paused) {
		rc = hold(j, RELAY_PAUSED, j->recipient->email);
		goto out;
	}
	if ((rc = store_relayed_since(s, j->pair.id, mg_now() - 86400, &n)) != MG_OK)
		goto out;
	if (n >= c->pair_daily_cap) {
		char cap[16];
		snprintf(cap, sizeof cap, "%d", c->pair_daily_cap);
		rc = hold(j, "the pair reached its daily cap of %s relayed messages", cap);
		goto out;
	}
	rc = relay(j);
out:
	if (rc != MG_OK)
		log_warn("relay error id=%lld status=\"%s\"", (long long)id, mg_strerror(rc));
	job_free(j);
	return rc;
}

enum mg_status
relay_decide(struct store *s, const struct conf *c, int64_t id)
{
	struct job j = { .s = s, .c = c, .id = id };
	enum mg_status rc;

	if ((rc = job_prepare(&j)) != MG_OK) {
		log_warn("relay error id=%lld status=\"%s\"", (long long)id, mg_strerror(rc));
		job_free(&j);
		return rc;
	}
	return decide(&j);
}

/* Read r if not yet, extracting and screening it too if all. */
static void
msg_read(struct relay_msg *r, int all)
{
	if (!r->read) {
		ident_read(&r->d, r->j.raw, r->j.rawlen);
		job_read(&r->j);
		r->read = 1;
	}
	if (all) {
		job_extract(&r->j);
		job_screen_ahead(&r->j);
	}
}

struct relay_msg *
relay_read(const struct conf *c, char *raw, size_t len, int ahead)
{
	struct relay_msg *r = xcalloc(1, sizeof *r);

	r->j.c = c;
	r->j.raw = raw;
	r->j.rawlen = len;
	if (ahead)
		msg_read(r, 1);
	return r;
}

enum mg_status
relay_store_msg(struct store *s, const char *mailbox, uint32_t uidvalidity, uint32_t uid,
    struct relay_msg *r, int64_t *id)
{
	msg_read(r, 0);
	return store_ident(s, mailbox, uidvalidity, uid, r->j.raw, r->j.rawlen, &r->d, id);
}

struct relay_msg *
relay_msg_oversized(uint32_t size)
{
	struct relay_msg *r = xcalloc(1, sizeof *r);

	r->oversized = size;
	return r;
}

uint32_t
relay_msg_size_over(const struct relay_msg *r)
{
	return r->oversized;
}

const char *
relay_msg_raw(const struct relay_msg *r, size_t *len)
{
	*len = r->j.rawlen;
	return r->j.raw;
}

void
relay_msg_free(struct relay_msg *r)
{
	if (!r)
		return;
	job_free(&r->j);
	ident_clear(&r->d);
	free(r);
}

enum mg_status
relay_decide_msg(struct store *s, int64_t id, struct relay_msg *r)
{
	enum mg_status rc;

	r->j.s = s;
	r->j.id = id;
	msg_read(r, 0);
	job_extract(&r->j);
	rc = decide(&r->j);	/* (which frees the job) */
	ident_clear(&r->d);
	free(r);
	return rc;
}

/* A note stored in the place of message uid, which was not read (what:
 * the reason, one line; text: the body, CRLF lines), and held for a
 * coordinator as kind: so that it is handled like the rest. */
static enum mg_status
note(struct store *s, const struct conf *c, uint32_t uidvalidity, uint32_t uid, const char *kind,
    const char *subject, const char *what, const char *text, int64_t *id)
{
	struct job j = { .s = s, .c = c };
	enum mg_status rc;
	char *raw;

	raw = xasprintf("From: <%s@%s>\r\nSubject: %s\r\n"
	    "Message-ID: <%s.%u.%u@%s>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n%s"
	    "So that the mail after it goes on, mentorgate handles it like the rest\r\n"
	    "without reading it: someone with access to the mailbox should read it\r\n"
	    "there.\r\n", c->relay_local, c->relay_domain, subject, kind, uidvalidity, uid,
	    c->relay_domain, text);
	rc = relay_store(s, c->imap_mailbox, uidvalidity, uid, raw, strlen(raw), id);
	free(raw);
	if (rc == MG_OK) {
		j.id = *id;
		if ((rc = job_prepare(&j)) == MG_OK) {
			j.d.kind = kind;
			rc = hold(&j, "%s", what);
		}
		job_free(&j);
	}
	return rc;
}

enum mg_status
relay_unreadable(struct store *s, const struct conf *c, uint32_t uidvalidity, uint32_t uid,
    int fails, const char *error, int64_t *id)
{
	/* the server's words: one plain line */
	char *why = mg_oneline(xstrdup(error && *error ? error : "no reason given"));
	char *what = xasprintf("the IMAP server could not deliver it: %s", why);
	char *text = xasprintf("The IMAP server failed to deliver message UID %u (UIDVALIDITY %u) of\r\n"
	    "mailbox %s in %d passes in a row. Its last error:\r\n\r\n%s\r\n\r\n",
	    uid, uidvalidity, c->imap_mailbox, fails, why);
	enum mg_status rc = note(s, c, uidvalidity, uid, "unreadable", "Unreadable message", what,
	    text, id);

	free(why);
	free(what);
	free(text);
	return rc;
}

enum mg_status
relay_oversized(struct store *s, const struct conf *c, uint32_t uidvalidity, uint32_t uid,
    uint32_t size, int64_t *id)
{
	char *what = xasprintf("it has %u bytes, over max_message_size (%d)", size,
	    c->imap_max_size);
	char *text = xasprintf("Message UID %u (UIDVALIDITY %u) of mailbox %s has %u bytes,\r\n"
	    "more than max_message_size (%d bytes) allows.\r\n\r\n",
	    uid, uidvalidity, c->imap_mailbox, size, c->imap_max_size);
	enum mg_status rc = note(s, c, uidvalidity, uid, "oversized", "Oversized message", what,
	    text, id);

	free(what);
	free(text);
	return rc;
}

enum mg_status
relay_release(struct store *s, const struct conf *c, int64_t id, const char *body,
    const char *subject, struct buf *why)
{
	struct job j = { .s = s, .c = c, .id = id, .in_tx = 1, .body_override = body,
		.subject_override = subject };
	enum mg_status rc;

	if ((rc = job_prepare(&j)) != MG_OK)
		goto out;
	if (j.m->malformed || job_pair(&j) != MG_OK || !job_sender_ok(&j)) {
		buf_adds(why, "it is not a participant's message to their partner, so there is "
		    "nobody to relay it to (close the hold instead)");
		rc = MG_DENIED;
		goto out;
	}
	if (j.recipient->paused) {
		buf_printf(why, "relay to %s is paused (their address bounces); resume it first",
		    j.recipient->email);
		rc = MG_DENIED;
		goto out;
	}
	j.d.kind = "message";
	if ((rc = relay(&j)) != MG_OK)
		buf_printf(why, "the copy could not be queued (%s)", mg_strerror(rc));
out:
	job_free(&j);
	return rc;
}
