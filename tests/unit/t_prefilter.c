/* Unit tests for the screening prefilter: what it reads from a pattern,
 * what a text must hold, and that screening with it finds exactly what
 * screening every pattern finds (shipped rules; their examples, made-up
 * texts and, when ../shared is beside the clone, the safeguarding corpus).
 * And the pattern module's fast path: on ASCII text a pattern finds what
 * PCRE2 with Unicode properties finds. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "pattern.h"
#include "prefilter.h"
#include "screen.h"
#include "tap.h"

static unsigned long rng = 12345;

static size_t
pick(size_t n)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return (size_t)(rng >> 33) % n;
}

static void
describe(const char *src, const char *want)
{
	char *got = prefilter_describe(src);

	is_str(got, want, "literals of %s", src);
	free(got);
}

/* Is the single pattern src a candidate for text? */
static int
candidate(const char *src, const char *text)
{
	struct prefilter *pf = prefilter_new();
	uint64_t cand[1];

	prefilter_add(pf, src);
	prefilter_scan(pf, text, strlen(text), cand);
	prefilter_free(pf);
	return (int)(cand[0] & 1);
}

static void
analysis(void)
{
	describe("\\bsuicid(?:e|al)\\b", "\\bsuicide\\b|\\bsuicidal\\b");
	describe("i'?m", "i'm|im");
	describe("HELLO", "hello");
	describe("(?:ab|cd)+x*", "ab|cd");
	describe("foo(?!bar)", "foo");
	describe("(?<=x)foo", "foo");
	describe("[0-9]{3}", "0|1|2|3|4|5|6|7|8|9");
	describe("a.bcd", "bcd & a");	/* the best set first, then the others */
	describe("[^a]bc", "bc");
	describe("\\+44\\s*7", "+44\\s7|+447");	/* white space is read as one space */
	describe("\\bme\\s+\\w+\\s+(?:up|in)\\b", "\\bme\\s & \\sup\\b|\\sin\\b");
	describe("x\\d+(?:[a-z]+|@)", "x & \\d");	/* a digit: not known which */
	/* nothing known: always a candidate */
	describe("\\d+", "\\d");
	describe("foo|.*", NULL);
	describe("a?b?", NULL);
	describe("[a-z]\\w", NULL);
	describe("(?-i:Foo)d", "food");
	describe("(?x:a b)", NULL);	/* extended: spaces are not literal */
	describe("(?i)foo", NULL);	/* inline options */
	describe("(a)\\1", NULL);	/* back-reference */
	describe("\\Qfoo\\E", NULL);
	describe("a{,3}b", NULL);	/* "{,3}" is text to PCRE2 10.42 */
	describe("(foo", NULL);
	describe("foo)", NULL);
	describe("(?:a|é)", NULL);
	describe("\\\x01\x04", NULL);	/* control characters: not literals (nor \b) */

	ok(!candidate("\\bon\\b", "confidence and application"), "\\bon\\b: not inside words");
	ok(candidate("\\bon\\b", "see you on Monday"), "\\bon\\b: the word");
	ok(candidate("\\bon\\b", "ON"), "\\bon\\b: the whole text, in capitals");
	ok(candidate("\\bon\\b", "caf\xc3\xa9on"), "\\bon\\b: after a non-ASCII letter, maybe");
	ok(candidate("\\bsuicide", "\xc5\xbfuicide"), "long s folds to s");
	ok(candidate("\\bkill", "\xe2\x84\xaaill"), "Kelvin sign folds to k");
	ok(!candidate("myself", "my self"), "a literal is contiguous");
	ok(candidate("[a-z]\\w", ""), "an unknown pattern is always a candidate");
	ok(!candidate("[a-z]\\d", "no numbers here"), "\\d needs a digit");
	ok(candidate("[a-z]\\d", "a\xd9\xa3"), "\\d: any Unicode digit (UCP), so any non-ASCII may be one");
	/* a phrase over white space, and a pattern needing several sets */
	ok(!candidate("\\bcall\\s+me\\s+on\\b", "call me later, I am on it"),
	    "words apart are not the phrase");
	ok(candidate("\\bcall\\s+me\\s+on\\b", "Call\n\tme  on"), "a run of white space is one space");
	ok(candidate("\\bcall\\s+me", "call\xc2\xa0me"), "so is a no-break space (\\s with UCP)");
	ok(candidate("\\bcall\\s+me", "call\xe3\x80\x80me"), "and an ideographic space");
	ok(candidate("i", "\xe2\x80I"), "a broken sequence is no space (found by fuzzing)");
	ok(!candidate("\\bmy\\s+\\w+\\s+(?:snap|insta)\\b", "my old phone"), "the first set alone is not enough");
	ok(!candidate("\\bmy\\s+\\w+\\s+(?:snap|insta)\\b", "use snap chat"), "nor the second alone");
	ok(candidate("\\bmy\\s+\\w+\\s+(?:snap|insta)\\b", "my own snap"), "both: a candidate");
}

