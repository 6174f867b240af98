/* Text helpers for mime: UTF-8 validation and a small HTML-to-text renderer
 * (paragraphs, line breaks, lists, links as "text <url>", entities,
 * blockquotes as "> " quotes; script and style dropped). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

static void
put_utf8(struct buf *b, unsigned long c)
{
	char u[4];

	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c < 0x80) {
		buf_addc(b, (char)c);
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		buf_add(b, u, 2);
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		buf_add(b, u, 4);
	}
}

char *
mime_utf8_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;
	struct buf b = {0};

	buf_add(&b, "", 0);
	while (p < e) {
		unsigned char c = *p;
		size_t n;
		unsigned long cp;

		if (c == 0) {
			p++;
			continue;
		}
		if (c < 0x80) {	/* a run of ASCII at once */
			const unsigned char *q = p + 1;
			while (q < e && *q && *q < 0x80)
				q++;
			buf_add(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			goto bad;
		if ((size_t)(e - p) <= n)
			goto bad;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		buf_add(&b, p, n + 1);
		p += n + 1;
		continue;
bad:
		put_utf8(&b, 0xfffd);
		p++;
	}
	return buf_steal(&b);
}

/* --- HTML ------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned long cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae }, { "pound", 0xa3 },
	{ "euro", 0x20ac }, { "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201c }, { "rdquo", 0x201d },
	{ "bull", 0x2022 }, { "middot", 0xb7 }, { "eacute", 0xe9 }, { "egrave", 0xe8 },
	{ "agrave", 0xe0 }, { "uuml", 0xfc }, { "ouml", 0xf6 }, { "auml", 0xe4 },
	{ "szlig", 0xdf }, { "ccedil", 0xe7 }, { "zwnj", 0 }, { "shy", 0 },
	{ "zwj", 0 }, { "lrm", 0 }, { "rlm", 0 }, { "bdquo", 0x201e }, { "sbquo", 0x201a },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "lsaquo", 0x2039 }, { "rsaquo", 0x203a },
	{ "Auml", 0xc4 }, { "Ouml", 0xd6 }, { "Uuml", 0xdc }, { "Eacute", 0xc9 },
	{ "aacute", 0xe1 }, { "iacute", 0xed }, { "oacute", 0xf3 }, { "uacute", 0xfa },
	{ "ntilde", 0xf1 }, { "Ntilde", 0xd1 }, { "acirc", 0xe2 }, { "ecirc", 0xea },
	{ "icirc", 0xee }, { "ocirc", 0xf4 }, { "ucirc", 0xfb }, { "euml", 0xeb },
	{ "iuml", 0xef }, { "aring", 0xe5 }, { "Aring", 0xc5 }, { "aelig", 0xe6 },
	{ "oslash", 0xf8 }, { "Oslash", 0xd8 }, { "ugrave", 0xf9 }, { "ograve", 0xf2 },
	{ "igrave", 0xec }, { "atilde", 0xe3 }, { "otilde", 0xf5 }, { "Ccedil", 0xc7 },
	{ "deg", 0xb0 }, { "times", 0xd7 }, { "divide", 0xf7 }, { "trade", 0x2122 },
	{ "cent", 0xa2 }, { "yen", 0xa5 }, { "sect", 0xa7 }, { "para", 0xb6 },
	{ "iexcl", 0xa1 }, { "iquest", 0xbf }, { "ensp", ' ' }, { "emsp", ' ' },
	{ "thinsp", ' ' }, { "frac12", 0xbd }, { "frac14", 0xbc }, { "frac34", 0xbe },
	{ "plusmn", 0xb1 }, { "micro", 0xb5 }, { "larr", 0x2190 }, { "rarr", 0x2192 },
};

/* Decode the entity at s (just after '&'); returns bytes consumed, 0 if none. */
static size_t
entity(const char *s, const char *e, struct buf *b)
{
	size_t n = 0;

	while (s + n < e && n < 12 && (isalnum((unsigned char)s[n]) || s[n] == '#'))
		n++;
	if (n == 0)
		return 0;
	if (s[0] == '#') {
		/* digits within the n bytes: the input need not be NUL-terminated */
		int hex = n > 1 && (s[1] == 'x' || s[1] == 'X');
		unsigned long cp = 0;
		for (size_t i = hex ? 2 : 1; i < n; i++) {
			int d = isdigit((unsigned char)s[i]) ? s[i] - '0' :
			    hex && isxdigit((unsigned char)s[i]) ? (tolower((unsigned char)s[i]) - 'a' + 10) : -1;
			if (d < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (unsigned long)d;
			if (cp > 0x10ffff)
				cp = 0x110000;	/* out of range: stays so, no overflow */
		}
		put_utf8(b, cp == 0xa0 ? ' ' : cp);
	} else {
		size_t i;
		for (i = 0; i < sizeof entities / sizeof *entities; i++)
			if (strlen(entities[i].name) == n && !strncmp(entities[i].name, s, n))
				break;
		if (i == sizeof entities / sizeof *entities)
			return 0;
		if (entities[i].cp)
			put_utf8(b, entities[i].cp);
	}
	return s + n < e && s[n] == ';' ? n + 1 : n;
}

struct render {
	struct buf out;
	int quote;		/* blockquote depth */
	int pre;
	int at_bol;		/* at beginning of an output line */
	int space;		/* a collapsed space is pending */
	int newlines;		/* newlines pending (max 2) */
	char *href;		/* current link target */
	int ol[8];		/* per list level: next number, or 0 for bullets */
	int lists;		/* list nesting depth */
	size_t link_start;	/* out.len when <a> opened */
};

static void
flush_breaks(struct render *r)
{
	if (r->out.len == 0) {
		r->newlines = 0;
		r->space = 0;
	}
	for (; r->newlines > 0; r->newlines--) {
		buf_addc(&r->out, '\n');
		r->at_bol = 1;
	}
	if (r->at_bol) {
		for (int i = 0; i < r->quote; i++)
			buf_adds(&r->out, "> ");
		r->at_bol = 0;
		r->space = 0;
	}
}

static void
emit(struct render *r, const char *s, size_t n)
{
	flush_breaks(r);
	if (r->space) {
		buf_addc(&r->out, ' ');
		r->space = 0;
	}
	buf_add(&r->out, s, n);
}

static void
brk(struct render *r, int n)
{
	if (n > r->newlines)
		r->newlines = n;
	r->space = 0;
}

static int
tag_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(name, want, n);
}

