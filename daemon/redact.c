/* redact: every occurrence of a detail, by spans merged then replaced. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mg.h"
#include "redact.h"
#include "screen.h"

struct span {
	size_t a, b;
};

struct spans {
	struct span *v;
	size_t n;
};

static void
add(struct spans *s, size_t a, size_t b)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n].a = a;
	s->v[s->n++].b = b;
}

static int
by_start(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a;
}

/* A number at s[i]: digits with single separators between them (and a
 * leading '+'); its digits go to d (UK form: +44 / 0044 read as 0), its end
 * to *end.  0 when fewer than 6 digits. */
static size_t
number(const char *s, size_t len, size_t i, char *d, size_t dmax, size_t *end)
{
	size_t n = 0, k = i;
	int plus = s[k] == '+';

	if (plus)
		k++;
	while (k < len && isdigit((unsigned char)s[k])) {
		while (k < len && isdigit((unsigned char)s[k])) {
			if (n + 1 < dmax)
				d[n++] = s[k];
			k++;
		}
		*end = k;
		/* one separator, then more digits */
		if (k + 1 < len && strchr(" -.()/", s[k]) && (isdigit((unsigned char)s[k + 1]) ||
		    (s[k] == ' ' && s[k + 1] == '(')))
			k += s[k + 1] == '(' ? 2 : 1;
		else if (k + 1 < len && s[k] == ')' && s[k + 1] == ' ')
			k += 2;
		else
			break;
	}
	d[n] = '\0';
	int uk = 1;
	if (plus && n >= 2 && !memcmp(d, "44", 2)) {
		memmove(d + 1, d + 2, n - 1);
		d[0] = '0';
		n--;
	} else if (n >= 4 && !memcmp(d, "0044", 4)) {
		memmove(d + 1, d + 4, n - 3);
		n -= 3;
	} else
		uk = 0;
	if (uk && n >= 2 && !memcmp(d, "00", 2)) {
		memmove(d, d + 1, n);	/* +44 (0)7700: the 0 written twice */
		n--;
	}
	return n >= 6 ? n : 0;
}

static int
number_start(const char *s, size_t i)
{
	return (isdigit((unsigned char)s[i]) || (s[i] == '+' && isdigit((unsigned char)s[i + 1]))) &&
	    (i == 0 || !isalnum((unsigned char)s[i - 1]));
}

/* the digits of the first number in an excerpt, "" if none */
static void
excerpt_number(const char *ex, char *d, size_t dmax)
{
	size_t len = strlen(ex), end;

	d[0] = '\0';
	for (size_t i = 0; i < len; i++)
		if (number_start(ex, i) && number(ex, len, i, d, dmax, &end))
			return;
	d[0] = '\0';
}

char *
redact_text(const char *text, char *const *excerpts, size_t nex, const struct rules *rs,
    char *const *cats, size_t ncat, int *unfinished)
{
	size_t len = strlen(text), end, at = 0;
	struct spans sp = {0};
	struct buf out = {0};
	char d[64], want[64];

	for (size_t e = 0; e < nex; e++) {
		size_t n = strlen(excerpts[e]);
		if (!n)
			continue;
		for (size_t i = 0; i + n <= len; i++)
			if (!strncasecmp(text + i, excerpts[e], n))
				add(&sp, i, i + n);
		excerpt_number(excerpts[e], want, sizeof want);
		if (!*want)
			continue;
		for (size_t i = 0; i < len; i++)
			if (number_start(text, i) && number(text, len, i, d, sizeof d, &end)) {
				if (!strcmp(d, want))
					add(&sp, i, end);
				i = end - 1;
			}
	}
	if (rs) {
		struct screen_hit *h;
		int u = 0;
		size_t nh = screen_text_checked(rs, text, len, &h, &u);
		if (u && unfinished)
			*unfinished = 1;
		for (size_t i = 0; i < nh; i++) {
			if (h[i].rule->action == RULE_FLAG || h[i].rule->model)
				continue;	/* (the model marks a word, not a detail) */
			for (size_t c = 0; c < ncat; c++)
				if (!strcmp(h[i].rule->category, cats[c])) {
					add(&sp, h[i].start, h[i].end);
					break;
				}
		}
		free(h);
	}
	if (sp.n > 1)
		qsort(sp.v, sp.n, sizeof *sp.v, by_start);
	for (size_t i = 0; i < sp.n;) {
		size_t a = sp.v[i].a, b = sp.v[i].b;
		for (i++; i < sp.n && sp.v[i].a <= b; i++)	/* overlapping or touching: one mark */
			if (sp.v[i].b > b)
				b = sp.v[i].b;
		buf_add(&out, text + at, a - at);
		buf_adds(&out, REDACT_MARK);
		at = b;
	}
	buf_add(&out, text + at, len - at);
	free(sp.v);
	return out.s ? buf_steal(&out) : xstrdup("");
}