/* A random pattern from pieces rules use, appended to out. */
static void
random_pattern(struct buf *out, int depth)
{
	static const char *const atoms[] = { "a", "b", "on", "ab", "\\b", "\\d", "\\s", ".",
		"[ab]", "[^a]", "[0-9]", "'", "\\.", "x", "K", "s", "(?=a)", "(?!b)", "(?<=a)", "^",
		"$", "\\w", "[a-c]", "\xc3\xa9" };
	static const char *const quants[] = { "", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,3}",
		"?+", "*?" };

	for (size_t n = 1 + pick(4); n > 0; n--) {
		if (depth < 2 && pick(4) == 0) {
			buf_adds(out, pick(3) ? "(?:" : pick(2) ? "(?-i:" : "(");
			random_pattern(out, depth + 1);
			buf_adds(out, "|");
			random_pattern(out, depth + 1);
			buf_adds(out, ")");
		} else
			buf_adds(out, atoms[pick(sizeof atoms / sizeof *atoms)]);
		buf_adds(out, quants[pick(sizeof quants / sizeof *quants)]);
	}
}

/* Whatever PCRE2 finds in a text, the prefilter names the pattern a
 * candidate for it: random patterns over random texts. */
static int
random_property(size_t patterns, size_t texts)
{
	static const char *const bits[] = { "a", "b", "A", "B", "on", "ON", "x", "K", "k", "s",
		"\xc5\xbf", "\xe2\x84\xaa", "\xc3\xa9", " ", "'", ".", "0", "7", "\n", "-", "_",
		"\t", "  ", "\xc2\xa0", "\xe2\x80\x89", "\xd9\xa3", "\xef\xbc\x97" };
	int bad = 0;
	size_t tried = 0;

	for (size_t p = 0; p < patterns; p++) {
		struct buf b = {0};
		char err[200], *src;
		random_pattern(&b, 0);
		src = buf_steal(&b);
		struct pattern *re = pattern_compile_one(src, 0, err, sizeof err);
		if (!re) {
			free(src);
			continue;
		}
		tried++;
		struct prefilter *pf = prefilter_new();
		prefilter_add(pf, src);
		for (size_t t = 0; t < texts; t++) {
			char text[64] = "";
			uint64_t cand[1];
			for (size_t k = pick(12); k > 0; k--)
				strcat(text, bits[pick(sizeof bits / sizeof *bits)]);
			prefilter_scan(pf, text, strlen(text), cand);
			if (pattern_find(re, text, strlen(text), 0, NULL, NULL, NULL) > 0 && !(cand[0] & 1)) {
				char *lits = prefilter_describe(src);
				printf("# %s matches [%s] but needs %s\n", src, text, lits ? lits : "(none)");
				free(lits);
				bad++;
				break;
			}
		}
		prefilter_free(pf);
		pattern_free(re);
		free(src);
	}
	ok(tried > patterns / 2, "%zu random patterns compiled", tried);
	return bad;
}

/* Screening with the prefilter and without it agree on text. */
static int
same(struct rules *rs, const char *text)
{
	struct screen_hit *a, *b;
	struct prefilter *pf = rs->pf;
	size_t na, nb;
	int yes;

	na = screen_text(rs, text, strlen(text), &a);
	rs->pf = NULL;
	nb = screen_text(rs, text, strlen(text), &b);
	rs->pf = pf;
	yes = na == nb && (!na || !memcmp(a, b, na * sizeof *a));
	if (!yes)
		printf("# differs (%zu hits, %zu without the prefilter) on: %.200s\n", na, nb, text);
	free(a);
	free(b);
	return yes;
}

