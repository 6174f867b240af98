/* rules: parse, compile and self-check the screening rule files. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plain.h"
#include "rules.h"
#include "screen.h"

static const char *const categories[] = {
	"contact-phone", "contact-email", "social", "address", "meeting", "money", "risk", "abuse",
};

static int
known_category(const char *name)
{
	for (size_t i = 0; i < sizeof categories / sizeof *categories; i++)
		if (!strcmp(name, categories[i]))
			return 1;
	return 0;
}

const char *
rules_action_name(enum rule_action a)
{
	return a == RULE_ESCALATE ? "escalate" : a == RULE_HOLD ? "hold" : "flag";
}

static void
add(char ***v, size_t *n, const char *s)
{
	*v = xpush(*v, *n, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static void
rule_clear(struct rule *r)
{
	free(r->name);
	free(r->category);
	for (size_t i = 0; i < r->nre; i++) {
		pattern_free(r->re[i]);
		free(r->src[i]);
	}
	free(r->re);
	free(r->src);
	for (size_t i = 0; i < r->nmatch; i++)
		free(r->match[i]);
	free(r->match);
	for (size_t i = 0; i < r->nnomatch; i++)
		free(r->nomatch[i]);
	free(r->nomatch);
	for (size_t i = 0; i < r->nunless; i++)
		pattern_free(r->unless[i]);
	free(r->unless);
	free(r->why);
	free(r->file);
}

void
rules_free(struct rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_clear(&rs->v[i]);
	free(rs->v);
	for (size_t i = 0; i < rs->nallow; i++)
		free(rs->allow[i]);
	free(rs->allow);
	prefilter_free(rs->pf);
	model_free(rs->model);
	free(rs);
}

/* An [allow] entry as it is compared: a number by its digits alone (at
 * least three), anything else lower-case with its spaces run together. */
static char *
allow_form(const char *s, size_t len)
{
	struct buf b = {0};
	size_t digits = 0, other = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (!strchr(" +-.()/\t\r\n", s[i]))
			other++;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!other && digits >= 3) {
			if (c >= '0' && c <= '9')
				buf_addc(&b, c);
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (b.len && b.s[b.len - 1] != ' ')
				buf_addc(&b, ' ');
		} else
			buf_addc(&b, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

void
rules_allow(struct rules *rs, const char *entry)
{
	char *f = allow_form(entry, strlen(entry));

	if (!*f) {
		free(f);
		return;
	}
	rs->allow = xrealloc(rs->allow, (rs->nallow + 1) * sizeof *rs->allow);
	rs->allow[rs->nallow++] = f;
}

/* A hit's text is allowed when it is an allowed number (its digits, with
 * +44 read as 0) or holds an allowed text. */
int
rules_allowed(const struct rules *rs, const char *text, size_t len)
{
	char *f, digits[64];
	size_t nd = 0;
	int yes = 0;

	if (!rs->nallow)
		return 0;
	for (size_t i = 0; i < len && nd + 1 < sizeof digits; i++)
		if (text[i] >= '0' && text[i] <= '9')
			digits[nd++] = text[i];
	digits[nd] = 0;
	if (nd > 2 && !strncmp(digits, "44", 2) && memchr(text, '+', len)) {
		memmove(digits + 1, digits + 2, nd - 1);
		digits[0] = '0';
	}
	f = allow_form(text, len);
	for (size_t i = 0; i < rs->nallow && !yes; i++) {
		const char *a = rs->allow[i];
		if (strspn(a, "0123456789") == strlen(a))
			yes = nd && !strcmp(digits, a);
		else
			yes = strstr(f, a) != NULL;
	}
	free(f);
	return yes;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

/* A finished stanza: complete, or reported. */
static int
finish(struct rules *rs, struct rule *r, struct buf *errs)
{
	const char *miss = !r->category ? "category" : !r->nre ? "pattern" :
	    !r->nmatch ? "match example" : !r->nnomatch ? "nomatch example" : NULL;

	if (!r->name)
		return 0;
	if (miss) {
		buf_printf(errs, "%s:%d: rule %s has no %s\n", r->file, r->line, r->name, miss);
		rule_clear(r);
		memset(r, 0, sizeof *r);
		return 1;
	}
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].name, r->name)) {
			buf_printf(errs, "%s:%d: rule %s is defined twice (also %s:%d)\n", r->file, r->line,
			    r->name, rs->v[i].file, rs->v[i].line);
			rule_clear(r);
			memset(r, 0, sizeof *r);
			return 1;
		}
	rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof *rs->v);
	rs->v[rs->n++] = *r;
	memset(r, 0, sizeof *r);
	return 0;
}

