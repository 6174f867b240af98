/* authres: read the trusted Authentication-Results header by the grammar of
 * RFC 8601 section 2.2, never by substring, and decide whether it vouches for
 * the From domain.  Comments are skipped whole and quoted strings read whole,
 * so nothing inside either is taken for a result. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "mg.h"

enum { M_DKIM, M_SPF, M_DMARC, NMETHOD };
enum { P_D, P_I, P_FROM, P_MAILFROM, NPROP };

static const char *const methods[NMETHOD] = { "dkim", "spf", "dmarc" };
static const char *const props[NPROP][2] = {
	{ "header", "d" }, { "header", "i" }, { "header", "from" }, { "smtp", "mailfrom" },
};

/* One resinfo: what we judge by.  A value too long for its buffer reads as "". */
struct res {
	char method[16], result[16];
	char prop[NPROP][256];
	int seen[NPROP], dup;
};

static int
kchar(int c)	/* Keyword: letters, digits, hyphens */
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-';
}

static int
dchar(int c)
{
	return c >= '0' && c <= '9';
}

static int
tchar(int c)	/* RFC 2045 token */
{
	return c > ' ' && c < 127 && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* A pvalue word: a token, dot-atom or domain.  Wider than the grammar ('/',
 * '=', ':', '[', ']', '?' pass) for header.b and IPv6 values seen in the wild;
 * none of these can end a resinfo or begin a comment. */
static int
pchar(int c)
{
	return c > ' ' && c < 127 && !strchr("()<>@,;\\\"", c);
}

static void
put(char *out, size_t cap, size_t *n, char c)
{
	if (*n + 1 < cap)
		out[(*n)++] = c;
	else
		*n = cap;	/* too long: cut to "" at the end */
}

/* Skip white space and comments (nested, with quoted-pairs); 0 on an
 * unclosed comment, which leaves *pp at the end. */
static int
sp(const char **pp)
{
	const char *p = *pp;
	size_t depth = 0;	/* not int: a huge header must not overflow it */

	for (; *p; p++) {
		if (*p == '(')
			depth++;
		else if (depth && *p == ')')
			depth--;
		else if (depth && *p == '\\' && p[1])
			p++;
		else if (!depth && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			break;
	}
	*pp = p;
	return !depth;
}

/* A run of characters accepted by cls or, if q, a quoted-string, appended
 * unescaped to out at *n.  0 when there is none or the quote is unclosed. */
static int
word(const char **pp, int (*cls)(int), int q, char *out, size_t cap, size_t *n)
{
	const char *p = *pp;

	if (q && *p == '"') {
		for (p++; *p != '"'; p++) {
			if (!*p || (*p == '\\' && !*++p))
				return 0;
			put(out, cap, n, *p);
		}
		*pp = p + 1;
		return 1;
	}
	for (; cls((unsigned char)*p); p++)
		put(out, cap, n, *p);
	if (p == *pp)
		return 0;
	*pp = p;
	return 1;
}

/* [CFWS] then one word into out (NULL to discard). */
static int
tok(const char **pp, int (*cls)(int), int q, char *out, size_t cap)
{
	size_t n = 0;
	int ok = sp(pp) && word(pp, cls, q, out, cap, &n);

	if (out)
		out[n < cap ? n : 0] = '\0';
	return ok;
}

static int
ch(const char **pp, char c)
{
	if (!sp(pp) || **pp != c)
		return 0;
	(*pp)++;
	return 1;
}

/* pvalue: a value, or [local-part] "@" domain, with no CFWS inside. */
static int
pvalue(const char **pp, char *out, size_t cap)
{
	size_t n = 0;
	int ok = sp(pp);

	if (ok && **pp != '@')
		ok = word(pp, pchar, 1, out, cap, &n);
	if (ok && **pp == '@') {
		put(out, cap, &n, *(*pp)++);
		ok = word(pp, pchar, 0, out, cap, &n);
	}
	if (out)
		out[n < cap ? n : 0] = '\0';
	return ok;
}

/* One resinfo after its ';': method ["/" version] "=" result
 * [reason=value] *propspec.  1 when it all parsed; otherwise r->result is
 * set only if the method and result were read. */
static int
resinfo(const char **pp, struct res *r)
{
	char ptype[16], prop[16];
	const char *save;
	size_t k;

	memset(r, 0, sizeof *r);
	if (!tok(pp, kchar, 0, r->method, sizeof r->method))
		return 0;
	if (ch(pp, '/') && !tok(pp, dchar, 0, NULL, 0))
		return 0;
	if (!ch(pp, '=') || !tok(pp, kchar, 0, r->result, sizeof r->result))
		return 0;
	save = *pp;
	if (tok(pp, kchar, 0, ptype, sizeof ptype) && !strcasecmp(ptype, "reason") &&
	    ch(pp, '=')) {
		if (!tok(pp, tchar, 1, NULL, 0))
			return 0;
	} else
		*pp = save;
	for (;;) {
		if (!sp(pp))
			return 0;
		if (!**pp || **pp == ';')
			return 1;
		if (!tok(pp, kchar, 0, ptype, sizeof ptype) || !ch(pp, '.') ||
		    !tok(pp, kchar, 0, prop, sizeof prop) || !ch(pp, '='))
			return 0;
		for (k = 0; k < NPROP && (strcasecmp(ptype, props[k][0]) ||
		    strcasecmp(prop, props[k][1])); k++)
			;
		if (k < NPROP && r->seen[k]++)
			r->dup = 1;	/* which one would we believe? */
		if (!pvalue(pp, k < NPROP ? r->prop[k] : NULL, k < NPROP ? sizeof r->prop[k] : 0))
			return 0;
	}
}

/* Past what is left of a resinfo that did not parse: to the next ';'
 * outside quoted-strings and comments, or the end. */
static void
skip(const char **pp)
{
	const char *p = *pp;
	size_t depth = 0;
	int q = 0;

	for (; *p && (depth || q || *p != ';'); p++) {
		if (*p == '\\' && (depth || q) && p[1])
			p++;
		else if (q)
			q = *p != '"';
		else if (*p == '"' && !depth)
			q = 1;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
	}
	*pp = p;
}

static enum authres_result
verdict(const char *s)
{
	if (!strcasecmp(s, "pass"))
		return AUTHRES_PASS;
	if (!strcasecmp(s, "fail") || !strcasecmp(s, "softfail") ||
	    !strcasecmp(s, "hardfail") || !strcasecmp(s, "permerror"))
		return AUTHRES_FAIL;
	return AUTHRES_NONE;
}

/* The domain of an address: after the last '@', or all of it. */
static const char *
domain(const char *s)
{
	const char *at = strrchr(s, '@');

	return at ? at + 1 : s;
}

/* At least two labels, none empty: "school.test", never "com" or ".uk". */
static int
twolabels(const char *s)
{
	size_t n = strlen(s);

	return n && s[0] != '.' && s[n - 1] != '.' && strchr(s, '.') && !strstr(s, "..");
}

/* Relaxed alignment: equal, or one a subdomain of the other, both with two
 * labels or more.  Without a public suffix list, "co.uk" counts. */
static int
aligned(const char *x, const char *y)
{
	size_t nx = strlen(x), ny = strlen(y);

	if (nx > ny)
		return aligned(y, x);
	if (!twolabels(x) || !twolabels(y))
		return 0;
	if (nx == ny)
		return !strcasecmp(x, y);
	return y[ny - nx - 1] == '.' && !strcasecmp(y + ny - nx, x);
}

/* Does a pass of method m, with r's properties, vouch for from? */
static int
vouches(int m, const struct res *r, const char *from)
{
	const char *d = NULL;

	if (!from || !*from)
		return 0;
	if (m == M_DMARC)
		return !r->seen[P_FROM] || !strcasecmp(r->prop[P_FROM], from);
	if (m == M_DKIM && r->seen[P_D])
		d = r->prop[P_D];
	else if (m == M_DKIM && r->seen[P_I])
		d = domain(r->prop[P_I]);
	else if (m == M_SPF && r->seen[P_MAILFROM])
		d = domain(r->prop[P_MAILFROM]);	/* smtp.helo never */
	return d && aligned(d, from);
}

int
authres_parse(const char *value, const char *authserv_id, const char *from_domain,
    struct authres *a)
{
	const char *p = value;
	char id[256], ver[8];
	int pass[NMETHOD] = {0}, fail[NMETHOD] = {0}, auth = 0, ok, m;
	struct res r;

	memset(a, 0, sizeof *a);
	if (!value || !authserv_id || !*authserv_id || !tok(&p, tchar, 1, id, sizeof id) ||
	    strcasecmp(id, authserv_id))
		return 0;
	a->trusted = 1;
	if (sp(&p) && dchar((unsigned char)*p) && (!tok(&p, dchar, 0, ver, sizeof ver) ||
	    strtol(ver, NULL, 10) != 1))
		return 1;	/* a version we do not know: believe nothing */
	while (sp(&p) && *p) {
		if (*p != ';') {	/* the rest of a resinfo that broke off, or junk */
			skip(&p);
			continue;
		}
		p++;
		ok = resinfo(&p, &r);
		for (m = 0; m < NMETHOD && strcasecmp(r.method, methods[m]); m++)
			;
		/* A fail is believed even from a resinfo that breaks off later
		 * (it can only cost the sender); a pass only from a whole one. */
		if (m < NMETHOD && verdict(r.result) == AUTHRES_FAIL)
			fail[m] = 1;
		else if (m < NMETHOD && ok && !r.dup && verdict(r.result) == AUTHRES_PASS) {
			pass[m] = 1;
			auth |= vouches(m, &r, from_domain);
		}
	}
	a->dkim = pass[M_DKIM] ? AUTHRES_PASS : fail[M_DKIM] ? AUTHRES_FAIL : AUTHRES_NONE;
	a->spf = pass[M_SPF] ? AUTHRES_PASS : fail[M_SPF] ? AUTHRES_FAIL : AUTHRES_NONE;
	a->dmarc = fail[M_DMARC] ? AUTHRES_FAIL : pass[M_DMARC] ? AUTHRES_PASS : AUTHRES_NONE;
	a->authenticated = auth && !fail[M_DMARC];
	return 1;
}

/* The end of the header field starting at i: its last line's LF, or len. */
static size_t
fieldend(const char *raw, size_t len, size_t i)
{
	for (;;) {
		const char *lf = memchr(raw + i, '\n', len - i);
		if (!lf)
			return len;
		i = (size_t)(lf - raw) + 1;
		if (i >= len || (raw[i] != ' ' && raw[i] != '\t'))
			return i - 1;
	}
}

void
authres_check(const char *raw, size_t len, const char *authserv_id, const char *from_addr,
    struct authres *a)
{
	static const char name[] = "Authentication-Results";
	const size_t nl = sizeof name - 1;
	const char *from = from_addr && strchr(from_addr, '@') ? domain(from_addr) : NULL;
	size_t i, e, k;
	char *v;
	int ours;

	memset(a, 0, sizeof *a);
	for (i = 0; raw && i < len; i = e + 1) {
		if (raw[i] == '\n' || (raw[i] == '\r' && (i + 1 == len || raw[i + 1] == '\n')))
			break;	/* the end of the header block */
		e = fieldend(raw, len, i);
		if (e - i <= nl || raw[i + nl] != ':' || strncasecmp(raw + i, name, nl))
			continue;
		/* Folds stay: CR and LF are white space to the parser.  A NUL
		 * becomes DEL, which nothing accepts outside a comment or quote. */
		v = xmalloc(e - i - nl);
		for (k = i + nl + 1; k < e; k++)
			v[k - i - nl - 1] = raw[k] ? raw[k] : 0x7f;
		v[e - i - nl - 1] = '\0';
		ours = authres_parse(v, authserv_id, from, a);
		free(v);
		if (ours)
			break;
	}
}
