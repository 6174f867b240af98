/* Parse a raw message with libetpan into struct mime_msg: decoded headers
 * and the best body text.  libetpan objects never leave this file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "mime.h"
#include "mime_p.h"

#define MAX_NESTING 100		/* multipart levels we accept (libetpan is quadratic) */
#define MAX_PARTS 2000

/* libetpan 1.9.4 segfaults in mailmime_extract_boundary when a boundary's
 * unquoted value starts with '"' (fixed upstream in 3f14913, not in Debian).
 * Scan every boundary parameter, in headers and nested parts alike. */
const char *
mime_hazard(const char *raw, size_t len)
{
	size_t nmulti = 0;

	for (size_t i = 0; i + 8 <= len; i++) {
		if ((raw[i] | 0x20) == 'm' && i + 10 <= len && !strncasecmp(raw + i, "multipart/", 10))
			if (++nmulti > MAX_PARTS)
				return "too many multipart parts";
		if ((raw[i] | 0x20) != 'b' || strncasecmp(raw + i, "boundary", 8))
			continue;
		size_t j = i + 8;
		while (j < len && (raw[j] == ' ' || raw[j] == '\t'))
			j++;
		if (j < len && raw[j] == '*')	/* RFC 2231 boundary*= : treat like = */
			j++;
		if (j >= len || raw[j] != '=')
			continue;
		j++;
		while (j < len && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\r' || raw[j] == '\n'))
			j++;
		if (j >= len || raw[j] != '"')
			continue;
		/* quoted: the first unquoted character must not be a quote */
		j++;
		if (j < len && (raw[j] == '\\' || (raw[j] == '"' && j + 1 < len && raw[j + 1] == '"')))
			return "MIME boundary starting with a quote (libetpan crash)";
	}
	return NULL;
}

char *
mime_header(const char *raw, size_t len, const char *name)
{
	size_t nl = strlen(name), i = 0;
	struct buf b = {0};

	while (i < len) {
		const char *lf = memchr(raw + i, '\n', len - i);
		size_t eol = lf ? (size_t)(lf - raw) : len;
		if (eol == i || (eol == i + 1 && raw[i] == '\r'))
			break;	/* end of the header block */
		if (eol - i > nl && raw[i + nl] == ':' && !strncasecmp(raw + i, name, nl)) {
			size_t j = i + nl + 1;
			for (;;) {
				size_t end = eol > j && raw[eol - 1] == '\r' ? eol - 1 : eol;
				buf_add(&b, raw + j, end - j);
				i = eol + 1;
				if (i >= len || (raw[i] != ' ' && raw[i] != '\t'))
					break;
				for (eol = i; eol < len && raw[eol] != '\n'; eol++)
					;
				j = i;
			}
			for (char *p = b.s; p && *p; p++)
				if (*p == '\r' || *p == '\t')
					*p = ' ';
			char *v = b.s ? b.s : "", *e;
			while (*v == ' ')
				v++;
			e = v + strlen(v);
			while (e > v && e[-1] == ' ')
				*--e = 0;
			v = xstrdup(v);
			buf_free(&b);
			return v;
		}
		i = eol + 1;
	}
	return NULL;
}

int
mime_is_message(const char *raw, size_t len)
{
	static const char *const known[] = {
		"from", "to", "subject", "date", "message-id", "received", "return-path",
		"mime-version", "content-type", "delivered-to", "reply-to", "cc",
	};
	size_t i = 0, eol, k, name;
	int seen = 0;

	if (len >= 5 && !memcmp(raw, "From ", 5))
		return 1;	/* an mbox From_ line */
	while (i < len) {
		for (eol = i; eol < len && raw[eol] != '\n'; eol++)
			;
		if (eol == i || (eol == i + 1 && raw[i] == '\r'))
			return seen;	/* the header block ended well */
		if (raw[i] != ' ' && raw[i] != '\t') {
			for (name = i; name < eol && raw[name] > ' ' && raw[name] < 127 &&
			    raw[name] != ':'; name++)
				;
			if (name == i || name == eol || raw[name] != ':')
				return 0;
			for (k = 0; k < sizeof known / sizeof *known; k++)
				if (name - i == strlen(known[k]) && !strncasecmp(raw + i, known[k], name - i))
					seen = 1;
		} else if (i == 0)
			return 0;
		i = eol + 1;
	}
	return seen;
}

char *
mime_decode_words(const char *s)
{
	size_t idx = 0;
	char *out = NULL, *clean;

	if (!s)
		return NULL;
	if (mailmime_encoded_phrase_parse("utf-8", s, strlen(s), &idx, "utf-8", &out) != MAILIMF_NO_ERROR || !out)
		out = strdup(s);
	if (!out)
		return xstrdup("");
	clean = mime_utf8_clean(out, strlen(out));
	free(out);
	return mg_oneline(clean);
}

static void
list_add(struct mime_list *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

static void
list_free(struct mime_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void
add_mailboxes(struct mime_list *l, clist *mbs)
{
	for (clistiter *it = clist_begin(mbs); it; it = clist_next(it)) {
		struct mailimf_mailbox *mb = clist_content(it);
		if (mb->mb_addr_spec)
			list_add(l, mb->mb_addr_spec);
	}
}

static void
add_addresses(struct mime_list *l, struct mailimf_address_list *al)
{
	if (!al)
		return;
	for (clistiter *it = clist_begin(al->ad_list); it; it = clist_next(it)) {
		struct mailimf_address *a = clist_content(it);
		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX)
			list_add(l, a->ad_data.ad_mailbox->mb_addr_spec);
		else if (a->ad_data.ad_group->grp_mb_list)
			add_mailboxes(l, a->ad_data.ad_group->grp_mb_list->mb_list);
	}
}

static void
add_ids(struct mime_list *l, clist *ids)
{
	for (clistiter *it = clist_begin(ids); it; it = clist_next(it))
		if (clist_content(it))
			list_add(l, clist_content(it));
}

/* A bare address from a free-form header value such as Delivered-To. */
static void
add_bare(struct mime_list *l, const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t' || *v == '<')
		v++;
	n = strcspn(v, " \t\r\n<>;,");
	if (n)
		l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v), l->v[l->n++] = xstrndup(v, n);
}

static void
headers(struct mime_msg *m, struct mailimf_fields *f)
{
	for (clistiter *it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *fld = clist_content(it);
		switch (fld->fld_type) {
		case MAILIMF_FIELD_FROM: {
			clist *mbs = fld->fld_data.fld_from->frm_mb_list ?
			    fld->fld_data.fld_from->frm_mb_list->mb_list : NULL;
			struct mailimf_mailbox *mb = mbs && clist_begin(mbs) ?
			    clist_content(clist_begin(mbs)) : NULL;
			if (mb && !m->from.addr) {
				m->from.addr = xstrdup(mb->mb_addr_spec);
				m->from.name = mime_decode_words(mb->mb_display_name);
			}
			break;
		}
		case MAILIMF_FIELD_TO:
			add_addresses(&m->to, fld->fld_data.fld_to->to_addr_list);
			break;
		case MAILIMF_FIELD_CC:
			add_addresses(&m->cc, fld->fld_data.fld_cc->cc_addr_list);
			break;
		case MAILIMF_FIELD_MESSAGE_ID:
			if (!m->message_id && fld->fld_data.fld_message_id->mid_value)
				m->message_id = xstrdup(fld->fld_data.fld_message_id->mid_value);
			break;
		case MAILIMF_FIELD_IN_REPLY_TO:
			add_ids(&m->in_reply_to, fld->fld_data.fld_in_reply_to->mid_list);
			break;
		case MAILIMF_FIELD_REFERENCES:
			add_ids(&m->references, fld->fld_data.fld_references->mid_list);
			break;
		case MAILIMF_FIELD_SUBJECT:
			if (!*m->subject) {	/* (never NULL: callers read it as text) */
				char *v = mime_decode_words(fld->fld_data.fld_subject->sbj_value);
				if (v) {
					free(m->subject);
					m->subject = v;
				}
			}
			break;
		case MAILIMF_FIELD_ORIG_DATE: {
			struct mailimf_date_time *d = fld->fld_data.fld_orig_date->dt_date_time;
			if (d && !m->date) {
				int z = d->dt_zone;
				m->date = xasprintf("%04d-%02d-%02d %02d:%02d:%02d %c%04d",
				    d->dt_year, d->dt_month, d->dt_day, d->dt_hour,
				    d->dt_min, d->dt_sec, z < 0 ? '-' : '+', z < 0 ? -z : z);
			}
			break;
		}
		case MAILIMF_FIELD_OPTIONAL_FIELD: {
			struct mailimf_optional_field *o = fld->fld_data.fld_optional_field;
			if (!strcasecmp(o->fld_name, "Delivered-To"))
				add_bare(&m->delivered_to, o->fld_value);
			else if (!strcasecmp(o->fld_name, "X-Original-To"))
				add_bare(&m->x_original_to, o->fld_value);
			break;
		}
		}
	}
}

/* --- body ------------------------------------------------------------- */

#define MAX_PLAIN 16
struct pick {
	struct mailmime *plain[MAX_PLAIN];	/* inline text/plain parts, in order */
	int nplain;
	struct mailmime *html;
	int parts;
	int in_alt;		/* inside an alternative that has its plain part */
	struct mime_msg *m;	/* collects the attachments */
};

static int
is_attachment(struct mailmime *mm)
{
	if (!mm->mm_mime_fields)
		return 0;
	for (clistiter *it = clist_begin(mm->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_DISPOSITION && f->fld_data.fld_disposition &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

static const char *
subtype(struct mailmime *mm, int *is_text)
{
	struct mailmime_content *ct = mm->mm_content_type;

	*is_text = 1;	/* no Content-Type means text/plain */
	if (!ct)
		return "plain";
	*is_text = ct->ct_type && ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    ct->ct_type->tp_data.tp_discrete_type->dt_type == MAILMIME_DISCRETE_TYPE_TEXT;
	return ct->ct_subtype ? ct->ct_subtype : "";
}

static void
walk(struct mailmime *mm, struct pick *p, int depth)
{
	int text;
	const char *sub;

	if (!mm || depth > MAX_NESTING || ++p->parts > MAX_PARTS)
		return;
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		sub = subtype(mm, &text);
		if (!text || is_attachment(mm) || (strcasecmp(sub, "plain") && strcasecmp(sub, "html"))) {
			mime_attach_add(p->m, mm);	/* text/calendar, text/csv ... too */
			return;
		}
		/* Apple Mail sends text, image, text: every inline plain part is
		 * the body, but only one of each alternative */
		if (!strcasecmp(sub, "plain") && !p->in_alt && p->nplain < MAX_PLAIN)
			p->plain[p->nplain++] = mm;
		else if (!strcasecmp(sub, "html") && !p->html)
			p->html = mm;
		break;
	case MAILMIME_MULTIPLE: {
		int alt = mm->mm_content_type && mm->mm_content_type->ct_subtype &&
		    !strcasecmp(mm->mm_content_type->ct_subtype, "alternative");
		int outer = p->in_alt, before = p->nplain;
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it)) {
			if (alt && p->nplain > before)
				p->in_alt = 1;
			walk(clist_content(it), p, depth + 1);
		}
		p->in_alt = outer;
		break;
	}
	case MAILMIME_MESSAGE:	/* an attached message is not the body */
		if (depth == 0)
			walk(mm->mm_data.mm_message.mm_msg_mime, p, depth + 1);
		else
			mime_attach_add(p->m, mm);
		break;
	}
}

static const char *
ct_param(struct mailmime_content *ct, const char *name)
{
	clistiter *it;

	if (!ct || !ct->ct_parameters)
		return NULL;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);
		if (p && p->pa_name && p->pa_value && !strcasecmp(p->pa_name, name))
			return p->pa_value;
	}
	return NULL;
}

