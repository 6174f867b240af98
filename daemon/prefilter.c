/* prefilter: the literals a pattern needs, and one pass over a text that
 * finds which patterns' literals it holds.
 *
 * The analysis walks the pattern once.  Each piece is EXACT (it matches
 * exactly one of a few strings), REQ (every match contains one of a set of
 * strings) or ANY (nothing known).  A sequence multiplies out exact runs
 * ("i", "'?", "m" is {"i'm", "im"}) and keeps its most selective set; an
 * alternation unites its branches' sets, and one branch with no set makes
 * the whole ANY.  Zero-width assertions are the empty string, except \b:
 * a word boundary is kept in the strings as BOUND, so that "on" needs the
 * word "on" and not "confidence". */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "prefilter.h"

#define EXACT_MAX 16	/* strings an exact set may multiply out to */
#define REQ_MAX 64	/* strings a required set may hold */
#define BOUND '\x01'	/* \b inside a literal */

enum kind { ANY, REQ, EXACT };

struct info {
	enum kind k;
	char **s;
	size_t n;
};

struct parser {
	const char *p;
	int bad;
};

static void
info_free(struct info *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->s[i]);
	free(in->s);
	*in = (struct info){ ANY, NULL, 0 };
}

static void
set_add(struct info *in, char *s)
{
	for (size_t i = 0; i < in->n; i++)
		if (!strcmp(in->s[i], s)) {
			free(s);
			return;
		}
	in->s = xrealloc(in->s, (in->n + 1) * sizeof *in->s);
	in->s[in->n++] = s;
}

static struct info
exact1(const char *s, size_t len)
{
	struct info in = { EXACT, NULL, 0 };

	set_add(&in, xstrndup(s, len));
	return in;
}

static struct info
any(void)
{
	return (struct info){ ANY, NULL, 0 };
}

/* Characters of s, word boundaries not counted. */
static size_t
real_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s != BOUND;
	return n;
}

static int
has_empty(const struct info *in)
{
	for (size_t i = 0; i < in->n; i++)
		if (!real_len(in->s[i]))
			return 1;
	return 0;
}

/* An exact set as a requirement: only if every string says something. */
static void
to_req(struct info *in)
{
	if (in->k == EXACT)
		in->k = REQ;
	if (in->k == REQ && (has_empty(in) || !in->n || in->n > REQ_MAX))
		info_free(in);
}

/* Higher is more selective: longer shortest string, then fewer strings. */
static long
score(const struct info *in)
{
	size_t min = (size_t)-1;

	if (in->k != REQ)
		return 0;
	for (size_t i = 0; i < in->n; i++)
		if (real_len(in->s[i]) < min)
			min = real_len(in->s[i]);
	return (long)min * 256 - (long)in->n;
}

/* Keep the better of *best and cand (which is used up). */
static void
consider(struct info *best, struct info *cand)
{
	to_req(cand);
	if (score(cand) > score(best)) {
		info_free(best);
		*best = *cand;
	} else
		info_free(cand);
	*cand = any();
}

static void
cross(struct info *a, struct info *b)
{
	struct info out = { EXACT, NULL, 0 };

	for (size_t i = 0; i < a->n; i++)
		for (size_t k = 0; k < b->n; k++)
			set_add(&out, xasprintf("%s%s", a->s[i], b->s[k]));
	info_free(a);
	info_free(b);
	*a = out;
}

static struct info alt(struct parser *);

static void
skip_to(struct parser *p, char c)
{
	const char *e = strchr(p->p, c);

	if (!e)
		p->bad = 1;
	p->p = e ? e + 1 : p->p + strlen(p->p);
}

/* After '[': a few plain characters are an exact set, anything else ANY. */
static struct info
class(struct parser *p)
{
	char set[128] = {0};
	int neg = 0, plain = 1, first = 1;
	size_t n = 0;