static char *
attr(const char *t, const char *e, const char *want)
{
	size_t wl = strlen(want);

	for (const char *p = t; p + wl < e; p++) {
		if (strncasecmp(p, want, wl) || (p > t && isalnum((unsigned char)p[-1])))
			continue;
		const char *q = p + wl;
		while (q < e && isspace((unsigned char)*q))
			q++;
		if (q >= e || *q != '=')
			continue;
		q++;
		while (q < e && isspace((unsigned char)*q))
			q++;
		char quote = (*q == '"' || *q == '\'') ? *q++ : 0;
		const char *v = q;
		while (q < e && (quote ? *q != quote : !isspace((unsigned char)*q) && *q != '>'))
			q++;
		return xstrndup(v, (size_t)(q - v));
	}
	return NULL;
}

static void
tag(struct render *r, const char *t, const char *e)
{
	int close = 0;
	const char *name;
	size_t n;

	if (t < e && *t == '/')
		close = 1, t++;
	name = t;
	while (t < e && (isalnum((unsigned char)*t)))
		t++;
	n = (size_t)(t - name);
	if (tag_is(name, n, "br")) {
		flush_breaks(r);
		r->newlines = 1;
		r->space = 0;
	} else if (tag_is(name, n, "p") || tag_is(name, n, "div") || tag_is(name, n, "tr") ||
	    tag_is(name, n, "table") || tag_is(name, n, "h1") || tag_is(name, n, "h2") ||
	    tag_is(name, n, "h3") || tag_is(name, n, "h4")) {
		brk(r, tag_is(name, n, "div") || tag_is(name, n, "tr") ? 1 : 2);
	} else if (tag_is(name, n, "ul") || tag_is(name, n, "ol")) {
		if (close)
			r->lists -= r->lists > 0;
		brk(r, r->lists ? 1 : 2);	/* a nested list is no new paragraph */
		if (!close && r->lists < 8)
			r->ol[r->lists] = tag_is(name, n, "ol");
		if (!close)
			r->lists++;
	} else if (tag_is(name, n, "li")) {
		if (!close) {
			int lvl = r->lists > 0 ? (r->lists > 8 ? 7 : r->lists - 1) : -1;
			char mark[24];
			brk(r, 1);
			for (int i = 0; i < lvl; i++)
				emit(r, "  ", 2);
			if (lvl >= 0 && r->ol[lvl])
				snprintf(mark, sizeof mark, "%d. ", r->ol[lvl]++);
			else
				snprintf(mark, sizeof mark, "- ");
			emit(r, mark, strlen(mark));
		}
	} else if (tag_is(name, n, "blockquote")) {
		brk(r, 1);
		if (close && r->quote > 0)
			r->quote--;
		else if (!close)
			r->quote++;
		r->at_bol = 1;
	} else if (tag_is(name, n, "pre")) {
		brk(r, 1);
		r->pre = !close;
	} else if (tag_is(name, n, "a")) {
		if (!close) {
			free(r->href);
			r->href = attr(t, e, "href");
			r->link_start = r->out.len;
		} else if (r->href) {
			const char *h = r->href;
			if (!strncasecmp(h, "mailto:", 7))
				h += 7;
			if (*h && !strstr(r->out.s ? r->out.s + r->link_start : "", h)) {
				emit(r, " <", 2);
				buf_adds(&r->out, h);
				buf_addc(&r->out, '>');
			}
			free(r->href);
			r->href = NULL;
		}
	} else if (tag_is(name, n, "img") && !close) {
		char *alt = attr(t, e, "alt");
		if (alt && *alt)
			emit(r, alt, strlen(alt));
		free(alt);
	} else if (tag_is(name, n, "td") || tag_is(name, n, "th")) {
		if (close)
			r->space = 1;
	}
}