static int
valid_utf8(const char *s, size_t n)
{
	char *clean = mime_utf8_clean(s, n);
	int same = strlen(clean) == n && !memcmp(clean, s, n);

	free(clean);
	return same;
}

/* RFC 3676 format=flowed: join soft-broken lines (those ending in a space)
 * of the same quote depth, undo space-stuffing, and write quotes as "> ". */
static char *
unflow(const char *s, int delsp)
{
	struct buf out = {0}, para = {0};
	int depth, para_depth = -1, open = 0;

	while (*s) {
		const char *e = strchr(s, '\n'), *p = s;
		size_t n = e ? (size_t)(e - s) : strlen(s);
		int flowed;

		if (n && p[n - 1] == '\r')
			n--;
		for (depth = 0; n && *p == '>'; depth++)
			p++, n--;
		if (n && *p == ' ')
			p++, n--;	/* space-stuffing */
		flowed = n && p[n - 1] == ' ' && !(n == 3 && !memcmp(p, "-- ", 3));
		if (open && depth != para_depth) {
			buf_add(&out, para.s, para.len);
			buf_addc(&out, '\n');
			para.len = 0;
			open = 0;
		}
		if (!open) {
			for (int i = 0; i < depth; i++)
				buf_addc(&para, '>');
			if (depth)
				buf_addc(&para, ' ');
			para_depth = depth;
		}
		buf_add(&para, p, flowed && delsp ? n - 1 : n);
		open = flowed;
		if (!flowed) {
			buf_add(&out, para.s, para.len);
			buf_addc(&out, '\n');
			para.len = 0;
		}
		s = e ? e + 1 : s + strlen(s);
	}
	if (open) {
		buf_add(&out, para.s, para.len);
		buf_addc(&out, '\n');
	}
	buf_free(&para);
	return out.s ? buf_steal(&out) : xstrdup("");
}