	if (*p->p == '^') {
		neg = 1;
		p->p++;
	}
	while (*p->p && (*p->p != ']' || first)) {
		unsigned char c = (unsigned char)*p->p, hi;
		first = 0;
		if (c == '[' && p->p[1] == ':') {
			const char *e = strstr(p->p + 2, ":]");
			if (!e) {
				p->bad = 1;
				return any();
			}
			p->p = e + 2;
			plain = 0;
			continue;
		}
		if (c == '\\') {
			c = (unsigned char)p->p[1];
			if (!c) {
				p->bad = 1;
				return any();
			}
			p->p += 2;
			if (isalnum(c) || c >= 0x80) {	/* \d, \p{..}, \x{..}: a class */
				if (*p->p == '{')
					skip_to(p, '}');
				plain = 0;
				continue;
			}
		} else
			p->p++;
		if (c >= 0x80 || c < 0x20) {
			plain = 0;
			continue;
		}
		hi = c;
		if (*p->p == '-' && p->p[1] && p->p[1] != ']') {
			hi = (unsigned char)p->p[1];
			p->p += 2;
			if (hi == '\\' || hi >= 0x80 || hi < c) {
				plain = 0;	/* an escaped or odd range end */
				if (hi == '\\' && *p->p)
					p->p++;
				continue;
			}
		}
		for (unsigned x = c; x <= hi; x++)
			set[tolower((int)x)] = 1;
	}
	if (*p->p != ']') {
		p->bad = 1;
		return any();
	}
	p->p++;
	for (int i = 0; i < 128; i++)
		n += set[i];
	if (neg || !plain || !n || n > EXACT_MAX)
		return any();
	struct info in = { EXACT, NULL, 0 };
	for (int i = 0; i < 128; i++)
		if (set[i]) {
			char ch = (char)i;
			set_add(&in, xstrndup(&ch, 1));
		}
	return in;
}

static struct info
escape(struct parser *p)
{
	unsigned char c = (unsigned char)p->p[1];

	if (!c || c >= 0x80) {
		p->bad = 1;
		return any();
	}
	p->p += 2;
	if (c == 'b') {
		char b = BOUND;
		return exact1(&b, 1);
	}
	if (strchr("BAzZG", c))
		return exact1("", 0);
	if (strchr("dDwWsShHvVRXnrtfea", c))
		return any();
	if (c == 'p' || c == 'P' || c == 'x') {
		if (*p->p == '{')
			skip_to(p, '}');
		else if (c != 'x')
			p->p += *p->p ? 1 : 0;
		else
			for (int i = 0; i < 2 && isxdigit((unsigned char)*p->p); i++)
				p->p++;
		return any();
	}
	if (isalnum(c)) {	/* back-references, \Q, \K, \g, \c...: unknown */
		p->bad = 1;
		return any();
	}
	if (c < 0x20)		/* (control characters: never literals here) */
		return any();
	return exact1((const char *)&c, 1);
}

static struct info
group(struct parser *p)
{
	int look = 0;

	if (*p->p == '*') {	/* (*VERB) */
		p->bad = 1;
		return any();
	}
	if (*p->p == '?') {
		const char *q = p->p + 1;
		if (*q == ':' || *q == '>')
			p->p += 2;
		else if (*q == '=' || *q == '!') {
			p->p += 2;
			look = 1;
		} else if (*q == '<' && (q[1] == '=' || q[1] == '!')) {
			p->p += 3;
			look = 1;
		} else if (*q == '<' || (*q == 'P' && q[1] == '<')) {
			skip_to(p, '>');
		} else if (*q == '\'') {
			p->p += 2;
			skip_to(p, '\'');
		} else if (q[strspn(q, "imnsU-")] == ':') {
			/* (?-i:...) and the like: options that leave literals
			 * literal (matching them caselessly only finds more) */
			p->p = q + strspn(q, "imnsU-") + 1;
		} else {	/* other inline options, conditions, recursion */
			p->bad = 1;
			return any();
		}
	}
	struct info in = alt(p);
	if (*p->p != ')') {
		p->bad = 1;
		info_free(&in);
		return any();
	}
	p->p++;
	if (look) {	/* zero-width */
		info_free(&in);
		return exact1("", 0);
	}
	return in;
}

static struct info
atom(struct parser *p)
{
	unsigned char c = (unsigned char)*p->p;

	switch (c) {
	case '(':
		p->p++;
		return group(p);
	case '[':
		p->p++;
		return class(p);
	case '\\':
		return escape(p);
	case '.':
		p->p++;
		return any();
	case '^':
	case '$':
		p->p++;
		return exact1("", 0);
	case '*':
	case '+':
	case '?':
	case '{':
		p->bad = 1;
		return any();
	}
	p->p++;
	if (c >= 0x80) {	/* one whole UTF-8 character */
		while (((unsigned char)*p->p & 0xC0) == 0x80)
			p->p++;
		return any();
	}
	if (c < 0x20)		/* control characters (and BOUND) are not literals */
		return any();
	c = (unsigned char)tolower(c);
	return exact1((const char *)&c, 1);
}

static size_t
number(struct parser *p, int *ok)
{
	size_t n = 0;

	*ok = isdigit((unsigned char)*p->p) != 0;
	while (isdigit((unsigned char)*p->p))
		n = n * 10 + (size_t)(*p->p++ - '0');
	return n;
}