/* Texts glued from the examples' words, cased and spaced at random, with
 * the characters the prefilter folds. */
static int
made_up(struct rules *rs, size_t count)
{
	static const char *const seps[] = { " ", "  ", "\n", ", ", ". ", "-", "", "'", "\xc2\xa0" };
	static const char *const extra[] = { "\xc5\xbf", "\xe2\x84\xaa", "07700", "900", "123",
		"@", "dot", "at", "gmail", "com", "\xc3\xa9" };
	char **words = NULL;
	size_t nw = 0;
	int bad = 0;

	for (size_t i = 0; i < rs->n; i++)
		for (size_t e = 0; e < rs->v[i].nmatch + rs->v[i].nnomatch; e++) {
			const char *ex = e < rs->v[i].nmatch ? rs->v[i].match[e] :
			    rs->v[i].nomatch[e - rs->v[i].nmatch];
			char *copy = xstrdup(ex), *save;
			for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
				words = xrealloc(words, (nw + 1) * sizeof *words);
				words[nw++] = xstrdup(w);
			}
			free(copy);
		}
	for (size_t k = 0; k < sizeof extra / sizeof *extra; k++) {
		words = xrealloc(words, (nw + 1) * sizeof *words);
		words[nw++] = xstrdup(extra[k]);
	}
	for (size_t t = 0; t < count; t++) {
		struct buf b = {0};
		size_t n = 1 + pick(14);
		for (size_t k = 0; k < n; k++) {
			const char *w = words[pick(nw)];
			int upper = pick(4) == 0;
			for (const char *c = w; *c; c++)
				buf_addc(&b, upper && *c >= 'a' && *c <= 'z' ? (char)(*c - 32) : *c);
			buf_adds(&b, seps[pick(sizeof seps / sizeof *seps)]);
		}
		bad += !same(rs, b.s);
		buf_free(&b);
	}
	for (size_t i = 0; i < nw; i++)
		free(words[i]);
	free(words);
	return bad;
}

