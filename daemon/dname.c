/* Display names: a participant's name reaches the From of relayed mail, so
 * it must not smuggle an address, an encoded word or text that reorders
 * itself (bidi controls), nor pass for the programme or its staff. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dname.h"

#define BAD 0xffffffffu

enum { KEEP, SPACE, USPACE, CTL, BIDI, INVIS, ANGLE, AT, PUNCT, BADUTF };

/* Non-ASCII code points that are not kept as they are. */
static const struct { uint32_t lo, hi; int kind; } ranges[] = {
	{ 0x80, 0x9f, CTL }, { 0xa0, 0xa0, USPACE }, { 0xad, 0xad, INVIS },
	{ 0x34f, 0x34f, INVIS }, { 0x61c, 0x61c, BIDI }, { 0x115f, 0x1160, INVIS },
	{ 0x1433, 0x1433, ANGLE }, { 0x1438, 0x1438, ANGLE }, { 0x1680, 0x1680, USPACE },
	{ 0x17b4, 0x17b5, INVIS }, { 0x180b, 0x180f, INVIS }, { 0x2000, 0x200a, USPACE },
	{ 0x200b, 0x200d, INVIS }, { 0x200e, 0x200f, BIDI }, { 0x2028, 0x2029, USPACE },
	{ 0x202a, 0x202e, BIDI }, { 0x202f, 0x202f, USPACE }, { 0x2039, 0x203a, ANGLE },
	{ 0x205f, 0x205f, USPACE }, { 0x2060, 0x2064, INVIS }, { 0x2066, 0x2069, BIDI },
	{ 0x206a, 0x206f, INVIS }, { 0x2329, 0x232a, ANGLE }, { 0x276c, 0x2771, ANGLE },
	{ 0x27e8, 0x27e9, ANGLE }, { 0x2800, 0x2800, USPACE }, { 0x3000, 0x3000, USPACE },
	{ 0x3008, 0x3009, ANGLE }, { 0x3164, 0x3164, INVIS }, { 0xfe64, 0xfe65, ANGLE },
	{ 0xfe6b, 0xfe6b, AT }, { 0xfeff, 0xfeff, INVIS }, { 0xff1c, 0xff1c, ANGLE },
	{ 0xff1e, 0xff1e, ANGLE }, { 0xff20, 0xff20, AT }, { 0xffa0, 0xffa0, INVIS },
	{ 0xfff9, 0xfffb, INVIS }, { 0x1bca0, 0x1bca3, INVIS }, { 0x1d173, 0x1d17a, INVIS },
	{ 0xe0000, 0xe0fff, INVIS },
};

/* Punctuation a name may hold besides letters, digits and spaces. */
static const char punct[] = "!\"&'()*+,-./?_";

/* The code point at s, its length in *len; BAD for a byte that starts no
 * valid UTF-8 sequence (overlong, surrogate, truncated). */
static uint32_t
next(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c = p[0], min;
	size_t n;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return BAD;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return BAD;
		c = c << 6 | (p[i] & 0x3f);
	}
	*len = n;
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return BAD;
	return c;
}

static int
kind(uint32_t c)
{
	if (c == BAD)
		return BADUTF;
	if (c == ' ')
		return SPACE;
	if (c < 0x20 || c == 0x7f)
		return CTL;
	if (c < 0x7f) {
		if ((c | 0x20) - 'a' < 26 || c - '0' < 10 || strchr(punct, (int)c))
			return KEEP;
		return c == '<' || c == '>' ? ANGLE : c == '@' ? AT : PUNCT;
	}
	for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++)
		if (c >= ranges[i].lo && c <= ranges[i].hi)
			return ranges[i].kind;
	return KEEP;
}

int
dname_check(const char *name, struct buf *why)
{
	const char *ew = strstr(name, "=?");
	size_t n;

	if (ew && strstr(ew + 2, "?=")) {
		buf_adds(why, "holds an RFC 2047 encoded word (=?...?=)");
		return -1;
	}
	for (const char *s = name; *s; s += n) {
		uint32_t c = next(s, &n);
		switch (kind(c)) {
		case KEEP:
		case SPACE:
		case USPACE:	/* a plain space once cleaned (a no-break space from a spreadsheet) */
			continue;
		case BADUTF:
			buf_adds(why, "is not valid UTF-8");
			break;
		case CTL:
			buf_printf(why, "holds a control character (U+%04X)", c);
			break;
		case BIDI:
			buf_printf(why, "holds a bidirectional control (U+%04X)", c);
			break;
		case INVIS:
			buf_printf(why, "holds an invisible character (U+%04X)", c);
			break;
		case ANGLE:
		case AT:
			if (c < 0x80)
				buf_printf(why, "holds '%c'", (char)c);
			else
				buf_printf(why, "holds U+%04X, a look-alike of %s", c,
				    kind(c) == AT ? "'@'" : "an angle bracket");
			break;
		default:
			buf_printf(why, "holds '%c' (a name may hold letters, digits, spaces"
			    " and %s only)", (char)c, punct);
		}
		return -1;
	}
	return 0;
}

char *
dname_clean(const char *name)
{
	struct buf b = {0};
	int space = 0;
	size_t n;

	for (const char *s = name; *s; s += n) {
		uint32_t c = next(s, &n);
		int k = kind(c);
		if (k == KEEP) {
			if (space && b.len)
				buf_addc(&b, ' ');
			space = 0;
			buf_add(&b, s, n);
		} else if (k == SPACE || k == USPACE || (k == CTL && strchr("\t\n\v\f\r", (int)c)))
			space = 1;
	}
	return buf_steal(&b);
}

