/* tmpl: load, check and fill templates. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tmpl.h"

static char *
slurp(const char *path, int *missing)
{
	FILE *f = fopen(path, "r");
	size_t n;
	char *s;

	*missing = !f && errno == ENOENT;
	if (!f)
		return NULL;
	s = mg_read_all(f, &n);
	fclose(f);
	return s;
}

static int
known(const char *name, size_t n)
{
	const char *p = TMPL_VARS;

	while (*p) {
		size_t k = strcspn(p, " ");
		if (k == n && !strncmp(p, name, n))
			return 1;
		p += k;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* Every {{x}} in s is known; problems reported against path, from line. */
static int
check(const char *path, const char *s, int line, struct buf *err)
{
	int bad = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '\n')
			line++;
		if (p[0] != '{' || p[1] != '{')
			continue;
		const char *e = strstr(p + 2, "}}"), *nl = strchr(p + 2, '\n');
		if (!e || (nl && nl < e)) {
			buf_printf(err, "%s:%d: unclosed {{\n", path, line);
			bad++;
			continue;
		}
		const char *n = p + 2;
		while (*n == ' ')
			n++;
		size_t len = (size_t)(e - n);
		while (len && n[len - 1] == ' ')
			len--;
		if (!known(n, len)) {
			buf_printf(err, "%s:%d: unknown placeholder {{%.*s}} (known: %s)\n", path, line,
			    (int)len, n, TMPL_VARS);
			bad++;
		}
		p = e + 1;
	}
	return bad;
}

/* Where in HTML a value may go: text, a comment, or a quoted attribute
 * value, where the escaped value cannot end its context.  Not inside a tag
 * outside a value, in an unquoted value (a space would start a new
 * attribute), in an event handler or style attribute, or in a script or
 * style element: there escaping as HTML does not keep it data. */
enum { TEXT, COMMENT, TAG, VALUE, RAW };

static int
check_html(const char *path, const char *s, struct buf *err)
{
	char tag[16] = "", attr[32] = "", quote = 0;
	int state = TEXT, line = 1, bad = 0;
	size_t n;

	for (const char *p = s; *p; p++) {
		if (*p == '\n')
			line++;
		if (p[0] == '{' && p[1] == '{') {
			const char *why = state == TAG ? "inside a tag, outside an attribute value" :
			    state == RAW ? "inside a <script> or <style> element" :
			    state == VALUE && !quote ? "in an unquoted attribute value" :
			    state == VALUE && (!strncasecmp(attr, "on", 2) || !strcasecmp(attr, "style")) ?
			    "in an event handler or style attribute" : NULL;
			if (why) {
				buf_printf(err, "%s:%d: a placeholder %s\n", path, line, why);
				bad++;
			}
			const char *e = strstr(p + 2, "}}");
			if (e) {
				for (const char *q = p; q < e; q++)
					line += *q == '\n';
				p = e + 1;
			}
			continue;
		}
		switch (state) {
		case TEXT:
			if (!strncmp(p, "<!--", 4)) {
				state = COMMENT;
				p += 3;
			} else if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/')) {
				n = strspn(p + 1, "/");
				n = strcspn(p + 1 + n, " \t\r\n/>");
				snprintf(tag, sizeof tag, "%.*s", (int)(n < sizeof tag ? n : 0), p + 1);
				attr[0] = 0;
				state = TAG;
			}
			break;
		case COMMENT:
			if (!strncmp(p, "-->", 3)) {
				state = TEXT;
				p += 2;
			}
			break;
		case TAG:
			if (*p == '>')
				state = !strcasecmp(tag, "script") || !strcasecmp(tag, "style") ? RAW : TEXT;
			else if (*p == '=') {
				p += strspn(p + 1, " \t\r\n");
				quote = p[1] == '"' || p[1] == '\'' ? p[1] : 0;
				p += quote != 0;
				state = VALUE;
			} else if (isalpha((unsigned char)*p) && !isalnum((unsigned char)p[-1])) {
				n = strcspn(p, " \t\r\n=/>");
				snprintf(attr, sizeof attr, "%.*s", (int)(n < sizeof attr ? n : 0), p);
				p += n - 1;
			}
			break;
		case VALUE:
			if (quote ? *p == quote : strchr(" \t\r\n>", *p) != NULL) {
				state = TAG;
				if (!quote && *p == '>')
					p--;	/* the tag ends too */
			}
			break;
		case RAW:
			if (*p == '<' && p[1] == '/' && !strncasecmp(p + 2, tag, strlen(tag)))
				state = TEXT;
			break;
		}
	}
	return bad;
}

