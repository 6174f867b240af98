/* model: a linear model per category over a text's words and word pairs
 * (see model.h); features are looked up by a 64-bit hash of their name. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct model {
	size_t ncat, nfeat, cap;	/* cap: slots, a power of two */
	size_t floor;		/* the fewest features a text is weighed as having */
	char *cat[MODEL_MAXCAT];
	double bias[MODEL_MAXCAT], thr[MODEL_MAXCAT];
	uint64_t *slot;		/* feature hashes (0: empty) */
	uint32_t *index;	/* slot -> feature */
	int16_t *w;		/* nfeat * ncat, in thousandths */
};

#define FNV_OFFSET	14695981039346656037ULL
#define FNV_PRIME	1099511628211ULL

static uint64_t
fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

struct tok {
	size_t a, b;	/* the token's bytes, apostrophes included */
};

static int
letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* An apostrophe ('\'' or U+2019): its length at s[i], else 0. */
static size_t
apostrophe(const char *s, size_t i, size_t len)
{
	if (s[i] == '\'')
		return 1;
	if (i + 2 < len && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] == 0x99)
		return 3;
	return 0;
}

/* The next token at or after *i; 0 at the end. */
static int
next_tok(const char *s, size_t len, size_t *i, struct tok *t)
{
	size_t k = *i, q;

	while (k < len && !letter(s[k]))
		k++;
	if (k >= len)
		return 0;
	t->a = k;
	t->b = ++k;
	for (;;) {
		while (k < len && (q = apostrophe(s, k, len)))
			k += q;
		if (k < len && letter(s[k]))
			t->b = ++k;
		else
			break;
	}
	*i = t->b;
	return 1;
}

/* The token as a feature reads it: lower case. */
static uint64_t
tok_hash(uint64_t h, const char *s, const struct tok *t)
{
	for (size_t k = t->a; k < t->b; k++) {
		char c = s[k];
		if (!letter(c))
			continue;	/* an apostrophe */
		c = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		h = fnv(h, &c, 1);
	}
	return h;
}

static void
tok_text(struct buf *b, const char *s, const struct tok *t)
{
	for (size_t k = t->a; k < t->b; k++)
		if (letter(s[k]))
			buf_addc(b, s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] + 32) : s[k]);
}

/* Calls fn for every feature of text (a word, then the pair it ends). */
static void
each_feature(const char *s, size_t len, void (*fn)(uint64_t, size_t, size_t, void *), void *arg)
{
	struct tok t, prev;
	size_t i = 0;
	int have = 0;

	while (next_tok(s, len, &i, &t)) {
		fn(tok_hash(fnv(FNV_OFFSET, "u:", 2), s, &t), t.a, t.b, arg);
		if (have)
			fn(tok_hash(fnv(tok_hash(fnv(FNV_OFFSET, "b:", 2), s, &prev), "_", 1), s, &t),
			    prev.a, t.b, arg);
		prev = t;
		have = 1;
	}
}

void
model_features(const char *s, size_t len, struct buf *out)
{
	struct tok t, prev;
	size_t i = 0;
	int have = 0;

	while (next_tok(s, len, &i, &t)) {
		buf_adds(out, "u:");
		tok_text(out, s, &t);
		buf_addc(out, '\n');
		if (have) {
			buf_adds(out, "b:");
			tok_text(out, s, &prev);
			buf_addc(out, '_');
			tok_text(out, s, &t);
			buf_addc(out, '\n');
		}
		prev = t;
		have = 1;
	}
}

static long
find(const struct model *m, uint64_t h)
{
	size_t k = h & (m->cap - 1);

	h += !h;	/* (0 marks an empty slot) */
	while (m->slot[k]) {
		if (m->slot[k] == h)
			return m->index[k];
		k = (k + 1) & (m->cap - 1);
	}
	return -1;
}

static int
insert(struct model *m, uint64_t h, uint32_t idx)
{
	size_t k = h & (m->cap - 1);

	h += !h;
	while (m->slot[k]) {
		if (m->slot[k] == h)
			return -1;
		k = (k + 1) & (m->cap - 1);
	}
	m->slot[k] = h;
	m->index[k] = idx;
	return 0;
}

