/* Build outbound mail: text/plain UTF-8, quoted-printable, CRLF line ends,
 * RFC 2047 encoded words for non-ASCII header text.  Anything that would go
 * into a header is refused if it holds CR or LF (header injection). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dname.h"
#include "mime.h"

static int
ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Encoded words of at most ~75 characters, never splitting a UTF-8 sequence. */
static void
encode_words(struct buf *b, const char *s)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(s), i = 0;

	while (i < len) {
		size_t n = 0;
		while (i + n < len && n < 45) {	/* 45 bytes -> 60 base64 chars */
			size_t step = 1;
			unsigned char c = (unsigned char)s[i + n];
			if (c >= 0xf0) step = 4;
			else if (c >= 0xe0) step = 3;
			else if (c >= 0xc0) step = 2;
			if (n + step > 45 && n > 0)
				break;
			n += step;
		}
		if (i + n > len)
			n = len - i;
		if (i)
			buf_adds(b, "\r\n ");
		buf_adds(b, "=?UTF-8?B?");
		for (size_t k = 0; k < n; k += 3) {
			unsigned v = (unsigned char)s[i + k] << 16;
			if (k + 1 < n) v |= (unsigned char)s[i + k + 1] << 8;
			if (k + 2 < n) v |= (unsigned char)s[i + k + 2];
			buf_addc(b, b64[(v >> 18) & 63]);
			buf_addc(b, b64[(v >> 12) & 63]);
			buf_addc(b, k + 1 < n ? b64[(v >> 6) & 63] : '=');
			buf_addc(b, k + 2 < n ? b64[v & 63] : '=');
		}
		buf_adds(b, "?=");
		i += n;
	}
}

static void
header_text(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, "%s: ", name);
	if (ascii_printable(v))
		buf_adds(b, v);
	else
		encode_words(b, v);
	buf_adds(b, "\r\n");
}

/* The display name is cleaned whatever its source (an older database may
 * hold a name the import now refuses): no bidi control, angle bracket, '@'
 * or encoded word of its own ever reaches it. */
static void
header_addr(struct buf *b, const char *hname, const char *dname, const char *addr)
{
	char *name = dname ? dname_clean(dname) : NULL;

	buf_printf(b, "%s: ", hname);
	if (name && *name) {
		if (ascii_printable(name)) {
			buf_addc(b, '"');
			for (const char *p = name; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_addc(b, '\\');
				buf_addc(b, *p);
			}
			buf_addc(b, '"');
		} else
			encode_words(b, name);
		buf_addc(b, ' ');
	}
	buf_printf(b, "<%s>\r\n", addr);
	free(name);
}

static void
qp_body(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char line[80];		/* the output line so far: at most 75 + "=\r\n" */
	size_t col = 0;

	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		/* the common case: a printable character or a space inside a line */
		if (col && col < 75 && ((c >= 33 && c <= 126 && c != '=') ||
		    (c == ' ' && p[1] != '\n' && p[1] != '\r' && p[1] != 0))) {
			line[col++] = (char)c;
			continue;
		}
		if (c == '\r')
			continue;
		if (c == '\n') {
			memcpy(line + col, "\r\n", 2);
			buf_add(b, line, col + 2);
			col = 0;
			continue;
		}
		int literal = (c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && p[1] != '\n' && p[1] != '\r' && p[1] != 0);
		/* A leading dot or "From " is encoded too: safe through any MTA. */
		if (col == 0 && (c == '.' || (c == 'F' && !strncmp(p, "From ", 5))))
			literal = 0;
		size_t need = literal ? 1 : 3;
		if (col + need > 75) {
			memcpy(line + col, "=\r\n", 3);
			buf_add(b, line, col + 3);
			col = 0;
		}
		if (literal)
			line[col++] = (char)c;
		else {
			line[col++] = '=';
			line[col++] = hex[c >> 4];
			line[col++] = hex[c & 15];
		}
	}
	buf_add(b, line, col);
	if (b->len < 2 || strcmp(b->s + b->len - 2, "\r\n"))
		buf_adds(b, "\r\n");
}