static char *
decode_part(struct mailmime *mm)
{
	struct mailmime_data *d = mm->mm_data.mm_single;
	const char *charset = NULL;
	char *dec = NULL, *conv = NULL, *out;
	size_t idx = 0, declen = 0;
	int enc = MAILMIME_MECHANISM_8BIT;

	if (!d || d->dt_type != MAILMIME_DATA_TEXT)
		return xstrdup("");
	if (mm->mm_mime_fields)
		enc = mailmime_transfer_encoding_get(mm->mm_mime_fields);
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length, &idx,
	    enc, &dec, &declen) != MAILIMF_NO_ERROR || !dec)
		return xstrndup(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length);
	if (mm->mm_content_type)
		charset = mailmime_content_charset_get(mm->mm_content_type);
	/* Mail clients label Windows text as Latin-1 or ASCII, and send 8-bit
	 * text with no label: read those as windows-1252 (which maps every
	 * byte) unless the bytes are valid UTF-8. */
	if (!charset || !strcasecmp(charset, "us-ascii") || !strcasecmp(charset, "ascii") ||
	    !strcasecmp(charset, "iso-8859-1") || !strcasecmp(charset, "latin1"))
		charset = valid_utf8(dec, declen) ? "utf-8" : "windows-1252";
	if (strcasecmp(charset, "utf-8") && strcasecmp(charset, "utf8")) {
		/* an unknown or lying charset is common: fall back to windows-1252 */
		if (charconv("utf-8", charset, dec, declen, &conv) != MAIL_CHARCONV_NO_ERROR) {
			conv = NULL;
			if (charconv("utf-8", "windows-1252", dec, declen, &conv) != MAIL_CHARCONV_NO_ERROR)
				conv = NULL;
		}
	}
	out = conv ? mime_utf8_clean(conv, strlen(conv)) : mime_utf8_clean(dec, declen);
	free(conv);
	mmap_string_unref(dec);
	if (mm->mm_content_type && mm->mm_content_type->ct_subtype &&
	    !strcasecmp(mm->mm_content_type->ct_subtype, "plain")) {
		const char *format = ct_param(mm->mm_content_type, "format");
		const char *delsp = ct_param(mm->mm_content_type, "delsp");
		if (format && !strcasecmp(format, "flowed")) {
			char *u = unflow(out, delsp && !strcasecmp(delsp, "yes"));
			free(out);
			out = u;
		}
	}
	return out;
}

