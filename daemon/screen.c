/* screen: the spoken view, and every rule over a text. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "model.h"
#include "norm.h"
#include "pattern.h"
#include "plain.h"
#include "reply.h"
#include "screen.h"

struct view {
	struct buf out;
	size_t *map, cap;
	size_t last_digit;	/* out.len just after the last digit written, or 0 */
	int repeat;		/* "double"/"triple" waiting for its digit */
	int last_word;		/* the last digit was said as a word */
};

static void
put(struct view *v, const char *s, size_t n, size_t from)
{
	if (v->out.len + n >= v->cap) {
		v->cap = (v->out.len + n) * 2 + 64;
		v->map = xrealloc(v->map, v->cap * sizeof *v->map);
	}
	for (size_t i = 0; i < n; i++)
		v->map[v->out.len + i] = from;
	buf_add(&v->out, s, n);
}

static int
separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == ',' || c == '\t' || c == '(' ||
	    c == ')';
}

/* A digit: the separators since the previous digit (a few) go.  A comma
 * or a line break only goes between digits said as words ("nine zero zero,
 * four four one"): "Ward 7, 2014" is two numbers. */
static void
digit(struct view *v, char d, size_t from, int word)
{
	if (v->last_digit && v->out.len - v->last_digit <= 3) {
		size_t i;
		for (i = v->last_digit; i < v->out.len &&
		    (separator(v->out.s[i]) || v->out.s[i] == '\n' || v->out.s[i] == '\r') &&
		    ((v->out.s[i] != ',' && v->out.s[i] != '\n' && v->out.s[i] != '\r') ||
		    (word && v->last_word)); i++)
			;
		if (i == v->out.len) {
			v->out.len = v->last_digit;
			v->out.s[v->out.len] = 0;
		}
	}
	v->last_word = word;
	for (int k = v->repeat ? v->repeat : 1; k > 0; k--)
		put(v, &d, 1, from);
	v->repeat = 0;
	v->last_digit = v->out.len;
}

#define W(s) s, sizeof s - 1	/* a word and its length */

static const struct {
	const char *word;
	size_t len;
	char digit;
} numbers[] = {
	{ W("zero"), '0' }, { W("oh"), '0' }, { W("o"), '0' }, { W("nought"), '0' },
	{ W("nil"), '0' }, { W("one"), '1' }, { W("two"), '2' }, { W("three"), '3' },
	{ W("four"), '4' }, { W("five"), '5' }, { W("six"), '6' }, { W("seven"), '7' },
	{ W("eight"), '8' }, { W("nine"), '9' },
};

/* A number word misspelt the ways fingers slip: one letter doubled
 * ("zeroo"), two neighbours swapped ("seevn"), or for the long words one
 * letter left out ("sevn").  The real words these make are not numbers. */
static int
misspelt(const char *w, size_t n, const char *num, size_t m)
{
	static const char *const words[] = { "even", "seen", "tree", "thee", "there", "tow" };
	char low[8];
	size_t i;

	if (n < 3 || n > 7 || m < 3)
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)w[i]);
	for (i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i]) == n && !memcmp(low, words[i], n))
			return 0;
	if (n == m + 1) {	/* doubled: drop one of a pair */
		for (i = 0; i + 1 < n; i++)
			if (low[i] == low[i + 1] && !memcmp(low, num, i) && !memcmp(low + i + 1, num + i, m - i))
				return 1;
	} else if (n == m) {	/* swapped neighbours */
		for (i = 0; i + 1 < n && low[i] == num[i]; i++)
			;
		return i + 1 < n && low[i] == num[i + 1] && low[i + 1] == num[i] &&
		    !memcmp(low + i + 2, num + i + 2, n - i - 2);
	} else if (n + 1 == m && m >= 5) {	/* one left out */
		for (i = 0; i < n && low[i] == num[i]; i++)
			;
		return !memcmp(low + i, num + i + 1, n - i);
	}
	return 0;
}