struct scoring {
	const struct model *m;
	size_t n;		/* features seen, repeats included */
	size_t known;		/* distinct features the model knows */
	double z[MODEL_MAXCAT], best[MODEL_MAXCAT];
	size_t (*span)[2];
	unsigned char *seen;	/* a bit per feature */
};

static void
score_one(uint64_t h, size_t a, size_t b, void *arg)
{
	struct scoring *sc = arg;
	long j = find(sc->m, h);

	sc->n++;
	if (j < 0 || sc->seen[j / 8] & (1u << (j % 8)))
		return;
	sc->seen[j / 8] |= (unsigned char)(1u << (j % 8));
	sc->known++;
	for (size_t c = 0; c < sc->m->ncat; c++) {
		double w = sc->m->w[(size_t)j * sc->m->ncat + c] / 1000.0;
		sc->z[c] += w;
		if (w > sc->best[c]) {
			sc->best[c] = w;
			sc->span[c][0] = a;
			sc->span[c][1] = b;
		}
	}
}

size_t
model_score(const struct model *m, const char *text, size_t len, double *p, size_t (*span)[2])
{
	struct scoring sc = { .m = m, .span = span };

	sc.seen = xcalloc(m->nfeat / 8 + 1, 1);
	for (size_t c = 0; c < m->ncat; c++)
		span[c][0] = span[c][1] = 0;
	each_feature(text, len, score_one, &sc);
	double scale = 1 / sqrt((double)(sc.known > m->floor ? sc.known : m->floor));
	if (sc.n < 2 * MODEL_MINWORDS - 1)
		scale = 0;	/* (n words make 2n - 1 features) */
	for (size_t c = 0; c < m->ncat; c++)
		p[c] = 1 / (1 + exp(-(m->bias[c] + scale * sc.z[c])));
	free(sc.seen);
	return m->ncat;
}

int
model_hit(const struct model *m, size_t i, double p)
{
	return i < m->ncat && p >= m->thr[i];
}

size_t
model_ncat(const struct model *m)
{
	return m->ncat;
}

const char *
model_category(const struct model *m, size_t i)
{
	return i < m->ncat ? m->cat[i] : NULL;
}

void
model_free(struct model *m)
{
	if (!m)
		return;
	for (size_t c = 0; c < m->ncat; c++)
		free(m->cat[c]);
	free(m->slot);
	free(m->index);
	free(m->w);
	free(m);
}