/* What the files of one directory have defined so far: word lists and
 * regex fragments, both named in patterns as {NAME}. */
struct words {
	char *name;
	char *re;	/* the list, or the fragment's lines, as one alternation */
};

struct load {
	struct rules *rs;
	struct words *w;
	size_t nw;
	/* the [words NAME] or [fragment NAME] stanza being read */
	char *wname, *wfile;
	char **entries;	/* (a fragment's: regex lines, lists expanded) */
	size_t nentries;
	int wline, wsource, fragment, obscured;
};

static int
by_length(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);

	return x < y ? 1 : x > y ? -1 : strcmp(*(char *const *)a, *(char *const *)b);
}

/* The letter c and the digits or signs leetspeak writes for it. */
static const char *
obscure_class(char c)
{
	static const struct { char c; const char *re; } leet[] = {
		{'a', "a4"}, {'e', "e3"}, {'i', "i1!|"}, {'o', "o0"}, {'s', "s5"}, {'t', "t7"},
		{'l', "l1|"}, {'g', "g9"}, {'b', "b8"},
	};

	for (size_t i = 0; i < sizeof leet / sizeof *leet; i++)
		if (leet[i].c == c)
			return leet[i].re;
	return "";
}

/* The entries as a regex: each matched whole (no letter or digit either
 * side), a space as any white space, a final '*' as any ending; longest
 * first, so that the longest phrase wins.  An obscured list also matches
 * its words with up to two letters written in leetspeak (obscure_class) or,
 * between the first letter and the last, as a symbol (* # @ % $): "p*ki",
 * "g#ppo", "tr@nny", "n1gg3r".  The first letter stays, so a word of
 * symbols alone is never one of them, nor a handle's underscores. */
static char *
words_re(char **e, size_t n, int obscured)
{
	struct buf b = {0};

	qsort(e, n, sizeof *e, by_length);
	buf_adds(&b, obscured ? "(?<![\\p{L}\\p{N}*#@%$])(?!(?:[^\\s*#@%$0-9]*[*#@%$0-9]){3})(?:" :
	    "(?<![\\p{L}\\p{N}])(?:");
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(e[i]);
		if (i)
			buf_addc(&b, '|');
		for (size_t k = 0; k < len; k++) {
			char c = e[i][k];
			if (c == '*' && k + 1 == len)
				buf_adds(&b, "[\\p{L}\\p{N}'\xe2\x80\x99]*");
			else if (c == ' ') {
				buf_adds(&b, "\\s+");
				while (k + 1 < len && e[i][k + 1] == ' ')
					k++;
			} else if (obscured && k && isalpha((unsigned char)c)) {
				int last = k + 1 == len || (k + 2 == len && e[i][k + 1] == '*') ||
				    e[i][k + 1] == ' ';
				const char *leet = obscure_class((char)tolower((unsigned char)c));
				buf_printf(&b, "[%c%s%s]", c, leet, last ? "" : "*#@%$");
			} else {
				if (strchr("\\^$.|?*+()[]{}", c))
					buf_addc(&b, '\\');
				buf_addc(&b, c);
			}
		}
	}
	buf_adds(&b, obscured ? ")(?![\\p{L}\\p{N}*#@%$])" : ")(?![\\p{L}\\p{N}])");
	return buf_steal(&b);
}