/* A quantifier after an atom, if any. */
static void
quantify(struct parser *p, struct info *a)
{
	size_t min, max;
	int ok;

	switch (*p->p) {
	case '?':
		min = 0, max = 1;
		break;
	case '*':
		min = 0, max = 2;
		break;
	case '+':
		min = 1, max = 2;
		break;
	case '{':
		p->p++;
		min = max = number(p, &ok);
		if (ok && *p->p == ',') {
			p->p++;
			max = number(p, &ok);
			if (!ok)
				max = min + 1, ok = 1;
		}
		if (!ok || *p->p != '}') {	/* PCRE2 reads it as text: unknown */
			p->bad = 1;
			return;
		}
		break;
	default:
		return;
	}
	p->p++;
	if (*p->p == '?' || *p->p == '+')
		p->p++;
	if (min == 0) {
		if (max == 1 && a->k == EXACT && a->n < EXACT_MAX) {
			set_add(a, xstrdup(""));
			return;
		}
		info_free(a);
	} else if (!(min == 1 && max == 1) && a->k == EXACT)
		to_req(a);
}

static struct info
seq(struct parser *p)
{
	struct info cur = exact1("", 0), best = any();
	int all = 1;

	while (*p->p && *p->p != '|' && *p->p != ')' && !p->bad) {
		struct info a = atom(p);
		if (!p->bad)
			quantify(p, &a);
		if (a.k == EXACT && cur.n * a.n <= EXACT_MAX) {
			cross(&cur, &a);
			continue;
		}
		all = 0;
		consider(&best, &cur);
		if (a.k == EXACT)
			cur = a;
		else {
			cur = exact1("", 0);
			consider(&best, &a);
		}
	}
	if (all)
		return cur;
	consider(&best, &cur);
	return best;
}

static struct info
alt(struct parser *p)
{
	struct info acc = seq(p);

	while (*p->p == '|' && !p->bad) {
		p->p++;
		struct info b = seq(p);
		if (acc.k == ANY || b.k == ANY) {
			info_free(&acc);
			info_free(&b);
			continue;
		}
		if (acc.k != EXACT || b.k != EXACT || acc.n + b.n > EXACT_MAX) {
			to_req(&acc);
			to_req(&b);
			if (acc.k == ANY || b.k == ANY) {
				info_free(&acc);
				info_free(&b);
				continue;
			}
		}
		for (size_t i = 0; i < b.n; i++)
			set_add(&acc, b.s[i]);
		free(b.s);
		if (acc.k == REQ && acc.n > REQ_MAX)
			info_free(&acc);
	}
	return acc;
}

static struct info
analyse(const char *src)
{
	struct parser p = { src, 0 };
	struct info in = alt(&p);

	if (*p.p || p.bad)
		info_free(&in);
	to_req(&in);
	return in;
}

char *
prefilter_describe(const char *src)
{
	struct info in = analyse(src);
	struct buf b = {0};

	if (in.k != REQ)
		return NULL;
	for (size_t i = 0; i < in.n; i++) {
		buf_adds(&b, i ? "|" : "");
		for (const char *c = in.s[i]; *c; c++)
			buf_adds(&b, *c == BOUND ? "\\b" : (char[]){ *c, 0 });
	}
	info_free(&in);
	return buf_steal(&b);
}

/* --- the scan ------------------------------------------------------ */

struct lit {
	char *s;	/* may hold BOUND */
	size_t len, pat;
	size_t lead;	/* BOUNDs before the first character */
};

struct prefilter {
	size_t npat, nlit;
	struct lit *lit;
	uint64_t *always;
	/* literals by first byte (one byte long) and by first two bytes:
	 * order[at[k] .. at[k + 1]) */
	uint32_t *at1, *at2, *order1, *order2;
	int built;
};

struct prefilter *
prefilter_new(void)
{
	return xcalloc(1, sizeof(struct prefilter));
}

void
prefilter_free(struct prefilter *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nlit; i++)
		free(pf->lit[i].s);
	free(pf->lit);
	free(pf->always);
	free(pf->at1);
	free(pf->at2);
	free(pf->order1);
	free(pf->order2);
	free(pf);
}

size_t
prefilter_words(const struct prefilter *pf)
{
	return (pf->npat + 63) / 64;
}

void
prefilter_always(struct prefilter *pf, size_t i)
{
	pf->always[i / 64] |= (uint64_t)1 << (i % 64);
}

void
prefilter_add(struct prefilter *pf, const char *src)
{
	struct info in = analyse(src);
	size_t i = pf->npat++;

	if (i % 64 == 0) {
		pf->always = xrealloc(pf->always, prefilter_words(pf) * sizeof *pf->always);
		pf->always[i / 64] = 0;
	}
	if (in.k != REQ)
		prefilter_always(pf, i);
	for (size_t k = 0; k < in.n; k++) {
		pf->lit = xrealloc(pf->lit, (pf->nlit + 1) * sizeof *pf->lit);
		pf->lit[pf->nlit++] = (struct lit){ in.s[k], strlen(in.s[k]), i,
			strspn(in.s[k], (char[]){ BOUND, 0 }) };
	}
	free(in.s);
	pf->built = 0;
}