/* The safeguarding corpus beside the clone, screened as a message is. */
static int
corpus(struct rules *rs, size_t *seen)
{
	const char *shared = getenv("MENTORGATE_SHARED") ? getenv("MENTORGATE_SHARED") : "../shared";
	char *dir = xasprintf("%s/corpora/safeguard/cases", shared);
	DIR *d = opendir(dir);
	struct dirent *e;
	int bad = 0;

	*seen = 0;
	while (d && (e = readdir(d))) {
		if (!strstr(e->d_name, ".eml"))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		size_t len;
		char *raw = f ? mg_read_all(f, &len) : NULL;
		if (f)
			fclose(f);
		if (raw) {
			struct mime_msg *m = mime_parse(raw, len);
			char *text = screen_message_text(m);
			bad += !same(rs, text);
			(*seen)++;
			free(text);
			mime_free(m);
			free(raw);
		}
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	return bad;
}

static void
equivalence(void)
{
	struct rules *rs = NULL;
	struct buf errs = {0};
	size_t seen, always = 0, n = 0;
	uint64_t *cand;
	int bad = 0;

	ok(rules_load("conf/rules", &rs, &errs) == MG_OK && rs && rs->pf, "shipped rules load");
	if (!rs)
		return;
	/* the analysis needed no correction from the rules' own examples:
	 * a pattern corrected that way would be a candidate for "" */
	cand = xcalloc(prefilter_words(rs->pf) + 1, sizeof *cand);
	prefilter_scan(rs->pf, "", 0, cand);
	for (size_t i = 0; i < rs->n; i++)
		for (size_t k = 0; k < rs->v[i].nre; k++, n++) {
			size_t p = rs->v[i].pf_first + k;
			char *lits = prefilter_describe(rs->v[i].src[k]);
			int is = (int)(cand[p / 64] >> (p % 64) & 1);
			if (is != !lits)
				printf("# %s pattern %zu: literals %s, always %d\n", rs->v[i].name, k,
				    lits ? lits : "(none)", is);
			bad += is != !lits;
			always += (size_t)is;
			free(lits);
		}
	free(cand);
	ok(!bad, "no pattern needed correcting by its examples");
	ok(always * 10 < n, "most patterns have literals (%zu of %zu always run)", always, n);
	bad = 0;
	for (size_t i = 0; i < rs->n; i++)
		for (size_t e = 0; e < rs->v[i].nmatch + rs->v[i].nnomatch; e++)
			bad += !same(rs, e < rs->v[i].nmatch ? rs->v[i].match[e] :
			    rs->v[i].nomatch[e - rs->v[i].nmatch]);
	ok(!bad, "the rules' examples screen the same with and without the prefilter");
	ok(!made_up(rs, 3000), "3000 made-up texts screen the same with and without it");
	bad = corpus(rs, &seen);
	if (seen)
		ok(!bad, "%zu corpus messages screen the same with and without it", seen);
	else
		printf("# safeguarding corpus not beside the clone: skipped\n");
	rules_free(rs);
	buf_free(&errs);
}

/* Many strings with a long prefix and suffix in common: each pattern is
 * still a candidate for exactly the texts holding its string. */
static void
many(void)
{
	struct prefilter *pf = prefilter_new();
	size_t n = 3000, words;
	uint64_t *cand;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		char src[64];
		snprintf(src, sizeof src, "w%05zuqqqqqqqqqqqqqqqqqqqq%05zu", i, n - i);
		prefilter_add(pf, src);
	}
	words = prefilter_words(pf);
	cand = xcalloc(words, sizeof *cand);
	for (size_t i = 0; i < n; i += 499) {
		char text[128];
		snprintf(text, sizeof text, "say W%05zuqqqqqqqqqqqqqqqqqqqq%05zu twice", i, n - i);
		prefilter_scan(pf, text, strlen(text), cand);
		for (size_t p = 0; p < n; p++)
			bad += (int)(cand[p / 64] >> (p % 64) & 1) != (p == i);
	}
	ok(!bad, "%zu patterns of 31 characters: each a candidate for its own text alone", n);
	free(cand);
	prefilter_free(pf);
}

/* A text as the prefilter reads it: ASCII lower case, each run of white
 * space one space. */
static char *
fold(const char *text)
{
	struct buf b = {0};

	buf_adds(&b, "");
	for (const char *c = text; *c; c++)
		if (!isspace((unsigned char)*c))
			buf_addc(&b, (char)tolower((unsigned char)*c));
		else if (!b.len || b.s[b.len - 1] != ' ')
			buf_addc(&b, ' ');
	return buf_steal(&b);
}

static int
word_char(const char *t, size_t m, size_t j)
{
	return j < m && (isalnum((unsigned char)t[j]) || t[j] == '_');
}

/* Does folded text t hold literal lit (\001: a word boundary) anywhere? */
static int
holds(const char *t, const char *lit)
{
	size_t m = strlen(t);

	for (size_t i = 0; i <= m; i++) {
		const char *c = lit;
		for (size_t j = i; *c; c++)
			if (*c == '\001') {
				if ((j && word_char(t, m, j - 1)) == word_char(t, m, j))
					break;
			} else if (j < m && t[j] == *c)
				j++;
			else
				break;
		if (!*c)
			return 1;
	}
	return 0;
}

/* Does folded text t hold one literal of each set prefilter_describe()
 * names, "a|\\bb & c\\sd"?  (Literals of letters, digits, \b and \s.) */
static int
brute(const char *desc, const char *t)
{
	char *copy = xstrdup(desc), *s1, *s2;
	int all = 1;

	for (char *set = strtok_r(copy, "&", &s1); set && all; set = strtok_r(NULL, "&", &s1)) {
		int any = 0;
		for (char *l = strtok_r(set, "| ", &s2); l && !any; l = strtok_r(NULL, "| ", &s2)) {
			char *w = l;
			for (const char *c = l; *c; c++)
				if (*c == '\\') {
					c++;
					*w++ = *c == 'b' ? '\001' : *c == 's' ? ' ' : *c;
				} else
					*w++ = *c;
			*w = 0;
			any = holds(t, l);
		}
		all = any;
	}
	free(copy);
	return all;
}