/* A fragment's lines as one group: each line an alternative. */
static char *
fragment_re(char **e, size_t n)
{
	struct buf b = {0};

	buf_adds(&b, "(?:");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s(?:%s)", i ? "|" : "", e[i]);
	buf_addc(&b, ')');
	return buf_steal(&b);
}

/* A finished [words] or [fragment] stanza: defined, or reported. */
static int
words_finish(struct load *ld, struct buf *errs)
{
	int bad = 0;

	if (!ld->wname)
		return 0;
	for (size_t i = 0; i < ld->nw && !bad; i++)
		if (!strcmp(ld->w[i].name, ld->wname)) {
			buf_printf(errs, "%s:%d: {%s} is defined twice\n", ld->wfile, ld->wline,
			    ld->wname);
			bad = 1;
		}
	if (!bad && ld->fragment && !ld->nentries) {
		buf_printf(errs, "%s:%d: fragment %s has no regex\n", ld->wfile, ld->wline, ld->wname);
		bad = 1;
	} else if (!bad && !ld->fragment && (!ld->nentries || !ld->wsource)) {
		buf_printf(errs, "%s:%d: word list %s has no %s\n", ld->wfile, ld->wline, ld->wname,
		    ld->nentries ? "source" : "word");
		bad = 1;
	}
	if (!bad) {
		ld->w = xpush(ld->w, ld->nw, sizeof *ld->w);
		ld->w[ld->nw].name = ld->wname;
		ld->w[ld->nw++].re = ld->fragment ? fragment_re(ld->entries, ld->nentries) :
		    words_re(ld->entries, ld->nentries, ld->obscured);
		ld->wname = NULL;
	}
	free(ld->wname);
	free(ld->wfile);
	for (size_t i = 0; i < ld->nentries; i++)
		free(ld->entries[i]);
	free(ld->entries);
	ld->wname = ld->wfile = NULL;
	ld->entries = NULL;
	ld->nentries = 0;
	ld->wsource = ld->fragment = 0;
	return bad;
}

/* src with each {NAME} (a word list or fragment defined above; not \p{..}, x{2,3})
 * replaced by its alternation, or NULL with why in err. */
static char *
expand(const struct load *ld, const char *src, char *err, size_t errlen)
{
	struct buf b = {0};
	const char *p = src;

	while (*p) {
		size_t n = 0;
		/* (an escape's braces are not a list: \\p{L}, \\x{263a}, \\g{1};
		 * "\\b{list}" is a boundary and a list) */
		int escape = p - src >= 2 && p[-2] == '\\' && strchr("pPxoNgk", p[-1]);
		if (*p == '{' && !escape && isalpha((unsigned char)p[1])) {
			while (p[1 + n] && (strchr("_-", p[1 + n]) || (p[1 + n] >= 'a' && p[1 + n] <= 'z') ||
			    (p[1 + n] >= 'A' && p[1 + n] <= 'Z') || (p[1 + n] >= '0' && p[1 + n] <= '9')))
				n++;
			if (p[1 + n] == '}') {
				size_t i;
				for (i = 0; i < ld->nw; i++)
					if (strlen(ld->w[i].name) == n && !strncmp(ld->w[i].name, p + 1, n))
						break;
				if (i == ld->nw) {
					snprintf(err, errlen, "unknown word list or fragment {%.*s}", (int)n,
					    p + 1);
					buf_free(&b);
					return NULL;
				}
				buf_adds(&b, ld->w[i].re);
				p += n + 2;
				continue;
			}
		}
		buf_addc(&b, *p++);
	}
	return b.s ? buf_steal(&b) : xstrdup("");
}

/* pattern src (word lists expanded), compiled, or NULL with why in err */
static struct pattern *
compile(const struct load *ld, const char *src, char **expanded, char *err, size_t errlen)
{
	char *x = expand(ld, src, err, errlen);
	struct pattern *re;

	if (!x)
		return NULL;
	re = pattern_compile_one(x, 0, err, errlen);
	if (re && expanded)
		*expanded = x;
	else
		free(x);
	return re;
}

