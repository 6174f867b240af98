/* classify: delivery status notifications (RFC 3464 multipart/report and
 * the common non-standard MTA formats) and automatic replies (RFC 3834 and
 * the headers and subjects responders use in practice).
 *
 * A report with a message/delivery-status part is read field by field.
 * Without one, a bounce needs X-Failed-Recipients, or a sender that is a
 * mail system (a mailer-daemon address, a null Return-Path) saying so (a
 * bounce subject, a failure phrase in the text); its failed addresses are
 * then read from the explanation that precedes the returned original. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify.h"
#include "mg.h"
#include "mime.h"
#include "pattern.h"

enum pat {
	P_SUBJ_BOUNCE,
	P_SUBJ_DELAY,
	P_SUBJ_VACATION,
	P_BODY_BOUNCE,
	P_BODY_DELAY,
	P_ORIGINAL,	/* where the returned original starts */
	P_ADDR,
	P_DAEMON,	/* the sender of a bounce */
	P_REPLY_SUBJ,	/* "Re: ..." */
	P_HDR_LINE,	/* "  To: list@host" quoting the original's headers */
	P_BARE_RCPT,	/* "following recipients ...:" then a bare name */
	P_COUNT
};

static const char *const pat_src[P_COUNT] = {
	[P_SUBJ_BOUNCE] = "undeliver|undelivered mail|returned mail|return(ed)? to sender|"
	    "delivery (status notification|failure|failed|problem|has failed|report)|"
	    "mail delivery (failed|failure|system|subsystem)|failure notice|"
	    "non.?deliver|could not (be )?deliver|delivery notification|"
	    "mail system error|message not delivered|not delivered|nicht zustellbar|"
	    "unzustellbar|non remis|échec de la remise|no se puede entregar|"
	    "rejected|bounced|permanent error|mail failure|mailer.?daemon|"
	    "delivery unsuccessful|message delivery|unable to deliver|onbestelbaar|"
	    "impossible de remettre|devuelto|zurückgeschickt|não entregue|"
	    "non recapitabile|recapito non riuscito|kan niet worden bezorgd|"
	    "não foi possível entregar|配信不能|配信エラー|送信エラー|エラー通知|"
	    "メール不達|退信|无法投递|未送达|недоставлен|не доставлено|nie dostarczono|"
	    "nedoručitelné|kézbesíthetetlen|levererades inte|kunne ikke leveres",
	[P_SUBJ_DELAY] = "delay|warning: could not send|still being retried|"
	    "not yet (been )?delivered|retrying|temporar|deferred|verzögert|"
	    "délai|retardé",
	[P_SUBJ_VACATION] = "out of (the )?office|\\bauto(matic)?[ -]?(reply|response|"
	    "antwort|answer|svar|vastaus)|\\bauto:|autoreply|autoresponder|"
	    "on vacation|on holiday|on leave|vacation (reply|message|notice)|\\babsence\\b|"
	    "away from (the )?office|away until|abwesenheit|automatische antwort|"
	    "nicht im büro|réponse automatique|absent(e)? du bureau|"
	    "respuesta automática|respuesta automatica|fuera de la oficina|"
	    "risposta automatica|fuori ufficio|automatisch antwoord|afwezig|"
	    "autosvar|frånvaro|fraværende|automaattinen vastaus|poissa|"
	    "automatyczna odpowied|nieobecn|автоответ|автоматический ответ|"
	    "resposta automática|ausente|fora do escritório|自动回复|自動回覆|"
	    "im urlaub|en vacances|de vacaciones|in vacanza|op vakantie|på semester|"
	    "på ferie|na urlopie|в отпуске|休暇中|不在のお知らせ|자동 응답|휴가 중|"
	    "automatické odpověď|automatická odpověď|automaattinen|"
	    "thank you for (your )?(e-?mail|message|contacting)|"
	    "we (have )?received your (e-?mail|message|request)",
	[P_BODY_BOUNCE] = "could not be delivered|couldn't be delivered|"
	    "was not delivered|wasn't delivered|undeliverable|undelivered|"
	    "delivery (to the following recipients? )?(has )?failed|"
	    "permanent(ly)? (fatal )?(error|failure)|fatal errors?|"
	    "user unknown|unknown user|no such (user|mailbox|recipient|address)|"
	    "mailbox (unavailable|not found|is full|full|disabled|does not exist)|"
	    "recipient address rejected|address rejected|does not exist|"
	    "returned to sender|returning (this|your) message|"
	    "message could not|unable to deliver|delivery failure|failed recipient|"
	    "this is the (qmail-send|mail system|postfix)|mail delivery (software|failed)|"
	    "the following (addresses|recipients?|message) (had|has|could|failed|was)|"
	    "not (be )?delivered to|delivery to the following|"
	    "550[ -]|5\\.[0-7]\\.[0-9]{1,3}|smtp error|host unknown|"
	    "nicht zugestellt|unzustellbar|n'a pas pu être remis|non remis|"
	    "i'm sorry to have to inform you|i'm afraid i wasn't able|"
	    "message you sent .{0,40}(could not|was not|has not)|rejected|"
	    "quota exceeded|over quota|account (has been )?(disabled|suspended|expired)|"
	    "no longer (active|valid|available)|inactive account|"
	    "not a valid (user|recipient|address|mailbox)|invalid (recipient|address|mailbox|user)|"
	    "has been returned|returned mail follows|intended recipient|"
	    "message (was|has been) (rejected|returned|bounced)",
	[P_BODY_DELAY] = "has not (yet )?been delivered|not yet been delivered|"
	    "will (continue to|keep) tr(y|ying)|will be retried|will retry|"
	    "still (be )?(trying|undelivered|not been delivered)|"
	    "(message|delivery) (is |has been )?delayed|delivery delayed|"
	    "warning: message .{0,40}still|temporar(y|ily) (failure|error|problem|unavailable)|"
	    "this is (only )?a warning|no action is required|deferred|"
	    "retry(ing)? (for|until|timeout)|still in (the )?queue",
	[P_ORIGINAL] = "^(?:[-=_ ]*(?:original message|returned message|"
	    "this is a copy of|below this line is a copy|headers? of (the )?original|"
	    "original message (header|follows)|text of the (original )?message|"
	    "undelivered message|message (header|text) follows|"
	    "the (header|text) of the original message)|"
	    "[-=]+ ?(?:original|returned|forwarded) message|"
	    "content-type: (?:message/rfc822|text/rfc822-headers)|"
	    "received: from )",
	[P_ADDR] = "[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
	    "(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+",
	[P_DAEMON] = "^(?:mailer-daemon|mailerdaemon|mail-daemon|postmaster|"
	    "mail\\.?delivery|mdaemon|bounce[sd]?|nobody|mailadmin|"
	    "mail-?administrator|mailman-owner|root|noreply-dmarc)(?:[+@]|$)|"
	    "mail delivery (sub)?system|mail administrator|mailer-daemon|postmaster|"
	    "delivery status notification|mail delivery",
	[P_REPLY_SUBJ] = "^\\s*(?:re|aw|sv|vs|ref|rif|antw|fw|fwd|wg|tr)\\s*:",
	[P_HDR_LINE] = "^[ \\t>]*(?:to|cc|bcc|from|sender|reply-to|subject|date|sent|return-path|message-id|in-reply-to|references|x-[a-z-]+)[ \\t]*:",
	[P_BARE_RCPT] = "following (?:recipients?|address(?:es)?|users?)[^\\n]*:\\s*\\n"
	    "[ \\t]+([a-z0-9][a-z0-9._-]*)[ \\t]*$",
};

