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
 * word "on" and not "confidence".
 *
 * The pattern's own sequence (when it is not an alternation) keeps more
 * than its best set: every match holds one string of each of its sets, so
 * "\bmy\s+\w+\s+(?:snap|insta)" needs "my " and " snap" or " insta".  A
 * text is a candidate only when it holds all of them.  White space is read
 * as one space, in the patterns and in the text; \d is a set of its own,
 * held by a text that may hold a digit. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "prefilter.h"

#define EXACT_MAX 16	/* characters a class may be, as an exact set */
#define CROSS_MAX 64	/* strings an exact set may multiply out to */
#define REQ_MAX 1024	/* strings a required set may hold */
#define BOUND '\x01'	/* \b inside a literal */
#define LIT_MAX 10	/* characters of a literal the scan looks for */
#define NEED_MAX 4	/* sets a pattern may need together */
#define DIGIT '\x02'	/* \d, a string of its own: any Unicode digit */
#define DENSE_MAX 512	/* states of the automaton with a whole row */

enum kind { ANY, REQ, EXACT };

struct info {
	enum kind k;
	char **s;
	size_t n;
};

struct parser {
	const char *p;
	int bad;
	int depth;		/* groups open */
	int top_alt;		/* the pattern itself is an alternation */
	struct info need[NEED_MAX];	/* sets of its own sequence, best first */
	size_t nneed;
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
	in->s = xpush(in->s, in->n, sizeof *in->s);
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

/* A text that holds a literal holds its first LIT_MAX characters: the
 * scan looks for those alone, so that a long phrase costs the automaton
 * no more states than a word (the pattern itself decides the rest). */
static char *
shorten(char *l)
{
	size_t n = 0;

	for (char *c = l; *c; c++)
		if (*c != BOUND && ++n == LIT_MAX) {
			c[1] = 0;
			break;
		}
	return l;
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

static struct info
info_copy(const struct info *in)
{
	struct info out = { in->k, NULL, 0 };

	for (; out.n < in->n; out.n++) {	/* grown as set_add grows it */
		out.s = xpush(out.s, out.n, sizeof *out.s);
		out.s[out.n] = xstrdup(in->s[out.n]);
	}
	return out;
}

/* A set the pattern's own sequence needs: kept among the NEED_MAX best. */
static void
need_add(struct parser *p, const struct info *in)
{
	size_t at;

	if (in->k != REQ)
		return;
	for (at = p->nneed; at > 0 && score(&p->need[at - 1]) < score(in); at--)
		;
	if (at == NEED_MAX)
		return;
	if (p->nneed == NEED_MAX)
		info_free(&p->need[--p->nneed]);
	memmove(&p->need[at + 1], &p->need[at], (p->nneed - at) * sizeof *p->need);
	p->need[at] = info_copy(in);
	p->nneed++;
}

/* consider(), and at the pattern's own level need_add() too. */
static void
take(struct parser *p, int top, struct info *best, struct info *cand)
{
	if (top) {
		to_req(cand);
		need_add(p, cand);
	}
	consider(best, cand);
}

/* Whitespace: the text is read with every run of it as one space, so
 * "\s", "\s+" and " +" are all " ", "\s*" is "" or " ". */
static int
is_space(const struct info *in)
{
	return in->k == EXACT && in->n == 1 && !strcmp(in->s[0], " ");
}

static void
cross(struct info *a, struct info *b)
{
	struct info out = { EXACT, NULL, 0 };

	for (size_t i = 0; i < a->n; i++) {
		size_t n = strlen(a->s[i]);
		for (size_t k = 0; k < b->n; k++) {
			const char *tail = b->s[k] + (n && a->s[i][n - 1] == ' ' && b->s[k][0] == ' ');
			size_t m = strlen(tail);
			char *s = xmalloc(n + m + 1);
			memcpy(s, a->s[i], n);
			memcpy(s + n, tail, m + 1);
			set_add(&out, s);
		}
	}
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
	if (c == 's')
		return exact1(" ", 1);
	if (c == 'd') {		/* not crossed: a text is only known to hold one */
		struct info in = exact1((char[]){ DIGIT }, 1);
		in.k = REQ;
		return in;
	}
	if (strchr("DwWShHvVRXnrtfea", c))
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
	p->depth++;
	struct info in = alt(p);
	p->depth--;
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
		if ((max == 1 || is_space(a)) && a->k == EXACT && a->n < CROSS_MAX) {
			set_add(a, xstrdup(""));
			return;
		}
		info_free(a);
	} else if (!(min == 1 && max == 1) && a->k == EXACT && !is_space(a))
		to_req(a);
}

static struct info
seq(struct parser *p)
{
	struct info cur = exact1("", 0), best = any();
	int all = 1, top = p->depth == 0;

	while (*p->p && *p->p != '|' && *p->p != ')' && !p->bad) {
		struct info a = atom(p);
		if (!p->bad)
			quantify(p, &a);
		if (a.k == EXACT && cur.n * a.n <= CROSS_MAX) {
			cross(&cur, &a);
			continue;
		}
		all = 0;
		take(p, top, &best, &cur);
		if (a.k == EXACT)
			cur = a;
		else {
			cur = exact1("", 0);
			take(p, top, &best, &a);
		}
	}
	if (all)
		return cur;
	take(p, top, &best, &cur);
	return best;
}

static struct info
alt(struct parser *p)
{
	struct info acc = seq(p);

	while (*p->p == '|' && !p->bad) {
		if (!p->depth)
			p->top_alt = 1;
		p->p++;
		struct info b = seq(p);
		if (acc.k == ANY || b.k == ANY) {
			info_free(&acc);
			info_free(&b);
			continue;
		}
		if (acc.k != EXACT || b.k != EXACT || acc.n + b.n > CROSS_MAX) {
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

/* What every match of a pattern holds: one string of each set (none
 * known: the pattern is always a candidate). */
struct needs {
	struct info v[NEED_MAX + 1];
	size_t n;
};

static int
same_set(const struct info *a, const struct info *b)
{
	size_t i, k;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		for (k = 0; k < b->n && strcmp(a->s[i], b->s[k]); k++)
			;
		if (k == b->n)
			return 0;
	}
	return 1;
}

/* The best set first, then the other sets of the pattern's own sequence. */
static void
analyse(const char *src, struct needs *out)
{
	struct parser p = { .p = src };
	struct info in = alt(&p);

	out->n = 0;
	if (*p.p || p.bad)
		info_free(&in);
	to_req(&in);
	if (in.k == REQ)
		out->v[out->n++] = in;
	for (size_t i = 0; i < p.nneed; i++)
		if (out->n && !p.top_alt && !same_set(&p.need[i], &out->v[0]))
			out->v[out->n++] = p.need[i];
		else
			info_free(&p.need[i]);
}

char *
prefilter_describe(const char *src)
{
	struct needs nd;
	struct buf b = {0};

	analyse(src, &nd);
	if (!nd.n)
		return NULL;
	for (size_t k = 0; k < nd.n; k++) {
		buf_adds(&b, k ? " & " : "");
		for (size_t i = 0; i < nd.v[k].n; i++) {
			buf_adds(&b, i ? "|" : "");
			for (const char *c = nd.v[k].s[i]; *c; c++)
				buf_adds(&b, *c == BOUND ? "\\b" : *c == ' ' ? "\\s" :
				    *c == DIGIT ? "\\d" : (char[]){ *c, 0 });
		}
		info_free(&nd.v[k]);
	}
	return buf_steal(&b);
}

/* --- the scan ------------------------------------------------------ */

/* The sets of every pattern go into one Aho-Corasick automaton over the
 * case-folded text: a pass costs the same whatever the number of strings,
 * so a pattern may need several sets (each a few common words) and the
 * text is still read once.  A string's word boundaries are checked where
 * the automaton finds its characters. */

struct lit {
	char *s;	/* may hold BOUND */
	size_t len;
	size_t chars;	/* characters, BOUNDs not counted */
	uint32_t set;
};

/* A state of the automaton: a prefix of some strings.  States are
 * numbered breadth first, children in class order, so that a state's
 * children are consecutive: kid up to the next state's kid; and so are
 * the strings it ends: hit[at] up to the next state's at. */
struct state {
	uint32_t kid;	/* its first child */
	uint32_t fail;	/* its longest proper suffix that is a state */
	uint32_t at;
	uint32_t link;	/* the next state down its failures that ends strings */
};

/* A string the automaton finds: its set, and when it has word boundaries
 * to check, the string. */
struct hit {
	uint32_t set;
	uint32_t lit;	/* NOBOUND: none to check */
};

#define NOBOUND UINT32_MAX

struct prefilter {
	size_t npat, nlit, nset;
	struct lit *lit;
	uint64_t *always;
	uint32_t *sets;		/* pattern i needs sets sets[i] .. sets[i + 1] - 1 */
	uint64_t *digit;	/* the sets a digit is in: held when one may be */
	/* the automaton: bytes fall into classes (0: in no string).  It is
	 * the strings' trie, a child entered on class lab[child]; a class no
	 * child takes goes on from the failure.  The first ndense states (the
	 * shallow ones, with many children, where a scan spends most of its
	 * time) also have a whole row, failures folded in: next[s * ncls + c].
	 * Rows for every state would cost megabytes, nearly all of them for
	 * deep states with one child, and a scan no faster. */
	int built;
	unsigned char cls[256];
	size_t ncls, ns, ndense;
	uint32_t *next;
	struct state *st;	/* ns + 1: the last ends the others' ranges */
	unsigned char *lab;
	struct hit *hit;
};

struct prefilter *
prefilter_new(void)
{
	struct prefilter *pf = xcalloc(1, sizeof(struct prefilter));

	pf->sets = xcalloc(1, sizeof *pf->sets);
	return pf;
}

static void
unbuild(struct prefilter *pf)
{
	free(pf->next);
	free(pf->st);
	free(pf->lab);
	free(pf->hit);
	free(pf->digit);
	pf->next = NULL;
	pf->st = NULL;
	pf->lab = NULL;
	pf->hit = NULL;
	pf->digit = NULL;
	pf->built = 0;
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
	free(pf->sets);
	unbuild(pf);
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
	struct needs nd;
	size_t i = pf->npat++;

	analyse(src, &nd);
	if (i % 64 == 0) {
		pf->always = xrealloc(pf->always, prefilter_words(pf) * sizeof *pf->always);
		pf->always[i / 64] = 0;
	}
	if (!nd.n)
		prefilter_always(pf, i);
	for (size_t k = 0; k < nd.n; k++, pf->nset++) {
		for (size_t j = 0; j < nd.v[k].n; j++) {
			char *l = shorten(nd.v[k].s[j]);
			pf->lit = xpush(pf->lit, pf->nlit, sizeof *pf->lit);
			pf->lit[pf->nlit++] = (struct lit){ l, strlen(l), real_len(l),
				(uint32_t)pf->nset };
		}
		free(nd.v[k].s);
	}
	pf->sets = xpush(pf->sets, pf->npat, sizeof *pf->sets);
	pf->sets[pf->npat] = (uint32_t)pf->nset;
	unbuild(pf);
}

static void
mark(uint64_t *bits, size_t i)
{
	bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static int
marked(const uint64_t *bits, size_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

/* The state after s on class c: the child that takes c, else the same
 * from s's failure, down to a state with a row. */
static uint32_t
go(const struct prefilter *pf, uint32_t s, unsigned char c)
{
	while (s >= pf->ndense) {
		for (uint32_t k = pf->st[s].kid; k < pf->st[s + 1].kid; k++)
			if (pf->lab[k] == c)
				return k;
		s = pf->st[s].fail;
	}
	return pf->next[s * pf->ncls + c];
}

/* A string's characters as classes, to sort by (zero filled; shorten()
 * leaves a string at most LIT_MAX). */
struct key {
	unsigned char c[LIT_MAX + 1];
	uint32_t lit;
};

static int
by_key(const void *a, const void *b)
{
	return strcmp((const char *)((const struct key *)a)->c,
	    (const char *)((const struct key *)b)->c);
}

/* A new state: a child of parent on class c. */
static uint32_t
new_state(struct prefilter *pf, uint32_t parent, unsigned char c)
{
	uint32_t s = (uint32_t)pf->ns++;

	pf->st = xpush(pf->st, s, sizeof *pf->st);
	pf->lab = xpush(pf->lab, s, sizeof *pf->lab);
	pf->st[s] = (struct state){ UINT32_MAX, 0, 0, 0 };	/* (no child yet) */
	pf->lab[s] = c;
	if (s && pf->st[parent].kid == UINT32_MAX)
		pf->st[parent].kid = s;
	return s;
}

/* The trie breadth first, a level a pass over the sorted keys: the
 * distinct prefixes of d + 1 classes come in the order of their parents
 * (of d), as the numbering wants.  at[j] follows key j down to the state
 * that is all of it.  Most prefixes are shared, so the arrays grow as
 * states come rather than being sized by the strings' characters. */
static void
trie(struct prefilter *pf, const struct key *key, size_t nkey, uint32_t *at)
{
	int more = 1;

	pf->ns = 0;
	new_state(pf, 0, 0);
	for (size_t d = 0; d < LIT_MAX && more; d++) {
		uint32_t parent = UINT32_MAX, s = 0;
		unsigned char c = 0;
		more = 0;
		for (size_t j = 0; j < nkey; j++) {
			if (!key[j].c[d])
				continue;
			if (at[j] != parent || key[j].c[d] != c) {
				parent = at[j];
				c = key[j].c[d];
				s = new_state(pf, parent, c);
				more = 1;
			}
			at[j] = s;
		}
	}
	/* a state with no child: none, from where the next state's begin */
	pf->st = xrealloc(pf->st, (pf->ns + 1) * sizeof *pf->st);
	pf->lab = xrealloc(pf->lab, pf->ns);
	pf->st[pf->ns] = (struct state){ (uint32_t)pf->ns, 0, 0, 0 };
	for (size_t s = pf->ns; s-- > 0;)
		if (pf->st[s].kid == UINT32_MAX)
			pf->st[s].kid = pf->st[s + 1].kid;
}

/* Failures breadth first (a state's is shorter, so made before it), and
 * a shallow state's row when its turn comes. */
static void
failures(struct prefilter *pf)
{
	struct state *st = pf->st;

	pf->ndense = pf->ns < DENSE_MAX ? pf->ns : DENSE_MAX;
	pf->next = xcalloc(pf->ndense * pf->ncls, sizeof *pf->next);
	for (uint32_t s = 0; s < pf->ns; s++) {
		if (s < pf->ndense) {
			uint32_t *row = &pf->next[s * pf->ncls];
			for (size_t c = 0; c < pf->ncls; c++)
				row[c] = s ? go(pf, st[s].fail, (unsigned char)c) : 0;
			for (uint32_t k = st[s].kid; k < st[s + 1].kid; k++)
				row[pf->lab[k]] = k;
		}
		for (uint32_t k = st[s].kid; k < st[s + 1].kid; k++)
			st[k].fail = s ? go(pf, st[s].fail, pf->lab[k]) : 0;
	}
}

/* The strings each state ends (string i ends at end[i], 0 for none), and
 * the chain down its failures of those that end some: a state's strings
 * are stored once, not again for every state they are a suffix of. */
static void
outputs(struct prefilter *pf, const uint32_t *end)
{
	struct state *st = pf->st;
	uint32_t *fill;

	for (size_t i = 0; i < pf->nlit; i++)
		if (end[i])
			st[end[i] + 1].at++;
	for (size_t s = 0; s < pf->ns; s++)
		st[s + 1].at += st[s].at;
	pf->hit = xcalloc(st[pf->ns].at + 1, sizeof *pf->hit);
	fill = xcalloc(pf->ns, sizeof *fill);
	for (size_t i = 0; i < pf->nlit; i++)
		if (end[i]) {
			const struct lit *l = &pf->lit[i];
			pf->hit[st[end[i]].at + fill[end[i]]++] = (struct hit){ l->set,
				l->len == l->chars ? NOBOUND : (uint32_t)i };
		}
	free(fill);
	for (size_t s = 1; s < pf->ns; s++) {
		uint32_t f = st[s].fail;
		st[s].link = st[f].at < st[f + 1].at ? f : st[f].link;
	}
}

/* The strings' bytes in classes, their trie, its failures, then each
 * state's strings.  A \d string is no state: pf->digit holds its set. */
static void
build(struct prefilter *pf)
{
	struct key *key;
	size_t nkey = 0;
	uint32_t *at, *end;

	unbuild(pf);
	memset(pf->cls, 0, sizeof pf->cls);
	pf->ncls = 1;
	pf->digit = xcalloc(pf->nset / 64 + 1, sizeof *pf->digit);
	key = xcalloc(pf->nlit + 1, sizeof *key);
	for (size_t i = 0; i < pf->nlit; i++) {
		size_t n = 0;
		if (pf->lit[i].s[0] == DIGIT) {
			mark(pf->digit, pf->lit[i].set);
			continue;
		}
		for (const unsigned char *c = (const unsigned char *)pf->lit[i].s; *c; c++)
			if (*c != BOUND) {
				if (!pf->cls[*c])
					pf->cls[*c] = (unsigned char)pf->ncls++;
				key[nkey].c[n++] = pf->cls[*c];
			}
		key[nkey++].lit = (uint32_t)i;
	}
	qsort(key, nkey, sizeof *key, by_key);
	at = xcalloc(nkey + 1, sizeof *at);
	trie(pf, key, nkey, at);
	failures(pf);
	end = xcalloc(pf->nlit + 1, sizeof *end);
	for (size_t j = 0; j < nkey; j++)
		end[key[j].lit] = at[j];
	free(at);
	free(key);
	outputs(pf, end);
	free(end);
	pf->built = 1;
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

/* Do literal l's word boundaries hold where its characters end at t[e]? */
static int
bounds_hold(const struct lit *l, const unsigned char *t, size_t m, size_t e)
{
	size_t j = e - l->chars;

	for (size_t k = 0; k < l->len; k++)
		if (l->s[k] == BOUND) {
			if (!boundary(t, m, j))
				return 0;
		} else
			j++;
	return 1;
}

/* The length of the white space character at s, or 0: what \s matches
 * with Unicode properties (\h, \v and the space separators). */
static size_t
space_len(const unsigned char *s, size_t n)
{
	if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;	/* U+0085, U+00A0 */
	if (n < 3)
		return 0;
	if ((s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) ||	/* U+1680 */
	    (s[0] == 0xE1 && s[1] == 0xA0 && s[2] == 0x8E) ||	/* U+180E */
	    (s[0] == 0xE2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8A) ||
	    s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF)) ||	/* U+2000-200A, 2028, 2029, 202F */
	    (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) ||	/* U+205F */
	    (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80))	/* U+3000 */
		return 3;
	return 0;
}

/* Could the non-ASCII character at s be what \d matches with Unicode
 * properties (a decimal digit, Nd)?  No for the blocks most mail uses
 * beyond ASCII: Nd begins at U+0660, and there is none in U+2000-2BFF
 * (punctuation, symbols, arrows) or U+1F000-1FAFF (emoji); yes for
 * anything else, a truncated sequence included.  A byte that does not
 * begin a character is no digit to PCRE2 either. */
static int
may_be_digit(const unsigned char *s, size_t n)
{
	uint32_t cp;

	if (*s < 0xC0)
		return 0;
	if (*s < 0xE0)
		return n < 2 || ((uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F)) >= 0x660;
	if (*s < 0xF0) {
		if (n < 3)
			return 1;
		cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		return cp < 0x2000 || cp > 0x2BFF;
	}
	if (n < 4)
		return 1;
	cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
	return cp < 0x1F000 || cp > 0x1FAFF;
}

/* Hold the sets of the strings that end at t[e] in state s: its own,
 * then those of its failures. */
static void
found(const struct prefilter *pf, uint32_t s, const unsigned char *t, size_t m, size_t e,
    uint64_t *held)
{
	for (; s; s = pf->st[s].link)
		for (uint32_t k = pf->st[s].at; k < pf->st[s + 1].at; k++) {
			const struct hit *h = &pf->hit[k];
			if (!marked(held, h->set) && (h->lit == NOBOUND ||
			    bounds_hold(&pf->lit[h->lit], t, m, e)))
				mark(held, h->set);
		}
}

void
prefilter_scan(struct prefilter *pf, const char *text, size_t len, uint64_t *cand)
{
	uint64_t *held;
	uint32_t st = 0;
	unsigned char *t;
	size_t m = 0;
	int digit = 0;	/* might the text hold a digit? */

	if (!pf->npat)
		return;
	if (!pf->built)
		build(pf);
	memcpy(cand, pf->always, prefilter_words(pf) * sizeof *cand);
	t = xmalloc(len + 1);
	held = xcalloc(pf->nset / 64 + 1, sizeof *held);
	/* ASCII case folded, and the two characters that fold into it;
	 * each run of white space one space */
	for (size_t i = 0, i0, w; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		i0 = i;
		if ((w = space_len((const unsigned char *)text + i, len - i)) > 0) {
			if (!m || t[m - 1] != ' ')
				t[m++] = ' ';
			i += w - 1;
		} else if (c == 0xC5 && i + 1 < len && (unsigned char)text[i + 1] == 0xBF) {
			t[m++] = 's';	/* U+017F long s */
			i++;
		} else if (c == 0xE2 && i + 2 < len && (unsigned char)text[i + 1] == 0x84 &&
		    (unsigned char)text[i + 2] == 0xAA) {
			t[m++] = 'k';	/* U+212A Kelvin sign */
			i += 2;
		} else
			t[m++] = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
		digit |= (c >= '0' && c <= '9') || may_be_digit((const unsigned char *)text + i0,
		    len - i0);
	}
	if (digit)
		for (size_t k = 0; k <= pf->nset / 64; k++)
			held[k] |= pf->digit[k];
	for (size_t i = 0; i < m; i++) {
		st = go(pf, st, pf->cls[t[i]]);
		found(pf, st, t, m, i + 1, held);
	}
	for (size_t p = 0; p < pf->npat; p++) {
		size_t k = pf->sets[p];
		while (k < pf->sets[p + 1] && marked(held, k))
			k++;
		if (k > pf->sets[p] && k == pf->sets[p + 1])
			mark(cand, p);
	}
	free(held);
	free(t);
}