static int
load_file(struct load *ld, const char *path, struct buf *errs)
{
	struct rules *rs = ld->rs;
	FILE *f = fopen(path, "r");
	struct rule r = {0};
	char line[65536], err[256];
	int lineno = 0, bad = 0, allow = 0;

	if (!f) {
		buf_printf(errs, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		char *s = trim(line), *eq, *key, *val;
		lineno++;
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			bad += finish(rs, &r, errs);
			bad += words_finish(ld, errs);
			allow = 0;
			char *e = strchr(s, ']');
			if (e && !e[1] && !strcmp(s, "[allow]")) {
				allow = 1;
				continue;
			}
			int words = !strncmp(s, "[words ", 7), frag = !strncmp(s, "[fragment ", 10);
			if (!e || (strncmp(s, "[rule ", 6) && !words && !frag) || e[1]) {
				buf_printf(errs, "%s:%d: expected [rule NAME], [words NAME], [fragment NAME] "
				    "or [allow]\n", path, lineno);
				bad++;
				continue;
			}
			*e = 0;
			char *name = xstrdup(trim(s + (words ? 7 : frag ? 10 : 6)));
			if (!*name || strpbrk(name, " \t{}")) {
				buf_printf(errs, "%s:%d: a %s name is one word\n", path, lineno,
				    words ? "word list" : frag ? "fragment" : "rule");
				bad++;
			}
			if (words || frag) {
				ld->fragment = frag;
				ld->obscured = 0;
				ld->wname = name;
				ld->wfile = xstrdup(path);
				ld->wline = lineno;
			} else {
				r.name = name;
				r.file = xstrdup(path);
				r.line = lineno;
			}
			continue;
		}
		if (!(eq = strchr(s, '='))) {
			buf_printf(errs, "%s:%d: expected key = value\n", path, lineno);
			bad++;
			continue;
		}
		*eq = 0;
		key = trim(s);
		val = trim(eq + 1);
		if (allow) {
			if (strcmp(key, "entry")) {
				buf_printf(errs, "%s:%d: [allow] holds entry = lines\n", path, lineno);
				bad++;
			} else
				rules_allow(rs, val);
		} else if (ld->wname && ld->fragment) {
			/* (checked alone, so that an error names this line) */
			struct pattern *re = NULL;
			char *x = NULL;
			if (strcmp(key, "regex") || !*val) {
				buf_printf(errs, "%s:%d: a fragment holds regex = lines\n", path, lineno);
				bad++;
			} else if (!(re = compile(ld, val, &x, err, sizeof err))) {
				buf_printf(errs, "%s:%d: regex: %s\n", path, lineno, err);
				bad++;
			} else {
				ld->entries = xpush(ld->entries, ld->nentries, sizeof *ld->entries);
				ld->entries[ld->nentries++] = x;
			}
			pattern_free(re);
		} else if (ld->wname) {
			if (!strcmp(key, "word") && *val)
				add(&ld->entries, &ld->nentries, val);
			else if (!strcmp(key, "source") && *val)
				ld->wsource = 1;
			else if (!strcmp(key, "obscured") && (!strcmp(val, "yes") || !strcmp(val, "no")))
				ld->obscured = !strcmp(val, "yes");
			else {
				buf_printf(errs, "%s:%d: a word list holds word =, source = and "
				    "obscured = yes|no lines\n", path, lineno);
				bad++;
			}
		} else if (!r.name) {
			buf_printf(errs, "%s:%d: %s outside a [rule NAME] stanza\n", path, lineno, key);
			bad++;
		} else if (!strcmp(key, "category")) {
			if (!known_category(val)) {
				buf_printf(errs, "%s:%d: unknown category %s (one of: %s)\n", path, lineno,
				    val, RULES_CATEGORIES);
				bad++;
			} else {
				free(r.category);
				r.category = xstrdup(val);
			}
		} else if (!strcmp(key, "action")) {
			if (!strcmp(val, "flag"))
				r.action = RULE_FLAG;
			else if (!strcmp(val, "hold"))
				r.action = RULE_HOLD;
			else if (!strcmp(val, "escalate"))
				r.action = RULE_ESCALATE;
			else {
				buf_printf(errs, "%s:%d: action is flag, hold or escalate\n", path, lineno);
				bad++;
			}
		} else if (!strcmp(key, "view")) {
			if (!strcmp(val, "text"))
				r.view = RULE_VIEW_TEXT;
			else if (!strcmp(val, "spoken"))
				r.view = RULE_VIEW_SPOKEN;
			else if (!strcmp(val, "plain"))
				r.view = RULE_VIEW_PLAIN;
			else if (!strcmp(val, "text plain")) {
				r.view = RULE_VIEW_TEXT;
				r.also_plain = 1;
			} else {
				buf_printf(errs, "%s:%d: view is text, spoken, plain or text plain\n",
				    path, lineno);
				bad++;
			}
		} else if (!strcmp(key, "pattern") || !strcmp(key, "unless")) {
			int unless = key[0] == 'u';
			char *x = NULL;
			struct pattern *re = compile(ld, val, unless ? NULL : &x, err, sizeof err);
			if (!re) {
				buf_printf(errs, "%s:%d: %s: %s\n", path, lineno, key, err);
				bad++;
			} else if (unless) {
				r.unless = xrealloc(r.unless, (r.nunless + 1) * sizeof *r.unless);
				r.unless[r.nunless++] = re;
			} else {
				r.re = xrealloc(r.re, (r.nre + 1) * sizeof *r.re);
				r.src = xrealloc(r.src, (r.nre + 1) * sizeof *r.src);
				r.src[r.nre] = x;
				r.re[r.nre++] = re;
			}
		} else if (!strcmp(key, "why")) {
			free(r.why);
			r.why = xstrdup(val);
		} else if (!strcmp(key, "match"))
			add(&r.match, &r.nmatch, val);
		else if (!strcmp(key, "nomatch"))
			add(&r.nomatch, &r.nnomatch, val);
		else {
			buf_printf(errs, "%s:%d: unknown key %s\n", path, lineno, key);
			bad++;
		}
	}
	bad += finish(rs, &r, errs);
	bad += words_finish(ld, errs);
	fclose(f);
	return bad;
}