static struct pattern *pats[P_COUNT];
static pthread_once_t pats_once = PTHREAD_ONCE_INIT;

static void
pats_compile(void)
{
	pattern_compile(pats, pat_src, P_COUNT, PCRE2_MULTILINE);
}

/* Match p in s[0, n) from off; the match's start and end in *a, *b. */
static int
find(enum pat p, const char *s, size_t n, size_t off, size_t *a, size_t *b)
{
	return pattern_find(pats[p], s, n, off, a, b, NULL) > 0;
}

static int
has(enum pat p, const char *s)
{
	return s && find(p, s, strlen(s), 0, NULL, NULL);
}

static void
add_rcpt(struct classify *c, const char *s, size_t n)
{
	char *a;

	while (n && (*s == '<' || *s == ' ' || *s == '"' || *s == '\t'))
		s++, n--;
	if (n > 5 && (!strncasecmp(s, "smtp=", 5) || !strncasecmp(s, "smtp:", 5)))
		s += 5, n -= 5;
	while (n && (s[n - 1] == '>' || s[n - 1] == ' ' || s[n - 1] == '.' || s[n - 1] == '"'))
		n--;
	if (!n || !memchr(s, '@', n))
		return;
	a = xstrndup(s, n);
	for (char *p = a; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < c->nrcpts; i++)
		if (!strcmp(c->rcpts[i], a)) {
			free(a);
			return;
		}
	c->rcpts = xrealloc(c->rcpts, (c->nrcpts + 1) * sizeof *c->rcpts);
	c->rcpts[c->nrcpts++] = a;
}

