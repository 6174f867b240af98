/* model: a linear model per category over a text's words, word pairs and
 * word classes (see model.h); features are looked up by a 64-bit hash of
 * their name, and a word by a 32-bit hash of "c:WORD" in a table of its
 * own, which leads to its class's feature "k:CLASS".  (The class table is
 * most of the model's words: 32 bits halve it.  An unlisted word taken for
 * a listed one, about once in 100,000 words, only adds a class; of two
 * listed words with one hash, which 40,000 words give about once in six
 * tables, the first keeps its class and the second has none.) */
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
	size_t ccap;		/* the class table: words, a power of two */
	uint32_t *cslot;	/* 32-bit hashes of "c:WORD" (0: empty) */
	uint32_t *crow;		/* slot -> the feature of the word's class */
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

/* h extended by the decimal digits of v. */
static uint64_t
num_hash(uint64_t h, unsigned long v)
{
	char d[24];
	int n = snprintf(d, sizeof d, "%lu", v);

	return fnv(h, d, (size_t)n);
}

/* Calls fn for every feature of text: a word, its class (as "c:WORD",
 * with class set), the pair it ends. */
static void
each_feature(const char *s, size_t len,
    void (*fn)(uint64_t, int class, size_t, size_t, void *), void *arg)
{
	struct tok t, prev = { 0, 0 };
	size_t i = 0;
	int have = 0;

	while (next_tok(s, len, &i, &t)) {
		fn(tok_hash(fnv(FNV_OFFSET, "u:", 2), s, &t), 0, t.a, t.b, arg);
		fn(tok_hash(fnv(FNV_OFFSET, "c:", 2), s, &t), 1, t.a, t.b, arg);
		if (have)
			fn(tok_hash(fnv(tok_hash(fnv(FNV_OFFSET, "b:", 2), s, &prev), "_", 1), s, &t),
			    0, prev.a, t.b, arg);
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

static uint32_t
hash32(uint64_t h)
{
	uint32_t x = (uint32_t)(h >> 32) ^ (uint32_t)h;

	return x + !x;	/* (0 marks an empty slot) */
}

/* The feature of a word's class (h: its "c:WORD"), or -1. */
static long
find_class(const struct model *m, uint64_t h)
{
	uint32_t x = hash32(h);

	if (!m->ccap)
		return -1;
	for (size_t k = x & (m->ccap - 1); m->cslot[k]; k = (k + 1) & (m->ccap - 1))
		if (m->cslot[k] == x)
			return m->crow[k];
	return -1;
}

/* (A hash already there keeps its class.) */
static void
insert_class(struct model *m, uint64_t h, uint32_t row)
{
	uint32_t x = hash32(h);
	size_t k = x & (m->ccap - 1);

	for (; m->cslot[k]; k = (k + 1) & (m->ccap - 1))
		if (m->cslot[k] == x)
			return;
	m->cslot[k] = x;
	m->crow[k] = row;
}

struct scoring {
	const struct model *m;
	size_t n;		/* words and pairs seen, repeats included */
	size_t known;		/* distinct features the model knows */
	double z[MODEL_MAXCAT], best[MODEL_MAXCAT];
	size_t (*span)[2];
	unsigned char *seen;	/* a bit per feature */
};

static void
score_one(uint64_t h, int class, size_t a, size_t b, void *arg)
{
	struct scoring *sc = arg;
	long j = class ? find_class(sc->m, h) : find(sc->m, h);

	sc->n += !class;
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
	free(m->cslot);
	free(m->crow);
	free(m->w);
	free(m);
}

/* A word as the model reads it: lower-case ASCII letters. */
static int
valid_word(const char *w)
{
	if (!*w)
		return 0;
	for (; *w; w++)
		if (*w < 'a' || *w > 'z')
			return 0;
	return 1;
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

struct loading {
	size_t nfeat;		/* feature lines counted: rows allocated */
	size_t nclass, classes;	/* class lines counted (the table's room), and read */
	int have_bias, have_thr;
};

/* One line of the file, its new line taken off: why it is wrong, or NULL. */
static const char *
parse_line(struct model *m, struct loading *ld, char *line, size_t n)
{
	while (n && line[n - 1] == '\r')
		line[--n] = 0;
	if (!*line || *line == '#')
		return NULL;
	char *sp = strpbrk(line, " \t"), *rest = sp ? sp + 1 : line + n;
	if (sp)
		*sp = 0;
	if (!strcmp(line, "categories")) {
		char *save;
		if (m->ncat)
			return "categories given twice";
		for (char *c = strtok_r(rest, " \t", &save); c; c = strtok_r(NULL, " \t", &save)) {
			if (m->ncat == MODEL_MAXCAT)
				return "too many categories";
			for (size_t k = 0; k < m->ncat; k++)
				if (!strcmp(m->cat[k], c))
					return "a category given twice";
			m->cat[m->ncat++] = xstrdup(c);
		}
		return m->ncat ? NULL : "no categories";
	}
	if (!m->ncat)
		return "\"categories\" must come first";
	if (!strcmp(line, "bias")) {
		ld->have_bias = 1;
		return numbers(m, rest, m->bias, 0) ? "bias: one number per category" : NULL;
	}
	if (!strcmp(line, "threshold")) {
		ld->have_thr = 1;
		return numbers(m, rest, m->thr, 1) ?
		    "threshold: one probability (between 0 and 1) per category" : NULL;
	}
	if (!strcmp(line, "floor")) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(rest, &end, 10);
		if (errno || *end || end == rest || !v || v > 1000000)
			return "floor: a whole number of features, 1 or more";
		m->floor = v;
		return NULL;
	}
	if (!strncmp(line, "c:", 2)) {
		char *end;
		errno = 0;
		unsigned long c = strtoul(rest, &end, 10);
		if (!valid_word(line + 2) || errno || end == rest || *end || *rest == '-' ||
		    c > MODEL_MAXCLASS)
			return "a word's class is c:WORD NUMBER (0 to 999999)";
		if (ld->classes++ == ld->nclass)
			return "the file changed while it was read";
		long j = find(m, num_hash(fnv(FNV_OFFSET, "k:", 2), c));
		if (j >= 0)	/* (a class with no weights: nothing to find) */
			insert_class(m, fnv(FNV_OFFSET, line, strlen(line)), (uint32_t)j);
		return NULL;
	}
	if (strncmp(line, "u:", 2) && strncmp(line, "b:", 2) && strncmp(line, "k:", 2))
		return "a feature is u:WORD, b:WORD_WORD or k:CLASS";
	if (m->nfeat == ld->nfeat)
		return "the file changed while it was read";
	if (!m->w)
		m->w = xcalloc(ld->nfeat * m->ncat, sizeof *m->w);
	if (weights(m, rest, m->w + m->nfeat * m->ncat))
		return "weights are INDEX:WEIGHT, an index per category, a weight "
		    "of 0.001 to 30 either way, at most three decimals";
	if (insert(m, fnv(FNV_OFFSET, line, strlen(line)), (uint32_t)m->nfeat))
		return "feature given twice";
	m->nfeat++;
	return NULL;
}

/* A hash table's slots for n entries: a power of two, at most 4/5 full. */
static size_t
slots(size_t n)
{
	size_t cap = 64;

	while (cap < n + n / 4)
		cap *= 2;
	return cap;
}

enum mg_status
model_load(const char *path, struct model **out, struct buf *errs)
{
	FILE *f = fopen(path, "r");
	struct model *m;
	struct loading ld = {0};
	char *line = NULL;
	size_t lineno = 0, nlines = 0, nclass = 0, size = 0;
	ssize_t n;
	int bad = 0;

	*out = NULL;
	if (!f) {
		buf_printf(errs, "%s: %s\n", path, strerror(errno));
		return MG_BADCONF;
	}
	/* Two passes over the one open file (the trainer replaces it by a
	 * rename, so a file rewritten meanwhile is still read as it was): the
	 * lines counted, to size the tables; then read. */
	while ((n = getline(&line, &size, f)) > 0) {
		if (memchr(line, 0, (size_t)n))
			break;
		nlines++;
		nclass += !strncmp(line, "c:", 2);
	}
	if (ferror(f) || n > 0 || !nlines) {
		buf_printf(errs, "%s: %s\n", path, ferror(f) ? strerror(errno) : n > 0 ? "not text" :
		    "empty");
		free(line);
		fclose(f);
		return MG_BADCONF;
	}
	m = xcalloc(1, sizeof *m);
	m->floor = 1;
	ld.nfeat = nlines - nclass;
	ld.nclass = nclass;
	m->cap = slots(ld.nfeat);
	m->slot = xcalloc(m->cap, sizeof *m->slot);
	m->index = xcalloc(m->cap, sizeof *m->index);
	if (nclass) {
		m->ccap = slots(nclass);
		m->cslot = xcalloc(m->ccap, sizeof *m->cslot);
		m->crow = xcalloc(m->ccap, sizeof *m->crow);
	}
	rewind(f);
	while (lineno < nlines && (n = getline(&line, &size, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = 0;
		const char *why = parse_line(m, &ld, line, (size_t)n);
		if (why) {
			buf_printf(errs, "%s:%zu: %s\n", path, lineno, why);
			bad++;
		}
	}
	if (!bad && (ferror(f) || lineno < nlines)) {
		buf_printf(errs, "%s: %s\n", path, ferror(f) ? strerror(errno) :
		    "the file changed while it was read");
		bad++;
	}
	free(line);
	fclose(f);
	if (!bad && (!ld.have_bias || !ld.have_thr)) {
		buf_printf(errs, "%s: no %s line\n", path, ld.have_bias ? "threshold" : "bias");
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