/* Mark always-run each pattern of r that matches text (in view) without
 * the prefilter naming it a candidate: one scan for all of them. */
static void
check_example(struct rules *rs, const struct rule *r, enum rule_view view, const char *text,
    uint64_t *cand)
{
	size_t len = strlen(text), *map = NULL;
	char *spoken = NULL;

	if (view == RULE_VIEW_SPOKEN)
		text = spoken = screen_spoken(text, len, &map, &len);
	else if (view == RULE_VIEW_PLAIN)
		text = spoken = plain_view(text, len, &map, &len);
	prefilter_scan(rs->pf, text, len, cand);
	for (size_t k = 0, i = r->pf_first; k < r->nre; k++, i++)
		if (!(cand[i / 64] >> (i % 64) & 1) && pattern_find(r->re[k], text, len, 0, NULL,
		    NULL, NULL) > 0)
			prefilter_always(rs->pf, i);
	free(spoken);
	free(map);
}

/* Index every pattern's literals.  A pattern that matches one of its
 * rule's examples without being a candidate for it (the analysis was
 * wrong) is run on every text instead.  (The scans here build the index,
 * so that the reader thread's scans only read it.) */
static void
build_prefilter(struct rules *rs)
{
	size_t n = 0;
	uint64_t *cand;

	rs->pf = prefilter_new();
	for (size_t i = 0; i < rs->n; i++) {
		rs->v[i].pf_first = n;
		for (size_t k = 0; k < rs->v[i].nre; k++, n++)
			prefilter_add(rs->pf, rs->v[i].src[k]);
	}
	cand = xcalloc(prefilter_words(rs->pf) + 1, sizeof *cand);
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->v[i];
		for (size_t e = 0; r->nre && e < r->nmatch + r->nnomatch; e++) {
			const char *text = e < r->nmatch ? r->match[e] : r->nomatch[e - r->nmatch];
			check_example(rs, r, r->view, text, cand);
			if (r->also_plain)
				check_example(rs, r, RULE_VIEW_PLAIN, text, cand);
		}
	}
	free(cand);
}