/* ---- RFC 3464 message/delivery-status ---- */

/* needle: lower case, starting with a letter. */
static const char *
memcasemem(const char *h, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);

	for (size_t i = 0; nn <= hn && i <= hn - nn; i++)
		if ((h[i] | 0x20) == needle[0] && !strncasecmp(h + i, needle, nn))
			return h + i;
	return NULL;
}

/* The body of the first message/delivery-status part at or after from:
 * [*a, *b). */
static int
dsn_part(const char *raw, size_t len, size_t from, size_t *a, size_t *b)
{
	const char *p = raw + from, *e = raw + len, *hit, *ls, *body, *end;

	while ((hit = memcasemem(p, (size_t)(e - p), "delivery-status")) != NULL) {
		p = hit + 15;
		/* must sit in a Content-Type header of a part */
		for (ls = hit; ls > raw && ls[-1] != '\n'; ls--)
			;
		if (strncasecmp(ls, "content-type:", 13))
			continue;
		if (!((hit - ls >= 21 && !strncasecmp(hit - 8, "message/", 8)) ||
		    (hit - ls >= 28 && !strncasecmp(hit - 15, "message/global-", 15))))
			continue;	/* report-type=delivery-status, not the part */
		/* the part's header block ends at the first empty line */
		for (body = p; body < e; body++)
			if (body[0] == '\n' && (body + 1 < e && (body[1] == '\n' ||
			    (body[1] == '\r' && body + 2 < e && body[2] == '\n'))))
				break;
		if (body >= e)
			return 0;
		body += body[1] == '\n' ? 2 : 3;
		for (end = body; end < e; end++)
			if ((end == body || end[-1] == '\n') && e - end >= 2 && end[0] == '-' &&
			    end[1] == '-')
				break;
		*a = (size_t)(body - raw);
		*b = (size_t)(end - raw);
		return 1;
	}
	return 0;
}

struct dsn_rcpt {
	char *addr;	/* Final-Recipient, when it is an Internet address */
	char *orig;	/* Original-Recipient, likewise */
	char action;	/* 'f' failed, 'd' delayed, 'o' other, '?' unknown word, 0 none */
	char status;	/* first digit of Status, or 0 */
};