/* CRLF and lone CR -> LF, NULs dropped. */
static char *
unix_lines(char *s)
{
	char *r = s, *w = s;

	for (; *r; r++) {
		if (*r == '\r') {
			if (r[1] != '\n')
				*w++ = '\n';
			continue;
		}
		*w++ = *r;
	}
	*w = 0;
	return s;
}

static size_t
find_body(const char *raw, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] == '\n' && raw[i + 1] == '\n')
			return i + 2;
		if (raw[i] == '\n' && raw[i + 1] == '\r' && i + 2 < len && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* libetpan 1.9.4's mailimf_fields_parse leaks what it parsed of a
 * Return-Path whose "<...>" is broken (mailimf_path_parse's error path
 * drops it), and anyone can send one to a daemon that runs for months.
 * The field is nothing we read: return a copy of the header block with
 * every Return-Path renamed Return_Path (an optional field to libetpan). */
static char *
header_copy(const char *raw, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, raw, len);
	copy[len] = 0;
	for (size_t i = 0; i + 11 <= len; i++)
		if ((i == 0 || copy[i - 1] == '\n') && !strncasecmp(copy + i, "Return-Path", 11))
			copy[i + 6] = '_';
	return copy;
}

static struct mime_msg *parse(const char *raw, size_t len);

