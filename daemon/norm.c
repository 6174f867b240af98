/* norm: undo what hides an address or a number in text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uninorm.h>

#include "mg.h"
#include "norm.h"

#define NONE SIZE_MAX

struct view {
	char *s;
	size_t *map, n, pending;	/* pending: the first removed byte not yet counted */
};

static void
emit(struct view *v, char c, size_t src)
{
	v->s[v->n] = c;
	v->map[v->n++] = v->pending != NONE ? v->pending : src;
	v->pending = NONE;
}

static void
drop(struct view *v, size_t src)
{
	if (v->pending == NONE)
		v->pending = src;
}

/* The code point at s (n bytes left) and its length; an invalid byte is
 * itself, one byte long. */
static uint32_t
utf8(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
	    (c & 0xf8) == 0xf0 ? 4 : 0;

	*len = 1;
	if (k < 2 || k > n)
		return c;
	c &= 0x7f >> k;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return s[0];
		c = c << 6 | (s[i] & 0x3f);
	}
	*len = k;
	return c;
}

static int
invisible(uint32_t c)
{
	return c == 0xad || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

/* Blocks where NFKC can turn a character into ASCII: Latin-1's
 * superscripts and ordinals, modifier and phonetic letters, punctuation,
 * super- and subscripts, letterlike symbols, number forms, enclosed
 * alphanumerics, CJK compatibility, ligatures, small and fullwidth forms,
 * mathematical alphanumerics. */
static int
compat_block(uint32_t c)
{
	return (c >= 0xa0 && c <= 0xbf) || (c >= 0x2b0 && c <= 0x2ff) ||
	    (c >= 0x1d00 && c <= 0x1dbf) || (c >= 0x2000 && c <= 0x24ff) ||
	    (c >= 0x3000 && c <= 0x33ff) || (c >= 0xfb00 && c <= 0xfb4f) ||
	    (c >= 0xfe10 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xffef) ||
	    (c >= 0x1d400 && c <= 0x1d7ff) || (c >= 0x1f100 && c <= 0x1f1ff);
}

/* The ASCII a character's NFKC form is (up to 7 bytes, in out), or 0
 * bytes when it is not all ASCII: "ａ", "𝐚", "ⓐ" and "²" are letters and
 * digits to a reader. */
static size_t
fold(const unsigned char *s, size_t n, uint32_t c, char out[8])
{
	uint8_t buf[32], *r;
	size_t len = sizeof buf, k;

	if (!compat_block(c))
		return 0;
	if (!(r = u8_normalize(UNINORM_NFKC, s, n, buf, &len)))
		return 0;
	for (k = 0; k < len && k < 7 && r[k] && r[k] < 0x80; k++)
		out[k] = (char)r[k];
	if (r != buf)
		free(r);
	return k == len ? k : 0;
}

static int
addr_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static int
hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* What %XX at s decodes to when that is a letter, a digit or one of
 * "@.+-_" (never a NUL), else 0. */
static char
pct(const unsigned char *s)
{
	int h = hex(s[0]), l = hex(s[1]), c;

	if (h < 0 || l < 0)
		return 0;
	c = h << 4 | l;
	if (!c || (!memchr("@.+-_", c, 5) && !(c >= '0' && c <= '9') &&
	    !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
		return 0;
	return (char)c;
}

/* The end of a line break run at t[i] (newlines, then spaces, tabs and
 * quote marks), or i when t[i] is no line break. */
static size_t
line_break(const char *t, size_t len, size_t i)
{
	size_t j = i;
	int nl = 0;

	while (j < len && (t[j] == '\r' || t[j] == '\n' || (nl && (t[j] == ' ' || t[j] == '\t' ||
	    t[j] == '>')))) {
		nl |= t[j] == '\n';
		j++;
	}
	return nl ? j : i;
}

/* Does the view end inside an address whose domain has no dot yet (but a
 * trailing one): "alex@school." goes on, "sam@nhs.test." ends a sentence? */
static int
in_address(const struct view *v)
{
	size_t dots = 0, i = v->n;

	if (i && v->s[i - 1] == '.')
		i--;
	for (; i > 0 && (addr_char((unsigned char)v->s[i - 1]) || v->s[i - 1] == '@'); i--) {
		if (v->s[i - 1] == '@')
			return !dots;
		dots += v->s[i - 1] == '.';
	}
	return 0;
}

char *
norm_view(const char *text, size_t len, size_t **map, size_t *outlen)
{
	struct view v = { xmalloc(len + 1), xmalloc((len + 1) * sizeof *v.map), 0, NONE };
	const unsigned char *t = (const unsigned char *)text;
	size_t i = 0, k, close = NONE;

	while (i < len) {
		uint32_t c = utf8(t + i, len - i, &k);
		char f, a[8];
		size_t na;
		if (invisible(c)) {
			drop(&v, i);
		} else if (c >= 0x80 && (na = fold(t + i, k, c, a)) && na <= k) {
			for (size_t b = 0; b < na; b++)
				emit(&v, a[b], i);
		} else if (c == '%' && i + 2 < len && (f = pct(t + i + 1))) {
			emit(&v, f, i);
			k = 3;
		} else if (c == '"' && i == close) {
			drop(&v, i);	/* the quote closing a local part */
		} else if (c == '"') {
			size_t j = i + 1;
			while (j < len && j - i < 66 && addr_char(t[j]) && t[j] != '"')
				j++;
			if (j > i + 1 && j + 1 < len && t[j] == '"' && t[j + 1] == '@') {
				drop(&v, i);
				close = j;
			} else
				emit(&v, '"', i);
		} else if ((c == '\r' || c == '\n') && (k = line_break(text, len, i) - i) &&
		    ((v.n && v.s[v.n - 1] == '@') || (((v.n && v.s[v.n - 1] == '.') || (i + k < len && t[i + k] == '.')) &&
		    in_address(&v)))) {
			drop(&v, i);	/* an address goes on across the line break */
		} else {
			if (c == '\r' || c == '\n')
				k = 1;
			for (size_t b = 0; b < k; b++)
				emit(&v, text[i + b], i + b);
		}
		i += k;
	}
	v.s[v.n] = 0;
	v.map[v.n] = v.pending != NONE ? v.pending : len;
	*map = v.map;
	*outlen = v.n;
	return v.s;
}
