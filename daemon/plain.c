/* plain: leetspeak, obscuring symbols, stretched and spaced letters undone. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mg.h"
#include "plain.h"

struct out {
	struct buf b;
	size_t *map, cap;
};

static void
put(struct out *o, char c, size_t from)
{
	if (o->b.len + 1 >= o->cap) {
		o->cap = o->b.len * 2 + 64;
		o->map = xrealloc(o->map, o->cap * sizeof *o->map);
	}
	o->map[o->b.len] = from;
	buf_addc(&o->b, c);
}

/* The letter a leetspeak character stands for, or 0. */
static char
leet(char c)
{
	static const char from[] = "0134578@$!|", to[] = "oieastbasil";
	const char *p = c ? strchr(from, c) : NULL;

	return p ? to[p - from] : 0;
}

static int
obscuring(char c)
{
	return c && strchr("*.-_`'~+^\"#", c) != NULL;
}

struct tok {
	size_t a, b;		/* the token s[a, b) */
	size_t first, last;	/* its first and last letter (b, b: none) */
	int number;		/* a number with its ending: "3rd", "10am", "5k" */
};

static const char *const endings[] = {
	"st", "nd", "rd", "th", "am", "pm", "k", "m", "s", "g", "kg", "km", "ml", "mg", "h", "hr",
	"hrs", "mins", "min", "x", "p", "yr", "yrs",
};

/* Does the token, from its start, read digits then one of the endings? */
static int
number(const char *s, size_t a, size_t b)
{
	size_t k = a, e;

	while (k < b && isdigit((unsigned char)s[k]))
		k++;
	if (k == a)
		return 0;
	for (e = k; e < b && isalpha((unsigned char)s[e]); e++)
		;
	for (size_t n = 0; n < sizeof endings / sizeof *endings; n++)
		if (e - k == strlen(endings[n]) && !strncasecmp(s + k, endings[n], e - k))
			return 1;
	return 0;
}

/* Is s[i] a letter, or leet for one?  A symbol (! @ $ |) is leet only
 * before a letter ("k!ll", not "loser!!"); a digit after a letter
 * ("l0ser"), or before one unless the token is a number with its ending. */
static int
wordish(const char *s, const struct tok *t, size_t i)
{
	int before = t->first < i, after = t->last != t->b && t->last > i;

	if (isalpha((unsigned char)s[i]))
		return 1;
	if (!leet(s[i]))
		return 0;
	if (!isdigit((unsigned char)s[i]))
		return after;
	return before || (after && !t->number);
}

/* One token s[a, b) (no white space in it) into o. */
static void
token(struct out *o, const char *s, size_t a, size_t b)
{
	size_t start = o->b.len;
	struct tok t = { a, b, b, b, number(s, a, b) };

	for (size_t i = a; i < b; i++)
		if (isalpha((unsigned char)s[i])) {
			if (t.first == b)
				t.first = i;
			t.last = i;
		}
	for (size_t i = a; i < b; i++) {
		char c = s[i];
		if (wordish(s, &t, i))
			put(o, isalpha((unsigned char)c) ? (char)tolower((unsigned char)c) : leet(c), i);
		else if (obscuring(c) && i > a && i + 1 < b && wordish(s, &t, i - 1) &&
		    wordish(s, &t, i + 1))
			;	/* f*ck, k.i.l.l */
		else
			put(o, (char)tolower((unsigned char)c), i);
	}
	/* "loooser": what was written three or more times, once */
	size_t k;
	for (size_t i = start; i < o->b.len; i = k) {
		for (k = i + 1; k < o->b.len && o->b.s[k] == o->b.s[i]; k++)
			;
		if (k - i >= 3 && isalpha((unsigned char)o->b.s[i])) {
			memmove(o->b.s + i + 1, o->b.s + k, o->b.len - k);
			memmove(o->map + i + 1, o->map + k, (o->b.len - k) * sizeof *o->map);
			o->b.len -= k - i - 1;
			o->b.s[o->b.len] = 0;
			k = i + 1;
		}
	}
}

/* Single letters spaced out from s[i]: the end of the last, or 0 when
 * fewer than four. */
static size_t
spaced(const char *s, size_t i, size_t len)
{
	size_t j = i, count = 0, end = 0;

	if (i > 0 && !isspace((unsigned char)s[i - 1]))
		return 0;
	while (j < len && isalpha((unsigned char)s[j]) && (j + 1 == len || s[j + 1] == ' ' ||
	    isspace((unsigned char)s[j + 1]))) {
		count++;
		end = j + 1;
		if (j + 2 < len && s[j + 1] == ' ' && isalpha((unsigned char)s[j + 2]))
			j += 2;
		else
			break;
	}
	return count >= 4 ? end : 0;
}

char *
plain_view(const char *s, size_t len, size_t **map, size_t *outlen)
{
	struct out o = {0};
	size_t i = 0, end;

	while (i < len) {
		if ((end = spaced(s, i, len)) > 0) {
			for (; i < end; i++)
				if (s[i] != ' ')
					put(&o, (char)tolower((unsigned char)s[i]), i);
			continue;
		}
		if (isspace((unsigned char)s[i])) {
			put(&o, s[i], i);
			i++;
			continue;
		}
		for (end = i; end < len && !isspace((unsigned char)s[end]); end++)
			;
		token(&o, s, i, end);
		i = end;
	}
	if (o.b.len + 1 >= o.cap) {
		o.cap = o.b.len + 1;
		o.map = xrealloc(o.map, o.cap * sizeof *o.map);
	}
	o.map[o.b.len] = len;
	*outlen = o.b.len;
	*map = o.map;
	return o.b.s ? buf_steal(&o.b) : xstrdup("");
}

/* Words that tell a line's direction: common short words and the words a
 * contact request needs, as written and as they read backwards.  None
 * reads as a word backwards: on (no), me (em, a CSS unit), at (ta), are
 * (era), live (evil), snap (pans) are left out. */
static const char *const forward_words[] = {
	"the", "and", "you", "your", "my", "is", "it", "to", "of", "in", "add", "call", "text",
	"number", "phone", "email", "gmail", "com", "snapchat", "insta", "instagram",
	"whatsapp", "what", "that", "this", "with", "have", "can", "like", "dont", "tell",
	"meet", "money", "send", "hate", "kill",
};

static int
word_is(const char *w, size_t n, int backwards)
{
	for (size_t i = 0; i < sizeof forward_words / sizeof *forward_words; i++) {
		const char *f = forward_words[i];
		size_t k;
		if (strlen(f) != n)
			continue;
		for (k = 0; k < n; k++)
			if (tolower((unsigned char)w[backwards ? n - 1 - k : k]) != f[k])
				break;
		if (k == n)
			return 1;
	}
	return 0;
}

int
plain_backwards(const char *s, size_t len)
{
	int fwd = 0, back = 0;

	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && isalpha((unsigned char)s[j]))
			j++;
		if (j > i) {
			fwd += word_is(s + i, j - i, 0);
			back += word_is(s + i, j - i, 1);
		}
		i = j + (j == i);
	}
	return back >= 2 && back > fwd;
}

char *
plain_reverse(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);

	for (size_t i = 0; i < len;) {
		size_t n = 1;	/* a UTF-8 character keeps its bytes in order */
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xc0)
			for (; n < 4 && i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80; n++)
				;
		memcpy(out + len - i - n, s + i, n);
		i += n;
	}
	out[len] = 0;
	return out;
}