/* Name suffixes that may follow a comma: "Sam Jones, Jr" is not "Jr". */
static const char *const suffixes[] = { "jr", "jr.", "sr", "sr.", "ii", "iii", "iv" };

/* The first word of s (words end at a space or a comma). */
static char *
word(const char *s)
{
	return xstrndup(s, strcspn(s, " ,"));
}

char *
dname_first(const char *name)
{
	char *clean = dname_clean(name), *comma = strchr(clean, ','), *first = NULL;

	if (comma) {
		char *after = comma + 1 + strspn(comma + 1, " ,");
		first = word(after);
		for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
			if (!strcasecmp(first, suffixes[i]))
				*first = 0;
		if (!*first) {
			free(first);
			first = NULL;
		}
	}
	if (!first)
		first = word(clean);
	if (!*first) {
		free(first);
		first = xstrdup(clean);
	}
	free(clean);
	return first;
}

/* Look-alikes of Latin letters, each string's n-th character for the n-th
 * letter of its pair. */
static const char *const look[][2] = {
	{ "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧΪΫ", "abezhikmnoptyxiy" },
	{ "αβγεηικμνορτυχωάέίόύϊ", "abyenikuvoptuxwaeioui" },
	{ "ЀЁЅІЇЈАВЕКМНОРСТУХҮҺӀԀԚԜ", "eesiijabekmhopctyxyhldqw" },
	{ "авекмнорстухьѐёѕіїјѡүһӏԁԛԝ", "abekmhopctyxbeesiijwyhldqw" },
	{ "հոսօɑɡɩɪʏℂℊℋℌℍℎℐℑℒℓℕℙℚℛℜℝℤℬℭℯℰℱℳℴℹ", "hnuoagiiycghhhhiillnpqrrrzbceefmoi" },
};

/* U+00C0..U+017F and U+1E00..U+1EFF without their accents ('.': no Latin
 * letter). */
static const struct { uint32_t lo; const char *s; } accented[] = {
	{ 0xc0, "aaaaaaaceeeeiiiidnooooo.ouuuuytsaaaaaaaceeeeiiiidnooooo.ouuuuyty"
	    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
	    "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs" },
	{ 0x1e00, "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmm"
	    "mmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvv"
	    "wwwwwwwwwwxxxxyyzzzzzzhtwyas....aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee"
	    "eeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy......" },
};

/* c as a skeleton letter or digit; 0 to drop it; -1 to keep it as it is
 * (a letter of another script). */
static int
skel(uint32_t c)
{
	size_t n;

	if (c < 0x80) {
		if ((c | 0x20) - 'a' < 26)
			return (int)(c | 0x20);
		return c == '0' ? 'o' : c == '1' ? 'l' : c - '0' < 10 ? (int)c : 0;
	}
	if (c >= 0xff01 && c <= 0xff5e)			/* fullwidth ASCII */
		return skel(c - 0xfee0);
	if (c >= 0x1d400 && c <= 0x1d6a3)		/* mathematical letters */
		return 'a' + (int)((c - 0x1d400) % 26);
	if (c >= 0x1d7ce && c <= 0x1d7ff)		/* mathematical digits */
		return skel('0' + (c - 0x1d7ce) % 10);
	for (size_t i = 0; i < sizeof accented / sizeof *accented; i++)
		if (c >= accented[i].lo && c - accented[i].lo < strlen(accented[i].s))
			return accented[i].s[c - accented[i].lo] == '.' ? 0 :
			    accented[i].s[c - accented[i].lo];
	for (size_t i = 0; i < sizeof look / sizeof *look; i++) {
		const char *p = look[i][0];
		for (size_t j = 0; *p; j++, p += n)
			if (next(p, &n) == c)
				return look[i][1][j];
	}
	/* combining marks, punctuation, symbols, spaces and invisibles */
	if (kind(c) != KEEP || c < 0x250 || (c >= 0x2b0 && c <= 0x36f) ||
	    (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) ||
	    (c >= 0x2000 && c <= 0x2bff) || (c >= 0x2e00 && c <= 0x303f) ||
	    (c >= 0xfe00 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xffef) || c >= 0x1f000)
		return 0;
	return -1;
}

char *
dname_fold(const char *name)
{
	struct buf b = {0};
	size_t n;

	for (const char *s = name; *s; s += n) {
		int a = skel(next(s, &n));
		if (a > 0)
			buf_addc(&b, (char)a);
		else if (a < 0)
			buf_add(&b, s, n);
	}
	return buf_steal(&b);
}

const char *
dname_imitates(const char *name, const char *programme)
{
	static const char *const words[] = { "coordinator", "safeguarding", "moderator" };
	char *n = dname_fold(name), *p = dname_fold(programme ? programme : "");
	const char *hit = NULL;

	/* a short programme name would match too much inside other names */
	if (*p && (strlen(p) >= 4 ? strstr(n, p) != NULL : !strcmp(n, p)))
		hit = programme;
	for (size_t i = 0; !hit && i < sizeof words / sizeof *words; i++)
		if (strstr(n, words[i]))
			hit = words[i];
	free(n);
	free(p);
	return hit;
}