/* Patterns scanned together (a first half, then all, so that the index
 * is built twice): each is a candidate for exactly the texts that brute
 * force finds all its sets in. */
static int
agree(char *const *pats, size_t np, char *const *texts, size_t nt)
{
	struct prefilter *pf = prefilter_new();
	char **desc = xcalloc(np, sizeof *desc);
	uint64_t *cand = xcalloc(np / 64 + 1, sizeof *cand);
	int bad = 0;

	for (size_t p = 0; p < np; p++) {
		if (p == np / 2)
			prefilter_scan(pf, "a", 1, cand);
		prefilter_add(pf, pats[p]);
		desc[p] = prefilter_describe(pats[p]);
	}
	for (size_t t = 0; t < nt; t++) {
		char *folded = fold(texts[t]);
		prefilter_scan(pf, texts[t], strlen(texts[t]), cand);
		for (size_t p = 0; p < np; p++) {
			int got = (int)(cand[p / 64] >> (p % 64) & 1), want = !desc[p] ||
			    brute(desc[p], folded);
			if (got != want && !bad++)
				printf("# %s (%s) on [%s]: candidate %d, by brute force %d\n", pats[p],
				    desc[p] ? desc[p] : "always", texts[t], got, want);
		}
		free(folded);
	}
	for (size_t p = 0; p < np; p++)
		free(desc[p]);
	free(desc);
	free(cand);
	prefilter_free(pf);
	return bad;
}

/* A literal of up to ten characters (as many as the scan looks for) from
 * alpha, appended to b: \b here and there, now and then \s (never two). */
static void
random_literal(struct buf *b, const char *alpha)
{
	size_t n = 1 + pick(10);

	if (!pick(4))
		buf_adds(b, "\\b");
	for (size_t k = 0; k < n; k++) {
		if (k && k + 1 < n && b->s[b->len - 1] != 's' && !pick(8))
			buf_adds(b, "\\s");
		else
			buf_addc(b, alpha[pick(strlen(alpha))]);
		if (!pick(10) && (k + 1 < n || n < 10))	/* (a \b past ten is not looked for) */
			buf_adds(b, "\\b");
	}
}

/* np patterns, each one to three sets of literals from alpha; nt texts
 * of pieces, against brute force. */
static int
random_agree(const char *alpha, const char *const *pieces, size_t npieces, size_t np, size_t nt)
{
	char **pats = xcalloc(np, sizeof *pats), **texts = xcalloc(nt, sizeof *texts);
	int bad;

	for (size_t p = 0; p < np; p++) {
		struct buf b = {0};
		for (size_t k = 1 + pick(3); k > 0; k--) {
			buf_adds(&b, "(?:");
			for (size_t n = 1 + pick(4); n > 0; n--) {
				random_literal(&b, alpha);
				buf_adds(&b, n > 1 ? "|" : k > 1 ? ")." : ")");
			}
		}
		pats[p] = buf_steal(&b);
	}
	for (size_t t = 0; t < nt; t++) {
		struct buf b = {0};
		buf_adds(&b, "");
		for (size_t k = pick(40); k > 0; k--)
			buf_adds(&b, pieces[pick(npieces)]);
		texts[t] = buf_steal(&b);
	}
	bad = agree(pats, np, texts, nt);
	for (size_t p = 0; p < np; p++)
		free(pats[p]);
	for (size_t t = 0; t < nt; t++)
		free(texts[t]);
	free(pats);
	free(texts);
	return bad;
}

/* The automaton finds what brute force finds: strings sharing prefixes
 * and suffixes, long chains of failures ("aaaaaaaaaa" failing down to
 * "aaab" and "ab", a text walking back up them), more states than have
 * whole rows, many classes. */