/* An mbox "From " line (files saved by mail clients start with one) is
 * not a header: parse what follows it. */
struct mime_msg *
mime_parse(const char *raw, size_t len)
{
	const char *nl;
	struct mime_msg *m;
	size_t skip = 0;

	if (len > 5 && !memcmp(raw, "From ", 5) && (nl = memchr(raw, '\n', len)))
		skip = (size_t)(nl + 1 - raw);
	m = parse(raw + skip, len - skip);
	m->body_offset += skip;
	return m;
}

static struct mime_msg *
parse(const char *raw, size_t len)
{
	struct mime_msg *m = xcalloc(1, sizeof *m);
	struct mailmime *root = NULL;
	struct pick p = { .m = m };
	const char *hazard;
	size_t idx = 0;

	m->subject = xstrdup("");
	m->body_offset = find_body(raw, len);
	if ((hazard = mime_hazard(raw, len))) {
		/* the header block alone is safe to parse: no MIME parameters */
		struct mailimf_fields *f = NULL;
		char *hdr = header_copy(raw, m->body_offset);
		if (mailimf_fields_parse(hdr, m->body_offset, &idx, &f) == MAILIMF_NO_ERROR && f) {
			headers(m, f);
			mailimf_fields_free(f);
		}
		free(hdr);
		m->malformed = xstrdup(hazard);
		m->text = mime_utf8_clean(raw + m->body_offset, len - m->body_offset);
		unix_lines(m->text);
		return m;
	}
	if (mailmime_parse(raw, len, &idx, &root) != MAILIMF_NO_ERROR || !root) {
		m->malformed = xstrdup("MIME structure could not be parsed");
		m->text = mime_utf8_clean(raw + m->body_offset, len - m->body_offset);
		unix_lines(m->text);
		return m;
	}
	if (root->mm_type == MAILMIME_MESSAGE && root->mm_data.mm_message.mm_fields)
		headers(m, root->mm_data.mm_message.mm_fields);
	walk(root, &p, 0);
	if (p.nplain) {
		struct buf b = {0};
		for (int i = 0; i < p.nplain; i++) {
			char *t = decode_part(p.plain[i]);
			if (b.len && b.s[b.len - 1] != '\n')
				buf_addc(&b, '\n');
			buf_adds(&b, t);
			free(t);
		}
		if (b.len && b.s[b.len - 1] != '\n')
			buf_addc(&b, '\n');
		m->text = b.s ? buf_steal(&b) : xstrdup("");
	} else if (p.html) {
		char *h = decode_part(p.html);
		m->text = mime_html_text(h, strlen(h));
		m->from_html = 1;
		free(h);
	} else
		m->text = xstrdup("");
	unix_lines(m->text);
	mailmime_free(root);
	if (!m->from.addr)
		m->malformed = xstrdup("no From address");
	return m;
}

void
mime_free(struct mime_msg *m)
{
	if (!m)
		return;
	free(m->from.name);
	free(m->from.addr);
	list_free(&m->to);
	list_free(&m->cc);
	list_free(&m->delivered_to);
	list_free(&m->x_original_to);
	list_free(&m->in_reply_to);
	list_free(&m->references);
	free(m->message_id);
	free(m->subject);
	free(m->date);
	free(m->text);
	free(m->malformed);
	mime_attach_free(m);
	free(m);
}