/* The directory's screen.model, if any, and a rule for each of its
 * categories (hits name them).  How many errors. */
static int
load_model(struct rules *rs, const char *dir, struct buf *errs)
{
	char *path = xasprintf("%s/screen.model", dir);
	int bad = 0;

	if (access(path, F_OK)) {
		free(path);
		return 0;
	}
	if (model_load(path, &rs->model, errs) != MG_OK) {
		free(path);
		return 1;
	}
	for (size_t c = 0; c < model_ncat(rs->model); c++) {
		const char *cat = model_category(rs->model, c);
		if (!known_category(cat)) {
			buf_printf(errs, "%s: unknown category %s (one of: %s)\n", path, cat,
			    RULES_CATEGORIES);
			bad++;
			continue;
		}
		struct rule r = {
			.name = xasprintf("model-%s", cat), .category = xstrdup(cat),
			.action = RULE_HOLD, .model = 1, .file = xstrdup(path),
			.why = xstrdup("the statistical second opinion (screen.model) rates the message "
			    "this way; the marked words weigh most"),
		};
		rs->model_rule[c] = rs->n;
		rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof *rs->v);
		rs->v[rs->n++] = r;
	}
	free(path);
	return bad;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum mg_status
rules_load(const char *dir, struct rules **out, struct buf *errs)
{
	struct rules *rs = xcalloc(1, sizeof *rs);
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int bad = 0;

	*out = NULL;
	if (!d) {
		buf_printf(errs, "%s: %s\n", dir, strerror(errno));
		free(rs);
		return MG_BADCONF;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 6 && !strcmp(e->d_name + l - 6, ".rules") && e->d_name[0] != '.')
			add(&names, &n, e->d_name);
	}
	closedir(d);
	if (n > 1)	/* (names is NULL when the directory holds none) */
		qsort(names, n, sizeof *names, by_name);
	struct load ld = { .rs = rs };
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		bad += load_file(&ld, path, errs);
		free(path);
		free(names[i]);
	}
	free(names);
	for (size_t i = 0; i < ld.nw; i++) {
		free(ld.w[i].name);
		free(ld.w[i].re);
	}
	free(ld.w);
	if (!n) {
		buf_printf(errs, "%s: no *.rules files\n", dir);
		bad++;
	}
	if (!bad)
		bad += load_model(rs, dir, errs);
	if (bad) {
		rules_free(rs);
		return MG_BADCONF;
	}
	build_prefilter(rs);
	*out = rs;
	return MG_OK;
}

/* Does rule r hit text (screened as a message is)? */
static int
hits_rule(const struct rules *rs, const struct rule *r, const char *text)
{
	struct screen_hit *h = NULL;
	size_t n = screen_text(rs, text, strlen(text), &h);
	int yes = 0;

	for (size_t i = 0; i < n; i++)
		if (h[i].rule == r)
			yes = 1;
	free(h);
	return yes;
}

enum mg_status
rules_check(const struct rules *rs, struct buf *errs)
{
	int bad = 0;

	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->v[i];
		for (size_t k = 0; k < r->nmatch; k++)
			if (!hits_rule(rs, r, r->match[k])) {
				buf_printf(errs, "%s:%d: rule %s misses its example: %s\n", r->file, r->line,
				    r->name, r->match[k]);
				bad++;
			}
		for (size_t k = 0; k < r->nnomatch; k++)
			if (hits_rule(rs, r, r->nomatch[k])) {
				buf_printf(errs, "%s:%d: rule %s matches its counter-example: %s\n", r->file,
				    r->line, r->name, r->nomatch[k]);
				bad++;
			}
	}
	return bad ? MG_BADCONF : MG_OK;
}