static void
automaton(void)
{
	static char *const pats[] = { "aaaaaaaaaa", "aaab\\b", "\\bab", "b", "aab\\sa",
		"a\\sb", "baaaa", "(?:abab|bab|ab\\b)", "\\ba\\b", "aa\\saa", "ba.ab",
		"(?:aaaa|baaa)..(?:abaa|bbb)" };
	static char *const texts[] = { "", "a", "aaaaaaaaaaab", "aaaaaaaaab a", "xaaab",
		"ababab", "aaab b", "baaaaaaaaaa", "aa\n\taa", "A", "bab_", "aaaaaaaaaaaaaaaaaaaab",
		"aab  a baaaab bbb", "ba ab", "Baaa.abaA" };
	static const char *const ab[] = { "a", "a", "a", "b", "A", " ", "_", ".", "\n", "aaaaa" };
	static const char *const wide[] = { "a", "e", "s", "t", "o", "n", "x", "q", "0", "7", "@",
		"'", " ", "  ", "_", ".", "-", "Z", "K", "\t", "the", "on" };
	unsigned long seed = rng;	/* (the tests after see the numbers they saw before) */

	ok(!agree(pats, sizeof pats / sizeof *pats, texts, sizeof texts / sizeof *texts),
	    "chains of failures: candidates as brute force finds them");
	ok(!random_agree("aab", ab, sizeof ab / sizeof *ab, 400, 1000),
	    "400 random patterns over two letters and 1000 texts: as brute force finds");
	ok(!random_agree("abcdefghijklmnopqrstuvwxyz0123456789'@", wide, sizeof wide / sizeof *wide,
	    400, 1000), "400 random patterns over 38 characters and 1000 texts: the same");
	rng = seed;
}

/* pattern_find against PCRE2 compiled with Unicode properties (the
 * options pattern.h names): the same match, start, end and group on every
 * text, ASCII (the twin compiled without them runs) or not. */
static int
ascii_twin_property(size_t patterns, size_t texts)
{
	static const char *const bits[] = { "a", "b", "A", "B", "on", "ON", "x", "K", "k", "s",
		"S", " ", "'", ".", "0", "7", "\n", "-", "_", "\t", "\v", "  ", "\r\n", "\x01", "~",
		"\xc5\xbf", "\xe2\x84\xaa", "\xc3\xa9", "\xd9\xa3" };
	int bad = 0;

	for (size_t p = 0; p < patterns && !bad; p++) {
		struct buf b = {0};
		char err[200], *src;
		int code;
		PCRE2_SIZE off;
		buf_adds(&b, pick(2) ? "(" : "(?:a|(");	/* group 1: taking part or not */
		random_pattern(&b, 0);
		buf_adds(&b, b.s[1] == '?' ? "))" : ")");
		src = buf_steal(&b);
		struct pattern *re = pattern_compile_one(src, 0, err, sizeof err);
		pcre2_code *ucp = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
		if (!re != !ucp) {
			printf("# %s compiles in one and not the other\n", src);
			bad++;
		}
		pcre2_match_data *md = pcre2_match_data_create(2, NULL);
		pcre2_match_context *mc = pcre2_match_context_create(NULL);
		pcre2_set_match_limit(mc, 1000000);	/* pattern_find's */
		for (size_t t = 0; re && ucp && t < texts && !bad; t++) {
			char text[80] = "";
			size_t a = 0, e = 0, g[2] = { 0, 0 }, len;
			int ascii = (int)pick(4);	/* three in four */
			for (size_t k = pick(14); k > 0; k--)
				strcat(text, bits[pick(ascii ? 25 : sizeof bits / sizeof *bits)]);
			len = strlen(text);
			int rc = pcre2_match(ucp, (PCRE2_SPTR)text, len, 0, 0, md, mc), want = rc >= 0;
			if (rc == PCRE2_ERROR_MATCHLIMIT)
				continue;	/* (pattern_find gives up there too) */
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			int got = pattern_find(re, text, len, 0, &a, &e, g);
			/* (pattern_find says no when group 1 took no part) */
			int wgroup = want && ov[2] != PCRE2_UNSET;
			if (got != wgroup || (want && (a != ov[0] || e != ov[1])) ||
			    (got && (g[0] != ov[2] || g[1] != ov[3]))) {
				printf("# %s on [%s]: pcre2 %d %zu-%zu, pattern_find %d %zu-%zu\n", src, text,
				    want, want ? (size_t)ov[0] : 0, want ? (size_t)ov[1] : 0, got, a, e);
				bad++;
			}
		}
		pcre2_match_data_free(md);
		pcre2_match_context_free(mc);
		pcre2_code_free(ucp);
		pattern_free(re);
		free(src);
	}
	return bad;
}