static void
base64_body(struct buf *b, const char *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *d = (const unsigned char *)data;
	size_t i, col = 0;

	for (i = 0; i + 2 < len; i += 3) {
		char q[4] = { tab[d[i] >> 2], tab[((d[i] & 3) << 4) | (d[i + 1] >> 4)],
			tab[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)], tab[d[i + 2] & 63] };
		buf_add(b, q, 4);
		if ((col += 4) >= 76) {
			buf_adds(b, "\r\n");
			col = 0;
		}
	}
	if (len - i == 1) {
		char q[4] = { tab[d[i] >> 2], tab[(d[i] & 3) << 4], '=', '=' };
		buf_add(b, q, 4);
		col += 4;
	} else if (len - i == 2) {
		char q[4] = { tab[d[i] >> 2], tab[((d[i] & 3) << 4) | (d[i + 1] >> 4)],
			tab[(d[i + 1] & 15) << 2], '=' };
		buf_add(b, q, 4);
		col += 4;
	}
	if (col)
		buf_adds(b, "\r\n");
}

enum mg_status
mime_build(const struct mime_out *o, char **out, size_t *outlen)
{
	const char *text[] = { o->from_name, o->to_name, o->subject, o->auto_submitted };
	const char *ids[] = { o->from_addr, o->reply_to, o->to_addr, o->message_id,
		o->in_reply_to };
	struct buf b = {0};
	char date[64];
	struct tm tm;
	time_t t = (time_t)o->date;

	*out = NULL;
	for (size_t i = 0; i < sizeof text / sizeof *text; i++)
		if (text[i] && strpbrk(text[i], "\r\n"))
			return MG_BADINPUT;
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
		if (ids[i] && strpbrk(ids[i], "\r\n<> \t"))
			return MG_BADINPUT;
	if (o->references && strpbrk(o->references, "\r\n<>\t"))
		return MG_BADINPUT;
	if (!o->from_addr || !o->to_addr || !o->message_id || !o->body)
		return MG_BADINPUT;
	/* an attachment's name and type go into headers: plain and one line */
	if (o->attach_data && (!o->attach_name || !o->attach_type ||
	    strpbrk(o->attach_name, "\r\n\"\\") || strpbrk(o->attach_type, "\r\n\"; ") ||
	    !ascii_printable(o->attach_name)))
		return MG_BADINPUT;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	header_addr(&b, "From", o->from_name, o->from_addr);
	if (o->reply_to)
		header_addr(&b, "Reply-To", o->from_name, o->reply_to);
	header_addr(&b, "To", o->to_name, o->to_addr);
	header_text(&b, "Subject", o->subject ? o->subject : "");
	buf_printf(&b, "Date: %s\r\n", date);
	buf_printf(&b, "Message-ID: <%s>\r\n", o->message_id);
	if (o->in_reply_to && *o->in_reply_to)
		buf_printf(&b, "In-Reply-To: <%s>\r\n", o->in_reply_to);
	if (o->references && *o->references) {
		buf_adds(&b, "References:");
		char *refs = xstrdup(o->references), *save = NULL;
		for (char *r = strtok_r(refs, " ", &save); r; r = strtok_r(NULL, " ", &save))
			buf_printf(&b, " <%s>\r\n", r);	/* one folded line each */
		free(refs);
	}
	if (o->auto_submitted)
		buf_printf(&b, "Auto-Submitted: %s\r\n", o->auto_submitted);
	buf_adds(&b, "MIME-Version: 1.0\r\n");
	if (o->html && !o->attach_data) {
		char boundary[40];
		mg_random_token(boundary, 25);
		snprintf(boundary + 24, sizeof boundary - 24, "=_alt");
		buf_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
		buf_printf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary);
		qp_body(&b, o->body);
		buf_printf(&b, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary);
		qp_body(&b, o->html);
		buf_printf(&b, "--%s--\r\n", boundary);
	} else if (o->attach_data) {
		char boundary[40];
		mg_random_token(boundary, 25);
		snprintf(boundary + 24, sizeof boundary - 24, "=_mg");
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary);
		buf_printf(&b, "--%s\r\n", boundary);
		buf_adds(&b, "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp_body(&b, o->body);
		buf_printf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", boundary,
		    o->attach_type, o->attach_name);
		base64_body(&b, o->attach_data, o->attach_len);
		buf_printf(&b, "--%s--\r\n", boundary);
	} else {
		buf_adds(&b, "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		qp_body(&b, o->body);
	}
	*outlen = b.len;
	*out = buf_steal(&b);
	return MG_OK;
}