/* The bucket of a literal: its first two characters, or its first alone
 * (two == 0) when the second is not a plain one; -1 if the other kind. */
static long
bucket(const struct lit *l, int two)
{
	const unsigned char *s = (const unsigned char *)l->s + l->lead;
	int pair = s[0] && s[1] && s[1] != BOUND;

	if (pair != two)
		return -1;
	return two ? (long)(s[0] << 8 | s[1]) : (long)s[0];
}

/* Counting sort of the literals into their buckets. */
static void
index_by(struct prefilter *pf, size_t nkeys, int two, uint32_t **atp, uint32_t **orderp)
{
	uint32_t *at = xcalloc(nkeys + 1, sizeof *at), *order, *fill;
	long k;

	for (size_t i = 0; i < pf->nlit; i++)
		if ((k = bucket(&pf->lit[i], two)) >= 0)
			at[k + 1]++;
	for (size_t j = 0; j < nkeys; j++)
		at[j + 1] += at[j];
	order = xcalloc(at[nkeys] + 1, sizeof *order);
	fill = xcalloc(nkeys, sizeof *fill);
	for (size_t i = 0; i < pf->nlit; i++)
		if ((k = bucket(&pf->lit[i], two)) >= 0)
			order[at[k] + fill[k]++] = (uint32_t)i;
	free(fill);
	free(*atp);
	free(*orderp);
	*atp = at;
	*orderp = order;
}

static void
mark(uint64_t *cand, size_t pat)
{
	cand[pat / 64] |= (uint64_t)1 << (pat % 64);
}

/* 0 not a word character, 1 an ASCII one, 2 part of a non-ASCII one
 * (either, as \b sees it: so a boundary beside it is always possible). */
static int
word(unsigned char c)
{
	return c >= 0x80 ? 2 : isalnum(c) || c == '_';
}

/* Could \b hold between t[j - 1] and t[j]? */
static int
boundary(const unsigned char *t, size_t m, size_t j)
{
	int l = j ? word(t[j - 1]) : 0, r = j < m ? word(t[j]) : 0;

	return l != r;
}

/* Does literal l occur with its first character at t[i]? */
static int
occurs(const struct lit *l, const unsigned char *t, size_t m, size_t i)
{
	size_t j = i;

	for (size_t k = 0; k < l->lead; k++)
		if (!boundary(t, m, i))
			return 0;
	for (size_t k = l->lead; k < l->len; k++) {
		if (l->s[k] == BOUND) {
			if (!boundary(t, m, j))
				return 0;
		} else if (j >= m || t[j++] != (unsigned char)l->s[k])
			return 0;
	}
	return 1;
}

void
prefilter_scan(struct prefilter *pf, const char *text, size_t len, uint64_t *cand)
{
	unsigned char *t;
	size_t m = 0;

	if (!pf->npat)
		return;
	t = xmalloc(len + 1);
	if (!pf->built) {
		index_by(pf, 256, 0, &pf->at1, &pf->order1);
		index_by(pf, 65536, 1, &pf->at2, &pf->order2);
		pf->built = 1;
	}
	memcpy(cand, pf->always, prefilter_words(pf) * sizeof *cand);
	/* ASCII case folded, and the two characters that fold into it */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == 0xC5 && i + 1 < len && (unsigned char)text[i + 1] == 0xBF) {
			t[m++] = 's';	/* U+017F long s */
			i++;
		} else if (c == 0xE2 && i + 2 < len && (unsigned char)text[i + 1] == 0x84 &&
		    (unsigned char)text[i + 2] == 0xAA) {
			t[m++] = 'k';	/* U+212A Kelvin sign */
			i += 2;
		} else
			t[m++] = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
	}
	for (size_t i = 0; i < m; i++) {
		for (uint32_t k = pf->at1[t[i]]; k < pf->at1[t[i] + 1]; k++)
			if (occurs(&pf->lit[pf->order1[k]], t, m, i))
				mark(cand, pf->lit[pf->order1[k]].pat);
		if (i + 1 == m)
			break;
		size_t key = (size_t)t[i] << 8 | t[i + 1];
		for (uint32_t k = pf->at2[key]; k < pf->at2[key + 1]; k++)
			if (occurs(&pf->lit[pf->order2[k]], t, m, i))
				mark(cand, pf->lit[pf->order2[k]].pat);
	}
	free(t);
}