/* Does a digit or a number word follow s[j] (after separators)? */
static int
number_next(const char *s, size_t j, size_t len)
{
	size_t e;

	while (j < len && (separator(s[j]) || s[j] == '\n'))
		j++;
	if (j < len && isdigit((unsigned char)s[j]))
		return 1;
	for (e = j; e < len && isalpha((unsigned char)s[e]); e++)
		;
	for (size_t k = 0; k < sizeof numbers / sizeof *numbers; k++)
		if (numbers[k].len == e - j && numbers[k].len > 1 &&
		    !strncasecmp(s + j, numbers[k].word, e - j))
			return 1;
	return 0;
}

static const struct {
	const char *word;
	size_t len;
	const char *sym;
} symbols[] = {
	{ W("at"), "@" }, { W("dot"), "." }, { W("underscore"), "_" }, { W("dash"), "-" },
	{ W("hyphen"), "-" },
};

/* A run of single characters split by single spaces ("m a y a . p 0 7"):
 * how far it goes (the end of its last character), or 0 when shorter than
 * five characters. */
static size_t
spaced_run(const char *s, size_t i, size_t len)
{
	size_t j = i, count = 0, end = i;

	while (j < len && !isspace((unsigned char)s[j]) && (j + 1 >= len || isspace((unsigned char)s[j + 1]))) {
		count++;
		end = j + 1;
		if (j + 2 < len && s[j + 1] == ' ' && !isspace((unsigned char)s[j + 2]))
			j += 2;
		else
			break;
	}
	return count >= 5 && (i == 0 || isspace((unsigned char)s[i - 1])) ? end : 0;
}

char *
screen_spoken(const char *s, size_t len, size_t **map, size_t *outlen)
{
	struct view v = {0};
	size_t i = 0, j, end;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if ((end = spaced_run(s, i, len)) > 0) {
			for (; i < end; i++)
				if (s[i] != ' ') {
					if (isdigit((unsigned char)s[i]))
						digit(&v, s[i], i, 0);
					else
						put(&v, s + i, 1, i);
				}
			continue;
		}
		if (isalnum(c)) {
			int digits = 0, letters_o = 1;
			for (j = i; j < len && isalnum((unsigned char)s[j]); j++) {
				if (isdigit((unsigned char)s[j]))
					digits = 1;
				else if (s[j] != 'o' && s[j] != 'O')
					letters_o = 0;
			}
			size_t n = j - i, k;
			if (digits && letters_o) {	/* "9OO", "O77OO": a letter O is a zero */
				for (k = i; k < j; k++)
					digit(&v, isdigit((unsigned char)s[k]) ? s[k] : '0', k, 0);
				i = j;
				continue;
			}
			if (digits) {
				for (k = i; k < j; k++) {
					if (isdigit((unsigned char)s[k]))
						digit(&v, s[k], k, 0);
					else {
						put(&v, s + k, 1, k);
						v.last_digit = 0;
					}
				}
				i = j;
				continue;
			}
			for (k = 0; k < sizeof numbers / sizeof *numbers; k++)
				if (numbers[k].len == n && !strncasecmp(s + i, numbers[k].word, n))
					break;
			if (k == sizeof numbers / sizeof *numbers &&
			    (v.last_digit || v.repeat || number_next(s, j, len)))
				/* among number words: a slip of the fingers is one too */
				for (k = 0; k < sizeof numbers / sizeof *numbers; k++)
					if (misspelt(s + i, n, numbers[k].word, numbers[k].len))
						break;
			if (k < sizeof numbers / sizeof *numbers) {
				digit(&v, numbers[k].digit, i, 1);
				i = j;
				continue;
			}
			if ((n == 6 && !strncasecmp(s + i, "double", 6)) ||
			    (n == 6 && !strncasecmp(s + i, "triple", 6))) {
				v.repeat = s[i] == 'd' || s[i] == 'D' ? 2 : 3;
				i = j;
				continue;
			}
			for (k = 0; k < sizeof symbols / sizeof *symbols; k++)
				if (symbols[k].len == n && !strncasecmp(s + i, symbols[k].word, n))
					break;
			if (k < sizeof symbols / sizeof *symbols) {
				/* "at" and "dot" as words: drop the spaces around them */
				while (v.out.len && v.out.s[v.out.len - 1] == ' ')
					v.out.s[--v.out.len] = 0;
				put(&v, symbols[k].sym, strlen(symbols[k].sym), i);
				for (i = j; i < len && s[i] == ' '; i++)
					;
				v.last_digit = 0;
				continue;
			}
			put(&v, s + i, n, i);
			v.repeat = 0;
			v.last_digit = 0;
			i = j;
			continue;
		}
		/* "[at]", "(at)", "[dot]", "(dot)" */
		if ((c == '[' || c == '(') && i + 3 < len) {
			size_t k;
			for (k = 0; k < 2; k++) {
				size_t n = strlen(symbols[k].word);
				if (i + n + 1 < len && !strncasecmp(s + i + 1, symbols[k].word, n) &&
				    (s[i + n + 1] == ']' || s[i + n + 1] == ')'))
					break;
			}
			if (k < 2) {
				while (v.out.len && v.out.s[v.out.len - 1] == ' ')
					v.out.s[--v.out.len] = 0;
				put(&v, symbols[k].sym, 1, i);
				for (i += strlen(symbols[k].word) + 2; i < len && s[i] == ' '; i++)
					;
				v.last_digit = 0;
				continue;
			}
		}
		put(&v, s + i, 1, i);
		if (!separator((char)c) && c != '\n' && c != '\r')
			v.last_digit = 0;
		i++;
	}
	put(&v, "", 0, len);
	if (v.out.len >= v.cap)
		v.map = xrealloc(v.map, (v.out.len + 1) * sizeof *v.map);
	v.map[v.out.len] = len;
	*outlen = v.out.len;
	*map = v.map;
	return v.out.s ? buf_steal(&v.out) : xstrdup("");
}

