/* mime_attach: what a message carries besides its text: each attachment's
 * name (RFC 2231 parameters, with continuations and charsets, or RFC 2047
 * words as some clients write them), type and decoded size. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "mime.h"
#include "mime_p.h"

/* One name=value parameter of Content-Disposition or Content-Type. */
struct param {
	const char *name, *value;
};

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Append value to b, %XX-decoded when encoded. */
static void
section(struct buf *b, const char *v, int encoded)
{
	for (; *v; v++) {
		int hi, lo;
		if (encoded && *v == '%' && (hi = hexval((unsigned char)v[1])) >= 0 &&
		    (lo = hexval((unsigned char)v[2])) >= 0) {
			buf_addc(b, (char)(hi * 16 + lo));
			v += 2;
		} else
			buf_addc(b, *v);
	}
}

static const char *
find(const struct param *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(p[i].name, name))
			return p[i].value;
	return NULL;
}

/* The value of parameter name, decoded to UTF-8 (single line); NULL when
 * absent.  Caller frees. */
static char *
param_value(const struct param *p, size_t n, const char *name)
{
	struct buf raw = {0};
	char key[96], charset[64] = "", *out, *conv = NULL;
	const char *v;
	int encoded = 0;

	snprintf(key, sizeof key, "%s*", name);
	if ((v = find(p, n, key))) {		/* name*=charset'lang'value */
		encoded = 1;
		const char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
		if (q1 && q2) {
			snprintf(charset, sizeof charset, "%.*s", (int)(q1 - v), v);
			v = q2 + 1;
		}
		section(&raw, v, 1);
	} else {
		for (int i = 0; i < 100; i++) {	/* name*0, name*1*, ... */
			snprintf(key, sizeof key, "%s*%d*", name, i);
			if ((v = find(p, n, key))) {
				if (i == 0) {
					const char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
					if (q1 && q2) {
						snprintf(charset, sizeof charset, "%.*s", (int)(q1 - v), v);
						v = q2 + 1;
					}
				}
				encoded = 1;
				section(&raw, v, 1);
				continue;
			}
			snprintf(key, sizeof key, "%s*%d", name, i);
			if (!(v = find(p, n, key)))
				break;
			section(&raw, v, 0);
		}
		if (!raw.len && (v = find(p, n, name)))
			return mime_decode_words(v);	/* plain, or RFC 2047 words */
	}
	if (!raw.s)
		return NULL;
	if (encoded && *charset && strcasecmp(charset, "utf-8") &&
	    charconv("utf-8", charset, raw.s, raw.len, &conv) != MAIL_CHARCONV_NO_ERROR)
		conv = NULL;
	out = conv ? mime_utf8_clean(conv, strlen(conv)) : mime_utf8_clean(raw.s, raw.len);
	free(conv);
	buf_free(&raw);
	return mg_oneline(out);
}

static size_t
collect(struct mailmime *mm, struct param *p, size_t max)
{
	size_t n = 0;
	clistiter *it;

	if (mm->mm_mime_fields)
		for (it = clist_begin(mm->mm_mime_fields->fld_list); it; it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);
			if (f->fld_type != MAILMIME_FIELD_DISPOSITION || !f->fld_data.fld_disposition)
				continue;
			clist *parms = f->fld_data.fld_disposition->dsp_parms;
			for (clistiter *j = parms ? clist_begin(parms) : NULL; j && n < max; j = clist_next(j)) {
				struct mailmime_disposition_parm *dp = clist_content(j);
				if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME && dp->pa_data.pa_filename)
					p[n++] = (struct param){ "filename", dp->pa_data.pa_filename };
				else if (dp->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
				    dp->pa_data.pa_parameter && dp->pa_data.pa_parameter->pa_name &&
				    dp->pa_data.pa_parameter->pa_value)
					p[n++] = (struct param){ dp->pa_data.pa_parameter->pa_name,
						dp->pa_data.pa_parameter->pa_value };
			}
		}
	if (mm->mm_content_type && mm->mm_content_type->ct_parameters)
		for (it = clist_begin(mm->mm_content_type->ct_parameters); it && n < max; it = clist_next(it)) {
			struct mailmime_parameter *pa = clist_content(it);
			if (pa && pa->pa_name && pa->pa_value)
				p[n++] = (struct param){ pa->pa_name, pa->pa_value };
		}
	return n;
}

static char *
type_of(struct mailmime *mm)
{
	struct mailmime_content *ct = mm->mm_content_type;
	const char *top = "application";

	if (!ct)
		return xstrdup("text/plain");
	if (ct->ct_type && ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;
		static const char *const names[] = {
			[MAILMIME_DISCRETE_TYPE_TEXT] = "text", [MAILMIME_DISCRETE_TYPE_IMAGE] = "image",
			[MAILMIME_DISCRETE_TYPE_AUDIO] = "audio", [MAILMIME_DISCRETE_TYPE_VIDEO] = "video",
			[MAILMIME_DISCRETE_TYPE_APPLICATION] = "application",
		};
		if (d->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION && d->dt_extension)
			top = d->dt_extension;
		else if (d->dt_type > 0 && (size_t)d->dt_type < sizeof names / sizeof *names &&
		    names[d->dt_type])
			top = names[d->dt_type];
	} else if (ct->ct_type)
		top = "message";
	char *t = xasprintf("%s/%s", top, ct->ct_subtype ? ct->ct_subtype : "octet-stream");
	for (char *c = t; *c; c++)
		*c = (char)(((unsigned char)*c < 0x20 || *c == 0x7f) ? '_' : tolower((unsigned char)*c));
	return t;
}

void
mime_attach_add(struct mime_msg *m, struct mailmime *mm)
{
	struct param p[64];
	size_t n = collect(mm, p, 64);
	struct mime_attachment *a;
	struct mailmime_data *d = mm->mm_type == MAILMIME_SINGLE ? mm->mm_data.mm_single : NULL;
	int enc = mm->mm_mime_fields ? mailmime_transfer_encoding_get(mm->mm_mime_fields) :
	    MAILMIME_MECHANISM_8BIT;

	if (m->natt >= MIME_MAX_ATTACHMENTS)
		return;
	m->att = xrealloc(m->att, (m->natt + 1) * sizeof *m->att);
	a = &m->att[m->natt++];
	a->filename = param_value(p, n, "filename");
	if (!a->filename)
		a->filename = param_value(p, n, "name");
	a->type = type_of(mm);
	a->size = d && d->dt_type == MAILMIME_DATA_TEXT ? d->dt_data.dt_text.dt_length : 0;
	if (enc == MAILMIME_MECHANISM_BASE64)
		a->size = a->size / 4 * 3;	/* near enough: line breaks are few */
}

void
mime_attach_free(struct mime_msg *m)
{
	for (size_t i = 0; i < m->natt; i++) {
		free(m->att[i].filename);
		free(m->att[i].type);
	}
	free(m->att);
}