enum mg_status
tmpl_load(const char *dir, const char *name, struct tmpl **out, struct buf *err)
{
	struct tmpl *t = xcalloc(1, sizeof *t);
	char *text, *html_path, *nl;
	int missing, bad = 0;

	*out = NULL;
	t->name = xstrdup(name);
	t->path = xasprintf("%s/%s.txt", dir, name);
	if (strpbrk(name, "/ \t") || !*name) {
		buf_printf(err, "%s: a template name is one word\n", t->path);
		tmpl_free(t);
		return MG_BADCONF;
	}
	if (!(text = slurp(t->path, &missing))) {
		buf_printf(err, "%s: %s\n", t->path, missing ? "no such template" : strerror(errno));
		tmpl_free(t);
		return MG_BADCONF;
	}
	if (strncmp(text, "Subject:", 8) || !(nl = strchr(text, '\n')) || nl[1] != '\n') {
		buf_printf(err, "%s:1: a template starts with a Subject: line and a blank line\n", t->path);
		free(text);
		tmpl_free(t);
		return MG_BADCONF;
	}
	*nl = 0;
	t->subject = xstrdup(text + 8 + strspn(text + 8, " "));
	t->body = xstrdup(nl + 2);
	t->body_line = 3;
	free(text);
	bad += check(t->path, t->subject, 1, err);
	bad += check(t->path, t->body, t->body_line, err);
	html_path = xasprintf("%s/%s.html", dir, name);
	if ((t->html = slurp(html_path, &missing)))
		bad += check(html_path, t->html, 1, err) + check_html(html_path, t->html, err);
	free(html_path);
	if (bad) {
		tmpl_free(t);
		return MG_BADCONF;
	}
	*out = t;
	return MG_OK;
}

void
tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->path);
	free(t->subject);
	free(t->body);
	free(t->html);
	free(t);
}

static const char *
value(const struct tmpl_var *v, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].name) == len && !strncmp(v[i].name, name, len))
			return v[i].value;
	return NULL;
}

static enum mg_status
fill(const char *s, const struct tmpl_var *v, size_t n, int header, int html, char **out)
{
	struct buf b = {0};

	for (const char *p = s; *p;) {
		const char *e;
		if (p[0] == '{' && p[1] == '{' && (e = strstr(p + 2, "}}"))) {
			const char *name = p + 2;
			while (*name == ' ')
				name++;
			size_t len = (size_t)(e - name);
			while (len && name[len - 1] == ' ')
				len--;
			const char *val = value(v, n, name, len);
			if (!val || (header && strpbrk(val, "\r\n"))) {
				buf_free(&b);
				return MG_BADINPUT;
			}
			for (const char *c = val; *c; c++) {
				if (html && *c == '<')
					buf_adds(&b, "&lt;");
				else if (html && *c == '>')
					buf_adds(&b, "&gt;");
				else if (html && *c == '&')
					buf_adds(&b, "&amp;");
				else if (html && *c == '"')
					buf_adds(&b, "&quot;");
				else if (html && *c == '\'')
					buf_adds(&b, "&#39;");
				else
					buf_addc(&b, *c);
			}
			p = e + 2;
			continue;
		}
		buf_addc(&b, *p++);
	}
	*out = b.s ? buf_steal(&b) : xstrdup("");
	return MG_OK;
}

enum mg_status
tmpl_render(const struct tmpl *t, const struct tmpl_var *v, size_t n, char **subject, char **body,
    char **html)
{
	enum mg_status rc;

	*subject = *body = *html = NULL;
	if ((rc = fill(t->subject, v, n, 1, 0, subject)) != MG_OK ||
	    (rc = fill(t->body, v, n, 0, 0, body)) != MG_OK ||
	    (t->html && (rc = fill(t->html, v, n, 0, 1, html)) != MG_OK)) {
		free(*subject);
		free(*body);
		*subject = *body = NULL;
		return rc;
	}
	return MG_OK;
}
