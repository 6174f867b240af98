/* Unit tests for route: token lookup order and address masking. */
#include <stdlib.h>

#include "mime.h"
#include "route.h"
#include "tap.h"

int
main(void)
{
	const char *raw = "Delivered-To: someone@else.test\r\nTo: Relay+AbC12@Mentoring.Test\r\n"
	    "Cc: relay+cc@mentoring.test\r\nFrom: a@b.c\r\n\r\nx\r\n";
	struct mime_msg *m = mime_parse(raw, strlen(raw));
	const char *where = NULL;
	char *t = route_token("relay", "mentoring.test", m, &where);

	is_str(t, "abc12", "token from To, lower-cased, case-insensitive match");
	is_str(where, "To", "found in To");
	free(t);
	mime_free(m);

	raw = "Delivered-To: relay+first@mentoring.test\r\nX-Original-To: relay+second@mentoring.test\r\n"
	    "To: relay+third@mentoring.test\r\nFrom: a@b.c\r\n\r\nx\r\n";
	m = mime_parse(raw, strlen(raw));
	t = route_token("relay", "mentoring.test", m, &where);
	is_str(t, "first", "Delivered-To wins (Bcc recipients show up only there)");
	free(t);
	t = route_token("relay", "other.test", m, NULL);
	ok(t == NULL, "another domain has no token");
	mime_free(m);

	raw = "To: relay@mentoring.test, relayx+y@mentoring.test, relay+@mentoring.test\r\n"
	    "From: a@b.c\r\n\r\nx\r\n";
	m = mime_parse(raw, strlen(raw));
	t = route_token("relay", "mentoring.test", m, NULL);
	ok(t == NULL, "bare relay address, other local part, empty token: none");
	free(t);
	mime_free(m);

	struct route_mask mk[] = { { "alex@school.test", "relay+a@m.test" },
				   { "sam@nhs.test", "relay+s@m.test" } };
	char *s = route_mask("On Tue, Alex <ALEX@school.test> wrote: mail alex@school.test. "
	    "xalex@school.test sam@nhs.testing mailto:sam@nhs.test", mk, 2);
	is_str(s, "On Tue, Alex <relay+a@m.test> wrote: mail relay+a@m.test. "
	    "xalex@school.test sam@nhs.testing mailto:relay+s@m.test", "whole addresses masked only");
	free(s);
	s = route_mask("alex@school.test,sam@nhs.test; @ a@@b x@ sam@nhs.test", mk, 2);
	is_str(s, "relay+a@m.test,relay+s@m.test; @ a@@b x@ relay+s@m.test",
	    "at the start, back to back, stray and doubled @ signs");
	free(s);
	s = route_mask("CV Alex Smith alex@school.test.pdf, Alex+cv@School.test and "
	    "sam+x@nhs.test.docx; not sam@nhs.testing.pdf, sam@nhs or x+alex@school.test", mk, 2);
	is_str(s, "CV Alex Smith relay+a@m.test, relay+a@m.test and "
	    "relay+s@m.test; not sam@nhs.testing.pdf, sam@nhs or x+alex@school.test",
	    "an address glued to a file extension, or with a +tag, is still masked, whole");
	free(s);
	s = route_mask("alex@school.test.evil.example %00 alex@school.test", mk, 2);
	is_str(s, "relay+a@m.test %00 relay+a@m.test",
	    "nothing glued stays to make a look-alike of our domain; a percent-encoded NUL decodes to nothing");
	free(s);
	static const struct { const char *in, *want, *what; } forms[] = {
		{ "write to alex@\nschool.test now", "write to relay+a@m.test now", "split after @" },
		{ "alex@\r\n> school.test", "relay+a@m.test", "split after @, quoted" },
		{ "my insta is\n@alex@school.test", "my insta is\n@relay+a@m.test", "no join before @" },
		{ "alex@school.\n  test now", "relay+a@m.test now", "split after a dot" },
		{ "\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x85\xef\xbd\x98\xef\xbc\xa0" "school.test",
		  "relay+a@m.test", "fullwidth" },
		{ "<a href=\"mailto:alex%40school.test\">me</a>", "<a href=\"mailto:relay+a@m.test\">me</a>",
		  "percent-encoded" },
		{ "al\xe2\x80\x8b" "ex@sch\xc2\xad" "ool.test.", "relay+a@m.test.", "zero-width, soft hyphen" },
		{ "\xf0\x9d\x90\x9a\xf0\x9d\x90\xa5" "ex@school.test \xe2\x93\x90" "lex@school.test",
		  "relay+a@m.test relay+a@m.test", "in mathematical or circled letters (NFKC)" },
		{ "mail \"alex\"@school.test or \"sam\" at", "mail relay+a@m.test or \"sam\" at",
		  "a quoted local part" },
		{ "100%25 sure, alex@school.test", "100%25 sure, relay+a@m.test", "a % sign stays" },
		{ "end.\nNext line, x@y.test", "end.\nNext line, x@y.test", "a join masks nothing unknown" },
		{ "you at sam@nhs.test.\r\nJo is here", "you at relay+s@m.test.\r\nJo is here",
		  "a full stop after a whole address ends the sentence" },
	};
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		s = route_mask(forms[i].in, mk, 2);
		is_str(s, forms[i].want, "masked when written %s", forms[i].what);
		free(s);
	}
	return tap_done();
}