static int
by_start(const void *a, const void *b)
{
	const struct screen_hit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void
hit(struct screen_hit **h, size_t *n, const struct rule *r, size_t a, size_t b)
{
	for (size_t i = 0; i < *n; i++)	/* one per rule and place */
		if ((*h)[i].rule == r && a < (*h)[i].end && b > (*h)[i].start)
			return;
	*h = xpush(*h, *n, sizeof **h);
	(*h)[(*n)++] = (struct screen_hit){ r, a, b };
}

/* Is pattern k of r a candidate for the text cand was scanned from? */
static int
candidate(const uint64_t *cand, const struct rule *r, size_t k)
{
	size_t i = r->pf_first + k;

	return !cand || (cand[i / 64] >> (i % 64) & 1);
}

static uint64_t *
scan(const struct rules *rs, const char *s, size_t len)
{
	uint64_t *cand;

	if (!rs->pf)
		return NULL;
	cand = xcalloc(prefilter_words(rs->pf) + 1, sizeof *cand);
	prefilter_scan(rs->pf, s, len, cand);
	return cand;
}

/* The sentence around s[a, b): back to the last '.', '!', '?' or blank
 * line before it, on to the next after it, at most WINDOW either side.  A
 * stop before a small letter or a digit ("help@office.test", "9.30") ends
 * no sentence; one before a capital does ("mind.Meet"). */
#define WINDOW 300

static int
boundary(const char *s, size_t i, size_t len)
{
	if (s[i] == '\n')
		return i + 1 < len && s[i + 1] == '\n';
	if (s[i] == '!' || s[i] == '?')
		return 1;
	return s[i] == '.' && (i + 1 == len || !(islower((unsigned char)s[i + 1]) ||
	    isdigit((unsigned char)s[i + 1])));
}

/* The sentence of s[a, b) as [*from, *to). */
static void
sentence(const char *s, size_t len, size_t a, size_t b, size_t *from, size_t *to)
{
	*from = a > WINDOW ? a - WINDOW : 0;
	*to = b + WINDOW < len ? b + WINDOW : len;
	for (size_t i = a; i > *from; i--)
		if (boundary(s, i - 1, len)) {
			*from = i;
			break;
		}
	for (size_t i = b; i < *to; i++)
		if (boundary(s, i, len)) {
			*to = i + 1;
			break;
		}
}

/* Does one of r's unless patterns match in the sentence of s[a, b)? */
static int
excused(const struct rule *r, const char *s, size_t len, size_t a, size_t b, int ascii)
{
	size_t from, to, x, y;

	sentence(s, len, a, b, &from, &to);
	for (size_t k = 0; k < r->nunless; k++)
		if (pattern_find_in(r->unless[k], s, to, from, ascii, &x, &y, NULL) > 0)
			return 1;
	return 0;
}

/* A view of the text other than itself, with its map back to the text
 * and its prefilter scan. */
struct other {
	char *s;
	size_t len, *map;
	int ascii;
	uint64_t *cand;
};

/* Long text is searched in pieces of PIECE bytes, each search seeing
 * OVERLAP more to finish a match that starts near its piece's end: the
 * match limit bounds each search, and ordinary long mail stays far from it. */
#define PIECE	(32 * 1024)
#define OVERLAP	1024

size_t
screen_text(const struct rules *rs, const char *text, size_t len, struct screen_hit **hits)
{
	return screen_text_checked(rs, text, len, hits, NULL);
}

/* The normalised view (norm.h) of text, or NULL when it would be the text
 * itself: plain ASCII without '@', '%' or '"' (most mail). */
static char *
normal(const char *text, size_t *len, size_t **map)
{
	char *v;
	size_t n;

	if (pattern_ascii(text, *len) && !memchr(text, '@', *len) && !memchr(text, '%', *len) &&
	    !memchr(text, '"', *len))
		return NULL;
	v = norm_view(text, *len, map, &n);
	if (n == *len && !memcmp(v, text, n)) {
		free(v);
		free(*map);
		*map = NULL;
		return NULL;
	}
	*len = n;
	return v;
}

static size_t run(const struct rules *, const char *, size_t, struct screen_hit **, int *, int);

/* A line this long or longer that ends inside a sentence was wrapped by the
 * writer's client (they wrap at 66-78 columns), not by the writer. */
#define WRAP_MIN 50

/* The newlines of s that only wrap a sentence (a long line ending in no
 * stop, the next going on in lower case or a digit) made spaces, in place
 * (the same length keeps every offset).  Nonzero when one was. */
static int
unwrap(char *s, size_t len)
{
	size_t start = 0;
	int any = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\n')
			continue;
		size_t e = i;
		while (e > start && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
			e--;
		unsigned char next = i + 1 < len ? (unsigned char)s[i + 1] : 0;
		if (e - start >= WRAP_MIN && !strchr(".!?:;", s[e - 1]) &&
		    (islower(next) || isdigit(next))) {
			s[i] = ' ';
			any = 1;
		}
		start = i + 1;
	}
	return any;
}

/* Lines written backwards are screened again, read the right way round;
 * their hits are told in the line's own offsets. */
static void
backwards(const struct rules *rs, const char *s, size_t len, struct screen_hit **hits, size_t *n,
    int *unfinished)
{
	for (size_t i = 0, e; i < len; i = e + 1) {
		const char *nl = memchr(s + i, '\n', len - i);
		e = nl ? (size_t)(nl - s) : len;
		if (!plain_backwards(s + i, e - i))
			continue;
		char *rev = plain_reverse(s + i, e - i);
		struct screen_hit *h;
		int unf = 0;
		size_t m = e - i, k = run(rs, rev, m, &h, &unf, 1);
		for (size_t j = 0; j < k; j++)
			hit(hits, n, h[j].rule, i + m - h[j].end, i + m - h[j].start);
		if (unf && unfinished)
			*unfinished = 1;
		free(h);
		free(rev);
	}
}

/* Is a hit of rule r on [a, b) among hits[0, n)? */
static int
known(const struct screen_hit *hits, size_t n, const struct rule *r, size_t a, size_t b)
{
	for (size_t i = 0; i < n; i++)
		if (hits[i].rule == r && hits[i].start < b && a < hits[i].end)
			return 1;
	return 0;
}

/* Does the sentence of text[a, b) give an allowed entry, as a helpline's
 * or the programme's own number is given ("Childline's number is 0800
 * 1111")?  The model reads words, not whose number it is: its contact
 * hits there are signposting.  (Its risk and abuse hits stay: a young
 * person may name Childline in a disclosure.) */
static int
signposted(const struct rules *rs, const char *text, size_t len, size_t a, size_t b)
{
	size_t from, to;

	if (!rs->nallow)
		return 0;
	sentence(text, len, a, b, &from, &to);
	return rules_allowed(rs, text + from, to - from);
}

/* The model's hits: each category it rates at its threshold, unless a rule
 * that holds hit it already (the rule says more). */
static void
second_opinion(const struct rules *rs, const char *text, size_t len, struct screen_hit **hits,
    size_t *n)
{
	double p[MODEL_MAXCAT];
	size_t span[MODEL_MAXCAT][2], k = *n;

	model_score(rs->model, text, len, p, span);
	for (size_t c = 0; c < model_ncat(rs->model); c++) {
		const struct rule *r = &rs->v[rs->model_rule[c]];
		size_t i;
		if (!model_hit(rs->model, c, p[c]))
			continue;
		if (strcmp(r->category, "risk") && strcmp(r->category, "abuse") &&
		    signposted(rs, text, len, span[c][0], span[c][1]))
			continue;
		for (i = 0; i < k; i++)
			if ((*hits)[i].rule->action != RULE_FLAG &&
			    !strcmp((*hits)[i].rule->category, r->category))
				break;
		if (i == k)
			hit(hits, n, r, span[c][0], span[c][1]);
	}
	if (*n > k && *n > 1)
		qsort(*hits, *n, sizeof **hits, by_start);
}

/* The text as written, then, when the writer's client wrapped it, the text
 * with its wrapping undone: a rule's gap stops at a newline as at a
 * sentence's end, and a rule may take a newline for the end of what was
 * asked, so each reading adds what the other cannot see. */
static size_t
checked(const struct rules *rs, const char *orig, size_t origlen, struct screen_hit **hits,
    int *unfinished, int opinion)
{
	size_t n = run(rs, orig, origlen, hits, unfinished, 0), m, k = n;
	struct screen_hit *h;
	char *u;
	int unf = 0;

	if (!memchr(orig, '\n', origlen))
		goto out;
	u = xmalloc(origlen + 1);
	memcpy(u, orig, origlen);
	u[origlen] = '\0';
	if (!unwrap(u, origlen)) {
		free(u);
		goto out;
	}
	m = run(rs, u, origlen, &h, &unf, 1);	/* (lines backwards: read above) */
	for (size_t j = 0; j < m; j++)
		if (!known(*hits, k, h[j].rule, h[j].start, h[j].end))
			hit(hits, &n, h[j].rule, h[j].start, h[j].end);
	if (unf && unfinished)
		*unfinished = 1;
	if (n > k)
		qsort(*hits, n, sizeof **hits, by_start);
	free(h);
	free(u);
out:
	if (rs->model && opinion)
		second_opinion(rs, orig, origlen, hits, &n);
	return n;
}

size_t
screen_text_checked(const struct rules *rs, const char *text, size_t len,
    struct screen_hit **hits, int *unfinished)
{
	return checked(rs, text, len, hits, unfinished, 1);
}

size_t
screen_quote_checked(const struct rules *rs, const char *text, size_t len,
    struct screen_hit **hits, int *unfinished)
{
	return checked(rs, text, len, hits, unfinished, 0);
}

/* depth 1: a line read backwards (not looked at for lines backwards again) */
static size_t
run(const struct rules *rs, const char *orig, size_t origlen, struct screen_hit **hits,
    int *unfinished, int depth)
{
	size_t n = 0, *nmap = NULL, a, b, off, len = origlen;
	int found, text_ascii;
	char *nv = normal(orig, &len, &nmap);
	/* the rules read the normalised view; hits are told in orig's offsets */
	const char *text = nv ? nv : orig;
	uint64_t *ct = scan(rs, text, len);
	struct other views[2] = {{0}};	/* spoken, plain: made when a rule asks */

	text_ascii = pattern_ascii(text, len);	/* (once: the searches go by pieces) */
	*hits = NULL;
	if (unfinished)
		*unfinished = 0;
	for (size_t i = 0, pass = 0; i < rs->n; i += !pass) {
		const struct rule *r = &rs->v[i];
		/* view = text plain: the text, then (pass 1) the plain view */
		enum rule_view view = pass ? RULE_VIEW_PLAIN : r->view;
		pass = !pass && r->also_plain;
		const char *s = text;
		size_t slen = len, *map = NULL;
		const uint64_t *cand = ct;
		int ascii = text_ascii;
		if (view != RULE_VIEW_TEXT) {
			struct other *v = &views[view == RULE_VIEW_PLAIN];
			if (!v->s) {
				v->s = view == RULE_VIEW_PLAIN ? plain_view(text, len, &v->map, &v->len) :
				    screen_spoken(text, len, &v->map, &v->len);
				v->ascii = pattern_ascii(v->s, v->len);
				/* (usually the same text: nothing spelt out) */
				if (v->len != len || memcmp(v->s, text, len))
					v->cand = scan(rs, v->s, v->len);
			}
			s = v->s;
			slen = v->len;
			map = v->map;
			ascii = v->ascii;
			cand = v->cand ? v->cand : ct;
		}
		for (size_t k = 0; k < r->nre; k++) {
			if (!candidate(cand, r, k))
				continue;	/* lacks every literal the pattern needs */
			for (off = 0; off < slen; off = b > a ? b : b + 1) {
				/* each search sees one piece (and the overlap) */
				size_t piece = off - off % PIECE + PIECE;
				found = pattern_find_in(r->re[k], s, piece + OVERLAP < slen ?
				    piece + OVERLAP : slen, off, ascii, &a, &b, NULL);
				if (found < 0 && unfinished)
					*unfinished = 1;
				if (found <= 0 || a >= piece) {
					if (piece >= slen)
						break;
					a = b = piece - 1;	/* on to the next piece */
					continue;
				}
				if (r->nunless && excused(r, s, slen, a, b, ascii))
					continue;	/* negated, refused, a figure of speech */
				size_t ta = a, tb = b;	/* in text */
				if (map) {
					/* the last view byte came from a word or a
					 * character: report up to its end */
					tb = b > a ? map[b - 1] + 1 : map[a];
					while (b > a && tb < len && isalnum((unsigned char)text[tb - 1]) &&
					    isalnum((unsigned char)text[tb]))
						tb++;
					ta = map[a];
				}
				size_t ha = nmap ? nmap[ta] : ta, hb = nmap ? nmap[tb] : tb;
				if (rs->nallow && rules_allowed(rs, orig + ha, hb - ha))
					continue;	/* signposting: no hit; look on */
				hit(hits, &n, r, ha, hb);
				if (map)
					break;	/* one report per pattern (a view's places) */
			}
		}
	}
	for (int v = 0; v < 2; v++) {
		free(views[v].s);
		free(views[v].map);
		free(views[v].cand);
	}
	free(nv);
	free(nmap);
	free(ct);
	if (!depth)
		backwards(rs, orig, origlen, hits, &n, unfinished);
	if (n > 1)
		qsort(*hits, n, sizeof **hits, by_start);
	return n;
}

char *
screen_message_text(const struct mime_msg *m)
{
	char *text = reply_screen_text(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
	struct buf out = {0};

	buf_adds(&out, m->subject ? m->subject : "");	/* (no printf: the text is long) */
	buf_adds(&out, "\n\n");
	buf_adds(&out, text);
	free(text);
	/* the names of attachments reach the partner too (in a note) */
	for (size_t i = 0; i < m->natt; i++)
		if (m->att[i].filename && *m->att[i].filename) {
			buf_adds(&out, "\n\nAttachment: ");
			buf_adds(&out, m->att[i].filename);
		}
	return buf_steal(&out);
}