/* A rule's pattern is interpreted until it has cost enough, then a JIT copy
 * matches in its place, alike; freeing it gives its JIT code back. */
static void
hot_rule(void)
{
	char err[200];
	struct buf text = {0};
	size_t before = pattern_jit_bytes(), a0 = 0, b0 = 0, runs = 0;
	uint32_t jit = 0;
	int same = 1;

	for (int i = 0; i < 2000; i++)
		buf_adds(&text, "the lesson went well and we talked about ");
	buf_adds(&text, "a quokka");
	struct pattern *re = pattern_compile_one("(?:\\w+\\s+){0,3}(?:zebra|quokka)\\b", 0, err,
	    sizeof err);
	ok(re && pattern_jit_bytes() == before, "a rule starts with no JIT code");
	for (; re && runs < 5000 && pattern_jit_bytes() == before; runs++) {
		size_t a, b;
		if (pattern_find(re, text.s, text.len, 0, &a, &b, NULL) != 1 ||
		    (runs && (a != a0 || b != b0)))
			same = 0;
		a0 = a, b0 = b;
	}
	pcre2_config(PCRE2_CONFIG_JIT, &jit);
	if (jit)
		ok(pattern_jit_bytes() > before, "JIT-compiled after %zu interpreted runs", runs);
	else
		ok(pattern_jit_bytes() == before, "no JIT in this PCRE2: interpreted throughout");
	for (int i = 0; i < 3; i++) {
		size_t a, b;
		if (pattern_find(re, text.s, text.len, 0, &a, &b, NULL) != 1 || a != a0 || b != b0)
			same = 0;
	}
	ok(same && b0 == text.len && text.len - a0 > strlen("a quokka"),
	    "interpreted and JIT-compiled, the same match");
	pattern_free(re);
	ok(pattern_jit_bytes() == before, "freed with its JIT code");
	free(text.s);
}

/* A match the JIT gives up on (its match limit counts its own way) is
 * matched by the interpreter: JIT-compiled or not, a pattern finds the
 * same. */
static void
jit_gives_up(void)
{
	static const char src[] = "(?:a|('*?(?:[^a]{0,2}(?:s?|a{0,2}[a-c]*?)|\\w{1,3}(?<=a)[^a]*[^a])*on?+))";
	static const char text[] = "70onAx.S\r\n.\x01" "7";
	struct pattern *jit[1], *interp;
	const char *const srcs[] = { src };
	char err[200];
	size_t a1 = 0, b1 = 0, a2 = 1, b2 = 1;
	int r1, r2;

	pattern_compile(jit, srcs, 1, 0);
	interp = pattern_compile_one(src, 0, err, sizeof err);
	r1 = pattern_find(jit[0], text, strlen(text), 0, &a1, &b1, NULL);
	r2 = interp ? pattern_find(interp, text, strlen(text), 0, &a2, &b2, NULL) : -2;
	ok(r1 == 1 && r2 == 1 && a1 == a2 && b1 == b2,
	    "a match the JIT gives up on: JIT %d [%zu, %zu), interpreted %d [%zu, %zu)", r1, a1, b1, r2, a2, b2);
	pattern_free(jit[0]);
	pattern_free(interp);
}

int
main(void)
{
	hot_rule();
	jit_gives_up();
	analysis();
	many();
	automaton();
	ok(!random_property(3000, 200), "no random pattern matches a text it is not a candidate for");
	equivalence();
	ok(pattern_ascii("", 0) && pattern_ascii("1234567", 7) && pattern_ascii("12345678", 8) &&
	    pattern_ascii("123456789", 9), "ASCII of every length is ASCII");
	ok(!pattern_ascii("1234567\xc3\xa9", 9) && !pattern_ascii("\xa0", 1) &&
	    !pattern_ascii("12345678\x80", 9) && pattern_ascii("12345678\x80", 8),
	    "a byte over 127 anywhere is not, and only within the length");
	ok(!ascii_twin_property(3000, 200),
	    "on any text a pattern finds what PCRE2 with Unicode properties finds");
	return tap_done();
}
