/* rules: parse, compile and self-check the screening rule files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "screen.h"

static const char *const categories[] = {
	"contact-phone", "contact-email", "social", "address", "meeting", "money", "risk", "abuse",
};

const char *
rules_action_name(enum rule_action a)
{
	return a == RULE_ESCALATE ? "escalate" : a == RULE_HOLD ? "hold" : "flag";
}

static void
add(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
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
	prefilter_free(rs->pf);
	free(rs);
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

static int
load_file(struct rules *rs, const char *path, struct buf *errs)
{
	FILE *f = fopen(path, "r");
	struct rule r = {0};
	char line[8192], err[256];
	int lineno = 0, bad = 0;

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
			char *e = strchr(s, ']');
			if (!e || strncmp(s, "[rule ", 6) || e[1]) {
				buf_printf(errs, "%s:%d: expected [rule NAME]\n", path, lineno);
				bad++;
				continue;
			}
			*e = 0;
			r.name = xstrdup(trim(s + 6));
			r.file = xstrdup(path);
			r.line = lineno;
			if (!*r.name || strpbrk(r.name, " \t")) {
				buf_printf(errs, "%s:%d: a rule name is one word\n", path, lineno);
				bad++;
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
		if (!r.name) {
			buf_printf(errs, "%s:%d: %s outside a [rule NAME] stanza\n", path, lineno, key);
			bad++;
		} else if (!strcmp(key, "category")) {
			size_t i;
			for (i = 0; i < sizeof categories / sizeof *categories; i++)
				if (!strcmp(val, categories[i]))
					break;
			if (i == sizeof categories / sizeof *categories) {
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
			else {
				buf_printf(errs, "%s:%d: view is text or spoken\n", path, lineno);
				bad++;
			}
		} else if (!strcmp(key, "pattern")) {
			struct pattern *re = pattern_compile_one(val, 0, err, sizeof err);
			if (!re) {
				buf_printf(errs, "%s:%d: pattern: %s\n", path, lineno, err);
				bad++;
			} else {
				r.re = xrealloc(r.re, (r.nre + 1) * sizeof *r.re);
				r.src = xrealloc(r.src, (r.nre + 1) * sizeof *r.src);
				r.src[r.nre] = xstrdup(val);
				r.re[r.nre++] = re;
			}
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
	fclose(f);
	return bad;
}

/* Does pattern k of r match text (in the rule's view) without the
 * prefilter naming it a candidate? */
static int
missed(struct rules *rs, const struct rule *r, size_t k, const char *text, uint64_t *cand)
{
	size_t len = strlen(text), *map = NULL, i = r->pf_first + k;
	char *spoken = NULL;
	int yes;

	if (r->view == RULE_VIEW_SPOKEN)
		text = spoken = screen_spoken(text, len, &map, &len);
	prefilter_scan(rs->pf, text, len, cand);
	yes = !(cand[i / 64] >> (i % 64) & 1) && pattern_find(r->re[k], text, len, 0, NULL, NULL,
	    NULL) > 0;
	free(spoken);
	free(map);
	return yes;
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
		for (size_t k = 0; k < r->nre; k++)
			for (size_t e = 0; e < r->nmatch + r->nnomatch; e++)
				if (missed(rs, r, k, e < r->nmatch ? r->match[e] : r->nomatch[e - r->nmatch],
				    cand)) {
					prefilter_always(rs->pf, r->pf_first + k);
					break;
				}
	}
	free(cand);
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
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		bad += load_file(rs, path, errs);
		free(path);
		free(names[i]);
	}
	free(names);
	if (!n) {
		buf_printf(errs, "%s: no *.rules files\n", dir);
		bad++;
	}
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
