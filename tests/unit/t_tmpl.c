/* Unit tests for templates: loading, unknown placeholders (file:line),
 * filling, CR/LF refused in the subject. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "tmpl.h"

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (!f) {
		perror(p);
		exit(1);	/* (no summary line: the runner counts a failure) */
	}
	fputs(text, f);
	fclose(f);
	free(p);
}

int
main(void)
{
	char dir[] = "/tmp/mg-tmpl-XXXXXX";
	struct tmpl *t = NULL;
	struct buf err = {0};
	char *s, *b, *h;

	if (!mkdtemp(dir))
		return 1;
	put(dir, "hello.txt", "Subject: Week {{week}}: hello {{first_name}}\n\nHi {{ first_name }},\n"
	    "your {{partner_role}} {{partner_first_name}} writes from {{partner_address}}.\n");
	put(dir, "hello.html", "<p>Hi {{first_name}}</p>\n");
	put(dir, "bad.txt", "Subject: hi\n\nline one\n{{first_name}} and {{shoe_size}}\n");
	put(dir, "nosubject.txt", "Hello\n");
	ok(tmpl_load(dir, "hello", &t, &err) == MG_OK && t, "a good template loads");
	struct tmpl_var v[] = {
		{ "week", "3" }, { "first_name", "Alex & Jo" }, { "partner_role", "mentor" },
		{ "partner_first_name", "Sam" }, { "partner_address", "relay+x@m.test" },
	};
	ok(tmpl_render(t, v, 5, &s, &b, &h) == MG_OK, "it fills");
	is_str(s, "Week 3: hello Alex & Jo", "subject");
	is_str(b, "Hi Alex & Jo,\nyour mentor Sam writes from relay+x@m.test.\n", "body, spaces in braces");
	is_str(h, "<p>Hi Alex &amp; Jo</p>\n", "html alternative, values escaped");
	free(s);
	free(b);
	free(h);
	v[1].value = "Alex\r\nBcc: x@y.test";
	ok(tmpl_render(t, v, 5, &s, &b, &h) == MG_BADINPUT && !s, "CR/LF refused in a subject value");
	ok(tmpl_render(t, v, 2, &s, &b, &h) == MG_BADINPUT, "a missing value is an error");
	tmpl_free(t);
	ok(tmpl_load(dir, "bad", &t, &err) == MG_BADCONF && !t, "an unknown placeholder is refused");
	ok(err.s && strstr(err.s, "/bad.txt:4: unknown placeholder {{shoe_size}}"), "with file:line");
	ok(tmpl_load(dir, "nosubject", &t, &err) == MG_BADCONF, "no Subject line is refused");
	ok(tmpl_load(dir, "missing", &t, &err) == MG_BADCONF && strstr(err.s, "no such template"),
	    "a missing template is named");
	ok(tmpl_load(dir, "../etc", &t, &err) == MG_BADCONF, "a name is one word");
	buf_free(&err);

	/* html: ' escaped too (a single-quoted attribute), and placeholders only
	 * where escaping keeps them data */
	put(dir, "attr.txt", "Subject: hi\n\nHi {{partner_name}}\n");
	put(dir, "attr.html", "<p title='{{partner_name}}' class=\"x\">{{partner_name}}</p>\n"
	    "<!-- for {{partner_name}} --><a href=\"mailto:{{partner_address}}\">write</a>\n");
	ok(tmpl_load(dir, "attr", &t, &err) == MG_OK, "text, quoted values and comments load");
	struct tmpl_var w[] = {
		{ "partner_name", "O'Brien' onmouseover='alert(1)" }, { "partner_address", "r+x@m.test" },
	};
	ok(tmpl_render(t, w, 2, &s, &b, &h) == MG_OK, "it fills");
	is_str(h, "<p title='O&#39;Brien&#39; onmouseover=&#39;alert(1)' class=\"x\">"
	    "O&#39;Brien&#39; onmouseover=&#39;alert(1)</p>\n<!-- for O&#39;Brien&#39; onmouseover="
	    "&#39;alert(1) --><a href=\"mailto:r+x@m.test\">write</a>\n",
	    "a single quote is &#39; in html");
	is_str(b, "Hi O'Brien' onmouseover='alert(1)\n", "and kept in the text part");
	free(s);
	free(b);
	free(h);
	tmpl_free(t);
	static const char *const badhtml[][2] = {	/* (line 2 of attr-N.html; the last, 3) */
		{ "<p title={{partner_name}}>", "in an unquoted attribute" },
		{ "<img src=\"x\" onerror=\"{{partner_name}}\">", "in an event handler" },
		{ "<p style='color:{{partner_name}}'>", "in an event handler or style" },
		{ "<script>var n = '{{partner_name}}';</script>", "inside a <script>" },
		{ "<p {{partner_name}}>", "inside a tag" },
		{ "<STYLE>\n</style><script x='>'>{{partner_name}}", "inside a <script>" },
	};
	for (size_t i = 0; i < sizeof badhtml / sizeof *badhtml; i++) {
		char *n = xasprintf("attr-%zu", i + 1), *f = xasprintf("%s.txt", n);
		char *fh = xasprintf("%s.html", n), *text = xasprintf("<p>\n%s\n", badhtml[i][0]);
		char *want = xasprintf("/%s:%d: a placeholder %s", fh, i == 5 ? 3 : 2, badhtml[i][1]);
		put(dir, f, "Subject: hi\n\nHi\n");
		put(dir, fh, text);
		ok(tmpl_load(dir, n, &t, &err) == MG_BADCONF && !t && err.s && strstr(err.s, want),
		    "refused at load, file:line: %s", want);
		buf_free(&err);
		free(n);
		free(f);
		free(fh);
		free(text);
		free(want);
	}
	char *rm = xasprintf("rm -rf %s", dir);
	ok(system(rm) == 0, "clean up");
	free(rm);
	return tap_done();
}