/* "bias" or "threshold": ncat numbers into v. */
static int
numbers(const struct model *m, char *rest, double *v, int probability)
{
	size_t c = 0;
	char *end, *save;

	for (char *f = strtok_r(rest, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		if (c == m->ncat)
			return -1;
		errno = 0;
		v[c] = strtod(f, &end);
		if (errno || *end || !isfinite(v[c]) || (probability && (v[c] <= 0 || v[c] >= 1)))
			return -1;
		c++;
	}
	return c == m->ncat ? 0 : -1;
}

/* A weight as the trainer writes it, [-]D[.DDD], in thousandths: at most
 * MODEL_MAXWEIGHT and not zero.  (strtod was a sixth of a load.) */
static int
milli(const char *s, long *out)
{
	long v = 0, scale = 1000;
	int neg = *s == '-', digits = 0;

	s += neg;
	for (; *s >= '0' && *s <= '9' && v <= MODEL_MAXWEIGHT * 1000; s++, digits++)
		v = v * 10 + (*s - '0') * 1000;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9' && scale > 1; s++, digits++)
			v += (*s - '0') * (scale /= 10);
	if (*s || !digits || !v || v > MODEL_MAXWEIGHT * 1000)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

/* FEATURE IDX:W ...: its weights into row (thousandths: the trainer
 * writes three decimals). */
static int
weights(const struct model *m, char *rest, int16_t *row)
{
	char *end, *save;
	long w;

	for (char *f = strtok_r(rest, " \t", &save); f; f = strtok_r(NULL, " \t", &save)) {
		errno = 0;
		unsigned long c = strtoul(f, &end, 10);
		if (errno || end == f || *end != ':' || c >= m->ncat || row[c] != 0 ||
		    milli(end + 1, &w))
			return -1;
		row[c] = (int16_t)w;
	}
	return 0;
}

enum mg_status
model_load(const char *path, struct model **out, struct buf *errs)
{
	FILE *f = fopen(path, "r");
	struct model *m;
	struct buf text = {0};
	char chunk[65536], *line, *next;
	size_t lineno = 0, nlines = 0, got;
	int bad = 0, have_bias = 0, have_thr = 0;

	*out = NULL;
	if (!f) {
		buf_printf(errs, "%s: %s\n", path, strerror(errno));
		return MG_BADCONF;
	}
	/* read once: a file rewritten meanwhile is read as it was */
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&text, chunk, got);
	char *all = text.s;
	if (ferror(f) || !all || memchr(all, 0, text.len)) {
		buf_printf(errs, "%s: %s\n", path, ferror(f) ? strerror(errno) : all ? "not text" : "empty");
		fclose(f);
		buf_free(&text);
		return MG_BADCONF;
	}
	fclose(f);
	for (size_t i = 0; i < text.len; i++)
		nlines += all[i] == '\n';
	nlines++;
	m = xcalloc(1, sizeof *m);
	m->floor = 1;
	for (m->cap = 64; m->cap < nlines + nlines / 4; m->cap *= 2)	/* (at most 4/5 full) */
		;
	m->slot = xcalloc(m->cap, sizeof *m->slot);
	m->index = xcalloc(m->cap, sizeof *m->index);
	for (line = all; line; line = next) {
		size_t n;
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		lineno++;
		n = strlen(line);
		while (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (!*line || *line == '#')
			continue;
		char *sp = strpbrk(line, " \t"), *rest = sp ? sp + 1 : line + n;
		if (sp)
			*sp = 0;
		const char *why = NULL;
		if (!strcmp(line, "categories")) {
			if (m->ncat)
				why = "categories given twice";
			char *save;
			for (char *c = strtok_r(rest, " \t", &save); c && !why;
			    c = strtok_r(NULL, " \t", &save))
				if (m->ncat == MODEL_MAXCAT)
					why = "too many categories";
				else {
					for (size_t k = 0; k < m->ncat && !why; k++)
						if (!strcmp(m->cat[k], c))
							why = "a category given twice";
					m->cat[m->ncat++] = xstrdup(c);
				}
			if (!why && !m->ncat)
				why = "no categories";
		} else if (!m->ncat)
			why = "\"categories\" must come first";
		else if (!strcmp(line, "bias")) {
			if (numbers(m, rest, m->bias, 0))
				why = "bias: one number per category";
			have_bias = 1;
		} else if (!strcmp(line, "floor")) {
			char *end;
			errno = 0;
			unsigned long v = strtoul(rest, &end, 10);
			if (errno || *end || end == rest || !v || v > 1000000)
				why = "floor: a whole number of features, 1 or more";
			else
				m->floor = v;
		} else if (!strcmp(line, "threshold")) {
			if (numbers(m, rest, m->thr, 1))
				why = "threshold: one probability (between 0 and 1) per category";
			have_thr = 1;
		} else if (strncmp(line, "u:", 2) && strncmp(line, "b:", 2))
			why = "a feature is u:WORD or b:WORD_WORD";
		else {
			if (!m->w)	/* (at most a row a line) */
				m->w = xcalloc(nlines * m->ncat, sizeof *m->w);
			int16_t *row = m->w + m->nfeat * m->ncat;
			if (weights(m, rest, row))
				why = "weights are INDEX:WEIGHT, an index per category, a weight "
				    "of 0.001 to 30 either way, at most three decimals";
			else if (insert(m, fnv(FNV_OFFSET, line, strlen(line)), (uint32_t)m->nfeat))
				why = "feature given twice";
			else
				m->nfeat++;
		}
		if (why) {
			buf_printf(errs, "%s:%zu: %s\n", path, lineno, why);
			bad++;
		}
	}
	buf_free(&text);
	if (!bad && (!have_bias || !have_thr)) {
		buf_printf(errs, "%s: no %s line\n", path, have_bias ? "threshold" : "bias");
		bad++;
	}
	for (size_t c = 0; !bad && c < m->ncat; c++)
		if (m->thr[c] <= 1 / (1 + exp(-m->bias[c]))) {
			/* (else a text of no word for it would be a hit) */
			buf_printf(errs, "%s: %s: the threshold is not above the bias's probability\n",
			    path, m->cat[c]);
			bad++;
		}
	if (bad) {
		model_free(m);
		return MG_BADCONF;
	}
	*out = m;
	return MG_OK;
}