/* Value of "Name: value" if line (unfolded) starts with name. */
static const char *
field(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static void
dsn_flush(struct dsn_rcpt *r, struct classify *c, int *failed, int *delayed, struct buf *fail,
    struct buf *delay)
{
	struct buf *to = NULL;

	if (!r->addr) {
		r->addr = r->orig;
		r->orig = NULL;
	}
	if (!r->addr)
		goto out;
	/* RFC 3464 requires Action; without one (challenge-response
	 * systems imitate the format) the block says nothing */
	if (r->action == 'f' || (r->action == '?' && r->status == '5'))
		to = fail, (*failed)++;
	else if (r->action == 'd' || (r->action == '?' && r->status == '4'))
		to = delay, (*delayed)++;
	if (to) {
		buf_adds(to, r->addr);
		buf_addc(to, '\n');
	}
out:
	(void)c;
	free(r->addr);
	free(r->orig);
	memset(r, 0, sizeof *r);
}

/* "rfc822; user@host" -> "user@host"; NULL for other address types
 * (an X.400 O/R name is no use to us). */
static char *
internet_addr(const char *v)
{
	const char *semi = strchr(v, ';');

	if (semi) {
		if (strncasecmp(v, "rfc822", 6) && strncasecmp(v, "utf-8", 5))
			return NULL;
		v = semi + 1;
	}
	return strchr(v, '@') ? xstrdup(v) : NULL;
}

/* RFC 3464 actions, and "failure" as some MTAs write it; an unknown word
 * leaves the decision to Status. */
static char
action(const char *v)
{
	if (!strncasecmp(v, "fail", 4))
		return 'f';
	if (!strncasecmp(v, "delayed", 7))
		return 'd';
	if (!strncasecmp(v, "delivered", 9) || !strncasecmp(v, "relayed", 7) ||
	    !strncasecmp(v, "expanded", 8))
		return 'o';
	return '?';
}

/* Parse a delivery-status body: 1 if it named any recipient. */
static int
dsn_parse(const char *s, size_t n, struct classify *c)
{
	struct dsn_rcpt r = {0};
	struct buf line = {0}, fail = {0}, delay = {0};
	int failed = 0, delayed = 0, any = 0;
	const char *v, *p = s, *e = s + n;

	while (p <= e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;
		size_t ln = (size_t)(le - p);

		if (ln && p[ln - 1] == '\r')
			ln--;
		if (ln && (*p == ' ' || *p == '\t') && line.len) {
			buf_add(&line, p, ln);	/* folded */
		} else {
			if (line.len) {
				if ((v = field(line.s, "final-recipient"))) {
					free(r.addr);
					r.addr = internet_addr(v);
					any = 1;
				} else if ((v = field(line.s, "original-recipient"))) {
					free(r.orig);
					r.orig = internet_addr(v);
					any = 1;
				} else if ((v = field(line.s, "action")))
					r.action = action(v);
				else if ((v = field(line.s, "status")) && isdigit((unsigned char)*v))
					r.status = *v;
			}
			line.len = 0;
			if (line.s)
				line.s[0] = 0;
			if (ln == 0)
				dsn_flush(&r, c, &failed, &delayed, &fail, &delay);
			else
				buf_add(&line, p, ln);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (line.len && (v = field(line.s, "action")))
		r.action = action(v);
	else if (line.len && (v = field(line.s, "status")) && isdigit((unsigned char)*v))
		r.status = *v;
	dsn_flush(&r, c, &failed, &delayed, &fail, &delay);
	if (failed || delayed) {
		struct buf *from = failed ? &fail : &delay;
		char *save, *tok;

		c->kind = CLASS_BOUNCE;
		c->permanent = failed > 0;
		for (tok = strtok_r(from->s, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save))
			add_rcpt(c, tok, strlen(tok));
	}
	buf_free(&line);
	buf_free(&fail);
	buf_free(&delay);
	return any;
}

/* ---- everything else ---- */

static int
is_own(const char *a, size_t n, const struct mime_msg *m)
{
	static const char *const locals[] = {
		"mailer-daemon@", "postmaster@", "mail-daemon@", "root@", "abuse@",
		"noreply@", "no-reply@", "mailerdaemon@",
	};

	for (size_t i = 0; i < sizeof locals / sizeof *locals; i++)
		if (n > strlen(locals[i]) && !strncasecmp(a, locals[i], strlen(locals[i])))
			return 1;
	if (m->from.addr && strlen(m->from.addr) == n && !strncasecmp(a, m->from.addr, n))
		return 1;
	for (size_t i = 0; i < m->to.n; i++)
		if (strlen(m->to.v[i]) == n && !strncasecmp(a, m->to.v[i], n))
			return 1;
	for (size_t i = 0; i < m->delivered_to.n; i++)
		if (strlen(m->delivered_to.v[i]) == n && !strncasecmp(a, m->delivered_to.v[i], n))
			return 1;
	return 0;
}

/* Failed addresses named in the explanation above the returned original. */
static void
text_rcpts(const char *text, struct classify *c, const struct mime_msg *m)
{
	size_t n, off = 0, a, b, g[2];

	if (!text)
		return;
	n = strlen(text);
	if (find(P_ORIGINAL, text, n, 0, &a, NULL))
		n = a;
	while (off < n && find(P_ADDR, text, n, off, &a, &b)) {
		size_t ls = a;
		while (ls > 0 && text[ls - 1] != '\n')
			ls--;
		/* skip message ids ("<...@host>" after "id" or "Message-ID")
		 * and the original's own headers quoted in the explanation */
		int msgid = a >= 1 && text[a - 1] == '<' && a >= 4 &&
		    !strncasecmp(text + a - 4, "id <", 4);
		if (!msgid && !find(P_HDR_LINE, text + ls, a - ls, 0, NULL, NULL) &&
		    !is_own(text + a, b - a, m))
			add_rcpt(c, text + a, b - a);
		off = b;
	}
	/* "could not be delivered to the following recipients:\n\tname":
	 * a name local to the reporting host */
	if (!c->nrcpts && m->from.addr && strchr(m->from.addr, '@') &&
	    pattern_find(pats[P_BARE_RCPT], text, n, 0, NULL, NULL, g) > 0) {
		char *addr = xasprintf("%.*s%s", (int)(g[1] - g[0]), text + g[0],
		    strchr(m->from.addr, '@'));
		add_rcpt(c, addr, strlen(addr));
		free(addr);
	}
}

static int
daemon_sender(const struct mime_msg *m, const char *raw, size_t len)
{
	char *from = mime_header(raw, len, "From");
	char *rp = mime_header(raw, len, "Return-Path");
	int yes = (rp && has(P_DAEMON, rp)) || (m->from.addr && has(P_DAEMON, m->from.addr)) ||
	    (m->from.name && has(P_DAEMON, m->from.name)) || (from && has(P_DAEMON, from));

	free(from);
	free(rp);
	return yes;
}

/* "Return-Path: <>": sent by a mail system, not a person (RFC 5321 4.5.5) */
static int
null_return_path(const char *raw, size_t len)
{
	char *v = mime_header(raw, len, "Return-Path");
	int yes = v && (!*v || !strcmp(v, "<>") || !strcmp(v, "< >"));

	free(v);
	return yes;
}

static int
header_set(const char *raw, size_t len, const char *name)
{
	char *v = mime_header(raw, len, name);
	int yes = v != NULL;

	free(v);
	return yes;
}

static int
autoreply(const char *raw, size_t len, const struct mime_msg *m, struct classify *c)
{
	static const char *const flags[] = {
		"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-AutoReply-From",
		"X-Mail-Autoreply", "X-Autogenerated", "X-Vacation",
	};
	char *v;
	int yes = 0;

	if ((v = mime_header(raw, len, "Auto-Submitted")) && strncasecmp(v, "no", 2)) {
		c->why = "Auto-Submitted";
		yes = 1;
	}
	free(v);
	if (!yes && (v = mime_header(raw, len, "Precedence"))) {
		if (!strncasecmp(v, "bulk", 4) || !strncasecmp(v, "junk", 4) ||
		    !strncasecmp(v, "auto_reply", 10) || !strncasecmp(v, "auto-reply", 10)) {
			c->why = "Precedence";
			yes = 1;
		}
		free(v);
	}
	for (size_t i = 0; !yes && i < sizeof flags / sizeof *flags; i++)
		if (header_set(raw, len, flags[i])) {
			c->why = flags[i];
			yes = 1;
		}
	if (!yes && has(P_SUBJ_VACATION, m->subject)) {
		c->why = "vacation subject";
		yes = 1;
	}
	/* Exchange's "do not answer me" alone marks plenty of ordinary mail */
	if (!yes && null_return_path(raw, len) &&
	    header_set(raw, len, "X-Auto-Response-Suppress")) {
		c->why = "null Return-Path and X-Auto-Response-Suppress";
		yes = 1;
	}
	return yes;
}

void
classify_message(const char *raw, size_t len, struct classify *c)
{
	struct mime_msg *m = mime_parse(raw, len);

	classify_parsed(raw, len, m, c);
	mime_free(m);
}

void
classify_parsed(const char *raw, size_t len, const struct mime_msg *m, struct classify *c)
{
	size_t a, b;
	char *failed;
	int sender, says, subj, reply, body_bounce, dsn = 0;

	memset(c, 0, sizeof *c);
	pthread_once(&pats_once, pats_compile);
	c->why = "";

	/* the first delivery-status part that names a recipient (some
	 * MTAs label their explanation as one too) */
	for (b = 0; !dsn && dsn_part(raw, len, b, &a, &b);) {
		dsn = dsn_parse(raw + a, b - a, c);
		if (c->kind == CLASS_BOUNCE) {
			c->why = "delivery-status report";
			return;
		}
	}
	if (dsn) {
		/* a report of successful delivery: neither a failure nor a
		 * reply (the relay still ignores it as automatic mail) */
		c->why = "delivery-status report without failures";
		return;
	}
	/* non-standard formats */
	failed = mime_header(raw, len, "X-Failed-Recipients");
	/* who sent it: a mail system, or nobody to answer to */
	sender = daemon_sender(m, raw, len) + null_return_path(raw, len);
	/* what it says (the body, the slow part, only where it decides) */
	subj = has(P_SUBJ_BOUNCE, m->subject) || has(P_SUBJ_DELAY, m->subject);
	reply = has(P_REPLY_SUBJ, m->subject);
	body_bounce = !failed && (sender >= 1 ? !subj : subj && !reply) &&
	    has(P_BODY_BOUNCE, m->text);
	says = body_bounce + subj;
	/* or it says so twice, in a subject that is not a person's reply */
	if (!dsn && (failed || (sender >= 1 && says >= 1) || (says >= 2 && !reply))) {
		c->kind = CLASS_BOUNCE;
		c->why = failed ? "X-Failed-Recipients" : "bounce text";
		c->permanent = !(has(P_SUBJ_DELAY, m->subject) || has(P_BODY_DELAY, m->text)) ||
		    failed;
		if (failed)
			for (char *save, *t = strtok_r(failed, ",", &save); t;
			    t = strtok_r(NULL, ",", &save))
				add_rcpt(c, t, strlen(t));
		else
			text_rcpts(m->text, c, m);
	}
	free(failed);
	if (c->kind != CLASS_BOUNCE && autoreply(raw, len, m, c))
		c->kind = CLASS_AUTOREPLY;
}

int
classify_machine(const char *raw, size_t len)
{
	char *v = mime_header(raw, len, "Auto-Submitted");
	int yes = v && strncasecmp(v, "no", 2);

	free(v);
	return yes;
}

void
classify_clear(struct classify *c)
{
	for (size_t i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	memset(c, 0, sizeof *c);
}

char *
classify_line(const struct classify *c)
{
	struct buf b = {0};

	switch (c->kind) {
	case CLASS_BOUNCE:
		buf_adds(&b, c->permanent ? "bounce permanent" : "bounce transient");
		for (size_t i = 0; i < c->nrcpts; i++) {
			buf_addc(&b, i ? ',' : ' ');
			buf_adds(&b, c->rcpts[i]);
		}
		break;
	case CLASS_AUTOREPLY:
		buf_adds(&b, "autoreply");
		break;
	default:
		buf_adds(&b, "message");
	}
	return buf_steal(&b);
}