/* Skip to the end of an element whose content is not text. */
static const char *
skip_element(const char *p, const char *e, const char *name)
{
	size_t n = strlen(name);

	for (; p + n + 2 < e; p++)
		if (p[0] == '<' && p[1] == '/' && !strncasecmp(p + 2, name, n))
			return p;
	return e;
}

char *
mime_html_text(const char *html, size_t len)
{
	struct render r = { .at_bol = 1 };
	const char *p = html, *e = html + len;

	buf_add(&r.out, "", 0);
	while (p < e) {
		if (*p == '<') {
			if (e - p >= 4 && !strncmp(p, "<!--", 4)) {
				const char *c = memmem(p + 4, (size_t)(e - p - 4), "-->", 3);
				p = c ? c + 3 : e;
				continue;
			}
			const char *gt = memchr(p, '>', (size_t)(e - p));
			if (!gt)
				break;
			const char *t = p + 1;
			p = gt + 1;
			static const char *const hidden[] = { "script", "style", "head", "title" };
			int skipped = 0;
			for (size_t i = 0; i < 4; i++) {
				size_t hn = strlen(hidden[i]);
				if ((size_t)(gt - t) >= hn && !strncasecmp(t, hidden[i], hn) &&
				    !isalnum((unsigned char)t[hn])) {
					p = skip_element(p, e, hidden[i]);
					skipped = 1;
					break;
				}
			}
			if (!skipped)
				tag(&r, t, gt);
			continue;
		}
		if (*p == '&') {
			struct buf ent = {0};
			size_t used = entity(p + 1, e, &ent);
			if (used) {
				if (ent.len && !strcmp(ent.s, " ") && !r.pre)
					r.space = 1;
				else if (ent.len)
					emit(&r, ent.s, ent.len);
				buf_free(&ent);
				p += used + 1;
				continue;
			}
			buf_free(&ent);
		}
		if (!r.pre && isspace((unsigned char)*p)) {
			if (!r.at_bol || r.newlines == 0)
				r.space = r.out.len > 0;
			p++;
			continue;
		}
		if (r.pre && *p == '\n') {
			flush_breaks(&r);
			r.newlines = 1;
			p++;
			continue;
		}
		const char *s = p++;	/* at least one byte: an unknown "&name;" stays as text */
		while (p < e && *p != '<' && *p != '&' && (r.pre ? *p != '\n' : !isspace((unsigned char)*p)))
			p++;
		emit(&r, s, (size_t)(p - s));
	}
	free(r.href);
	/* trim trailing blank lines, keep one final newline */
	while (r.out.len && (r.out.s[r.out.len - 1] == '\n' || r.out.s[r.out.len - 1] == ' '))
		r.out.s[--r.out.len] = 0;
	buf_addc(&r.out, '\n');
	return buf_steal(&r.out);
}
