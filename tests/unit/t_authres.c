/* Unit tests for authres: the RFC 8601 grammar (appendix B examples), which
 * header is believed, alignment, and attacks that fooled substring matching. */
#include <stdlib.h>

#include "authres.h"
#include "tap.h"

#define ID "ours"
#define SCHOOL "alex@school.test"

/* Parse value as ours for From domain from. */
static struct authres
parse(const char *value, const char *id, const char *from, int *ret)
{
	struct authres a;
	int r = authres_parse(value, id, from, &a);

	if (ret)
		*ret = r;
	return a;
}

static int
auth(const char *value, const char *from)
{
	return parse(value, ID, from, NULL).authenticated;
}

/* authres_check over exactly len bytes on the heap, so ASan sees any
 * read past the end. */
static struct authres
check(const char *raw, size_t len, const char *from)
{
	struct authres a;
	char *copy = malloc(len ? len : 1);

	memcpy(copy, raw, len);
	authres_check(copy, len, ID, from, &a);
	free(copy);
	return a;
}

static struct authres
msg(const char *headers, const char *from)
{
	char raw[4096];
	int n = snprintf(raw, sizeof raw, "Received: from x by y; Mon, 1 Jan 2024\r\n%s"
	    "From: Alex <%s>\r\nSubject: hi\r\n\r\n"
	    "Authentication-Results: ours; dkim=pass header.d=school.test\r\n", headers, from);

	return check(raw, (size_t)n, from);
}

static void
rfc_examples(void)
{
	struct authres a;
	int r;

	a = parse("example.org 1; none", "example.org", "example.org", &r);
	ok(r == 1 && a.trusted && !a.dkim && !a.spf && !a.dmarc && !a.authenticated,
	    "B.2: \"example.org 1; none\": ours, nothing done");
	a = parse("example.org 1; none", "example.com", "example.org", &r);
	ok(r == 0 && !a.trusted, "B.2 with another authserv-id: not ours");
	a = parse("example.com; spf=pass smtp.mailfrom=example.net", "example.com", "example.net", &r);
	ok(r == 1 && a.spf == AUTHRES_PASS && a.authenticated, "B.3: spf pass for example.net");
	a = parse("example.com; spf=pass smtp.mailfrom=example.net", "example.com", "example.com", &r);
	ok(a.spf == AUTHRES_PASS && !a.authenticated, "B.3: not for From at example.com");
	a = parse("example.com;\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\n"
	    "          spf=pass smtp.mailfrom=example.net", "example.com", "example.net", NULL);
	ok(a.spf == AUTHRES_PASS && a.authenticated, "B.4: SMTP AUTH then spf, folds kept");
	a = parse("example.com; iprev=pass\n          policy.iprev=192.0.2.200", "example.com",
	    "example.com", &r);
	ok(r == 1 && !a.spf && !a.dkim && !a.authenticated, "B.4: iprev pass authenticates nothing");
	a = parse("example.com;\n          sender-id=fail header.from=example.com;\n"
	    "          dkim=pass (good signature) header.d=example.com", "example.com",
	    "example.com", NULL);
	ok(a.dkim == AUTHRES_PASS && a.authenticated, "B.5: sender-id fail, dkim pass");
	a = parse("example.com;\n          dkim=pass reason=\"good signature\"\n"
	    "            header.i=@mail-router.example.net;\n"
	    "          dkim=fail reason=\"bad signature\"\n"
	    "            header.i=@newyork.example.com", "example.com", "example.net", NULL);
	ok(a.dkim == AUTHRES_PASS && a.authenticated,
	    "B.6: a dkim pass (header.i subdomain) wins over a dkim fail");
	a = parse("example.com; dkim=pass reason=\"good signature\" header.i=@mail-router.example.net;"
	    " dkim=fail reason=\"bad signature\" header.i=@newyork.example.com", "example.com",
	    "newyork.example.com", NULL);
	ok(a.dkim == AUTHRES_PASS && !a.authenticated, "B.6: the failed one's domain is not vouched for");
	a = parse("foo.example.net (foobar) 1 (baz);\n"
	    "    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\n"
	    "      policy (A dot can go here) . (like that) expired\n"
	    "      (this surprised me) = (as I wasn't expecting it) 1362471462",
	    "foo.example.net", "example.net", &r);
	ok(r == 1 && a.dkim == AUTHRES_FAIL && !a.authenticated, "B.7: comment-heavy example");
	a = parse("foo.example.net (foobar) 1 (baz);\n"
	    "    dkim (Because I like it) / 1 (One yay) = (wait for it) pass\n"
	    "      header (A dot can go here) . (like that) d\n"
	    "      (this surprised me) = (as I wasn't expecting it) example.net",
	    "foo.example.net", "example.net", NULL);
	ok(a.dkim == AUTHRES_PASS && a.authenticated, "B.7 as a pass: every comment skipped");
	a = parse("example.com 2; spf=pass smtp.mailfrom=example.com", "example.com", "example.com", &r);
	ok(r == 1 && a.trusted && !a.spf && !a.authenticated, "version 2: ours, but nothing believed");
	a = parse("example.com 1 ; spf=pass smtp.mailfrom=example.com", "example.com", "example.com", NULL);
	ok(a.authenticated, "version 1 written out");
	a = parse("ours; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=school.test;"
	    " dkim=none (message not signed) header.d=none;dmarc=pass action=none"
	    " header.from=school.test;compauth=pass reason=100", ID, "school.test", NULL);
	ok(a.spf == AUTHRES_PASS && !a.dkim && a.authenticated, "(sender IP is 192.0.2.1): spf read");
	ok(a.dmarc == AUTHRES_NONE, "a pass from a resinfo that does not parse (action=none) is not believed");
	a = parse("ours; spf=pass smtp.mailfrom=school.test; dmarc=fail action=quarantine"
	    " header.from=school.test", ID, "school.test", NULL);
	ok(a.dmarc == AUTHRES_FAIL && !a.authenticated, "a fail from one that does not parse is");
}

static void
ids(void)
{
	int r;

	ok(auth("\"ours\"; dkim=pass header.d=school.test", "school.test"), "quoted authserv-id");
	ok(auth("OURS; DKIM=PASS Header.D=School.Test", "school.test"), "case-insensitive throughout");
	ok(auth("ours (our mx); dkim=pass header.d=school.test", "school.test"), "comment after the id");
	parse("theirs; dkim=pass header.d=school.test", ID, "school.test", &r);
	ok(r == 0, "another authserv-id is not ours");
	parse("ours.evil.test; dkim=pass header.d=school.test", ID, "school.test", &r);
	ok(r == 0, "nor one that starts with ours");
	parse("oursx; dkim=pass header.d=school.test", ID, "school.test", &r);
	ok(r == 0, "nor oursx");
	parse("\"ours; dkim=pass header.d=school.test\"", ID, "school.test", &r);
	ok(r == 0, "nor a quoted id holding ours");
	parse("ours; dkim=pass header.d=school.test", "", "school.test", &r);
	ok(r == 0, "an empty authserv_id matches nothing");
	parse("ours; dkim=pass header.d=school.test", NULL, "school.test", &r);
	ok(r == 0, "nor a NULL one");
	parse("", ID, "school.test", &r);
	ok(r == 0, "an empty value");
	parse("  (ours) ; dkim=pass", ID, "school.test", &r);
	ok(r == 0, "an id inside a comment is no id");
}

static void
attacks(void)
{
	struct authres a;

	a = parse("ours; spf=fail smtp.mailfrom=x.dkim=pass@evil.test", ID, "evil.test", NULL);
	ok(!a.authenticated && !a.dkim && a.spf == AUTHRES_FAIL,
	    "dkim=pass inside a local-part (From evil.test)");
	ok(!auth("ours; spf=fail smtp.mailfrom=x.dkim=pass@evil.test", "school.test"),
	    "dkim=pass inside a local-part (From school.test)");
	a = parse("ours; spf=none (helo=dkim=pass) smtp.helo=x", ID, "x", NULL);
	ok(!a.authenticated && !a.dkim && !a.spf, "dkim=pass inside a comment");
	ok(!auth("ours; spf=pass smtp.helo=school.test", "school.test"), "smtp.helo alone never vouches");
	ok(!auth("ours; spf=none (x; dkim=pass header.d=school.test) smtp.helo=x", "school.test"),
	    "a ';' inside a comment");
	ok(!auth("ours; spf=none (a \\) dkim=pass header.d=school.test) smtp.helo=x", "school.test"),
	    "an escaped ')' does not end the comment ...");
	ok(auth("ours; dkim=pass (a \\) b) header.d=school.test", "school.test"), "... in a pass either");
	a = parse("ours; dkim=pass header.d=evil.test; dmarc=fail header.from=school.test", ID,
	    "school.test", NULL);
	ok(!a.authenticated && a.dkim == AUTHRES_PASS && a.dmarc == AUTHRES_FAIL,
	    "dkim pass for an unrelated domain while dmarc fails");
	ok(auth("ours; dkim=pass header.d=school.test; dmarc=none header.from=school.test", "school.test"),
	    "an aligned dkim pass vouches ...");
	a = parse("ours; dkim=pass header.d=school.test; dmarc=fail header.from=school.test", ID,
	    "school.test", NULL);
	ok(!a.authenticated && a.dmarc == AUTHRES_FAIL, "... unless dmarc fails");
	a = parse("ours; dmarc=pass header.from=school.test; dmarc=fail header.from=school.test", ID,
	    "school.test", NULL);
	ok(!a.authenticated && a.dmarc == AUTHRES_FAIL, "any dmarc fail wins over a dmarc pass");
	ok(!auth("ours; spf=none reason=\"x; dkim=pass header.d=school.test\"", "school.test"),
	    "'; dkim=pass' inside a quoted reason");
	ok(!auth("ours; spf=none smtp.mailfrom=\"a; dkim=pass header.d=school.test\"@evil.test",
	    "school.test"), "'; dkim=pass' inside a quoted local-part");
	ok(!auth("ours; spf=none reason=\"a \\\"; dkim=pass header.d=school.test; x=\\\"\"",
	    "school.test"), "an escaped '\"' does not end the quoted-string ...");
	ok(auth("ours; dkim=pass header.d=\"school\\.test\"", "school.test"), "... and is unescaped");
	ok(!auth("ours; spf=none reason=\"unclosed; dkim=pass header.d=school.test", "school.test"),
	    "an unclosed quote runs to the end");
	ok(!auth("ours; dkim=pass header.d=school.test (unclosed", "school.test"),
	    "a pass followed by an unclosed comment is not believed");
	ok(parse("ours; dmarc=fail (unclosed", ID, "school.test", NULL).dmarc == AUTHRES_FAIL,
	    "a fail followed by one is");
	ok(!auth("ours; dkim=pass) header.d=school.test", "school.test"), "a stray ')'");
	ok(!auth("ours; spf=pass smtp.mailfrom=a@evil.test@school.test", "school.test"),
	    "two '@' do not parse");
	ok(!auth("ours; spf=none junk$ (x; dkim=pass header.d=school.test; y)", "school.test"),
	    "skipping junk skips a comment whole");
	ok(auth("ours; spf=none junk$ (it's a \"quote); dkim=pass header.d=school.test", "school.test"),
	    "a '\"' in a comment quotes nothing");
	ok(!auth("ours; spf=none junk \"x; dkim=pass header.d=school.test\" y", "school.test"),
	    "skipping junk skips a quoted-string whole");
	ok(!auth("ours; dkim=pass header.d=evil.test header.d=school.test", "school.test"),
	    "a property given twice vouches for neither");
	ok(!auth("ours; dkim=pass header.d=school.test.evil.test", "school.test"), "school.test.evil.test");
	ok(!auth("ours; spf=pass smtp.mailfrom=\"x@school.test\"@evil.test", "school.test"),
	    "the domain is after the quoted local-part");
	ok(!auth("ours; dkim=pass header.d=evil.test header.i=@school.test", "school.test"),
	    "header.d, not header.i, when both are given");
	ok(!auth("ours; dkim=pass header.i=alex@evil.test", "school.test"), "header.i of another domain");
	ok(!auth("ours; dkim=pass smtp.mailfrom=school.test", "school.test"), "dkim by smtp.mailfrom");
	ok(!auth("ours; spf=pass header.d=school.test", "school.test"), "spf by header.d");
	ok(!auth("ours; dmarc=pass header.from=evil.test", "school.test"), "dmarc pass for another From");
	ok(!auth("ours; dmarc=pass header.from=mail.school.test", "school.test"),
	    "dmarc header.from must be equal, not aligned");
	ok(!auth("ours; dkim=pass header.d=school.test", NULL), "no From domain");
	ok(!auth("ours; dmarc=pass", ""), "an empty From domain, even for a bare dmarc pass");
	ok(!auth("ours; dkim=pass header.d=", "school.test"), "an empty header.d");
}

static void
alignment(void)
{
	ok(auth("ours; dkim=pass header.d=mail.school.test", "school.test"), "header.d a subdomain");
	ok(auth("ours; dkim=pass header.d=school.test", "staff.school.test"), "From a subdomain");
	ok(!auth("ours; dkim=pass header.d=test", "school.test"), "header.d=test: one label");
	ok(!auth("ours; dkim=pass header.d=school.test", "test"), "From at test: one label");
	ok(!auth("ours; dkim=pass header.d=evilschool.test", "school.test"), "evilschool.test");
	ok(!auth("ours; dkim=pass header.d=.school.test", "school.test"), "an empty label");
	ok(auth("ours; dkim=pass header.i=@mail.school.test", "school.test"), "header.i without header.d");
	ok(auth("ours; spf=pass smtp.mailfrom=bounce@school.test", "school.test"),
	    "spf: smtp.mailfrom=bounce@school.test");
	ok(auth("ours; spf=pass smtp.mailfrom=school.test", "school.test"), "spf: a bare domain");
	ok(auth("ours; spf=pass smtp.mailfrom=\"a b\"@school.test", "school.test"),
	    "spf: a quoted local-part");
	ok(!auth("ours; spf=pass smtp.mailfrom=bounce@evil.test", "school.test"), "spf: another domain");
	ok(auth("ours; dmarc=pass header.from=school.test", "school.test"), "dmarc pass for From");
	ok(auth("ours; dmarc=pass header.from=School.Test", "school.test"), "case-insensitive");
	ok(auth("ours; dmarc=pass", "school.test"), "a dmarc pass without header.from");
	ok(auth("ours ;dkim = pass(good)header . d=\"school.test\"(x) ( a ( nested ) one );", "school.test"),
	    "comments, odd spacing and a quoted header.d");
	ok(auth("ours; dkim=pass header.d=evil.test; dkim=pass header.d=school.test", "school.test"),
	    "a second signature aligned");
	ok(auth("ours; dkim=pass header.b=ab/c+d:e= header.d=school.test", "school.test"),
	    "'/' and '=' in a header.b value");
}

static void
summaries(void)
{
	struct authres a;

	a = parse("ours; spf=softfail smtp.mailfrom=a.test; dkim=permerror; dmarc=pass", ID, "a.test", NULL);
	ok(a.spf == AUTHRES_FAIL && a.dkim == AUTHRES_FAIL && a.dmarc == AUTHRES_PASS,
	    "softfail and permerror are fail");
	a = parse("ours; spf=hardfail smtp.mailfrom=a.test; dkim=policy; dmarc=temperror", ID, "a.test", NULL);
	ok(a.spf == AUTHRES_FAIL && !a.dkim && !a.dmarc, "hardfail is fail; policy, temperror none");
	a = parse("ours; spf=neutral; dkim=fail header.d=a.test; dkim=pass header.d=b.test", ID, "b.test", NULL);
	ok(!a.spf && a.dkim == AUTHRES_PASS && a.authenticated, "neutral is none; a dkim pass wins");
	a = parse("ours; dkim/1=pass header.d=school.test", ID, "school.test", NULL);
	ok(a.authenticated, "a method version");
	a = parse("ours; dkim=pass junk junk; spf=pass smtp.mailfrom=school.test", ID, "school.test", NULL);
	ok(!a.dkim && a.spf == AUTHRES_PASS && a.authenticated, "junk skips to the next resinfo only");
	a = parse("ours junk; spf=pass smtp.mailfrom=school.test", ID, "school.test", NULL);
	ok(a.authenticated, "junk before the first ';' is skipped");
	a = parse("ours; none", ID, "school.test", NULL);
	ok(a.trusted && !a.authenticated, "none");
	a = parse("ours; dkim=pass header.d=school.test", ID, "school.test", NULL);
	ok(a.trusted && a.dkim == AUTHRES_PASS && a.authenticated, "the plain case");
}

static void
headers(void)
{
	struct authres a;
	const char *raw;

	a = msg("Authentication-Results: ours; dkim=pass header.d=school.test\r\n", SCHOOL);
	ok(a.trusted && a.authenticated, "a message with our header");
	a = msg("Authentication-Results: ours;\r\n\tdkim=pass\r\n   header.d=school.test\r\n", SCHOOL);
	ok(a.authenticated, "folded with CRLF");
	raw = "authentication-RESULTS: ours;\n dkim=pass\n header.d=school.test\nFrom: alex@school.test\n\n";
	a = check(raw, strlen(raw), SCHOOL);
	ok(a.authenticated, "folded with LF, the name in any case");
	a = msg("Authentication-Results: evil.test; dkim=pass header.d=school.test; dmarc=pass\r\n"
	    "Authentication-Results: ours; dkim=fail header.d=school.test; dmarc=fail\r\n", SCHOOL);
	ok(a.trusted && !a.authenticated && a.dkim == AUTHRES_FAIL, "another id above ours is ignored");
	a = msg("Authentication-Results: ours; spf=none smtp.helo=x\r\n"
	    "Authentication-Results: evil.test; dkim=pass header.d=school.test; dmarc=pass\r\n", SCHOOL);
	ok(a.trusted && !a.authenticated && !a.dkim, "and below ours");
	a = msg("Authentication-Results: evil.test; dkim=pass header.d=school.test; dmarc=pass\r\n", SCHOOL);
	ok(!a.trusted && !a.authenticated, "only another id: not trusted");
	a = msg("Authentication-Results: ours; dkim=fail header.d=school.test; dmarc=fail\r\n"
	    "Authentication-Results: ours; dkim=pass header.d=school.test; dmarc=pass\r\n", SCHOOL);
	ok(a.trusted && !a.authenticated && a.dmarc == AUTHRES_FAIL,
	    "a lower header with our id is ignored");
	a = msg("Authentication-Results: ours (garbled\r\n"
	    "Authentication-Results: ours; dkim=pass header.d=school.test\r\n", SCHOOL);
	ok(!a.authenticated, "a topmost one with our id but nothing readable stops the search");
	a = msg("X-Authentication-Results: ours; dkim=pass header.d=school.test\r\n"
	    "Authentication-Results-Foo: ours; dkim=pass header.d=school.test\r\n", SCHOOL);
	ok(!a.trusted, "other header names");
	a = msg("Authentication-Results ours; dkim=pass header.d=school.test\r\n", SCHOOL);
	ok(!a.trusted, "a line without a colon is no header");
	a = msg("", SCHOOL);
	ok(!a.trusted, "one in the body is not a header");
	a = msg("X-Note: Authentication-Results: ours; dkim=pass header.d=school.test\r\n"
	    " Authentication-Results: ours; dkim=pass header.d=school.test\r\n", SCHOOL);
	ok(!a.trusted, "one inside another header's continuation is not a header");
	a = msg("Authentication-Results: ours; dkim=pass header.d=school.test\r\n", "alex");
	ok(a.trusted && !a.authenticated, "a From without a domain");
	raw = "Authentication-Results: ours; dkim=pass header.d=school.test\r\n";
	authres_check(raw, strlen(raw), ID, NULL, &a);
	ok(a.trusted && a.dkim == AUTHRES_PASS && !a.authenticated,
	    "no From: the summary, never authenticated");
	authres_check(NULL, 0, ID, SCHOOL, &a);
	ok(!a.trusted, "no message");

	static const char nul[] = "Authentication-Results: ours; dkim=pass header.d=school.test\0;"
	    " dmarc=fail\r\n\r\n";
	a = check(nul, sizeof nul - 1, SCHOOL);
	ok(a.trusted && !a.authenticated && a.dmarc == AUTHRES_FAIL,
	    "a NUL neither ends the value nor passes");
	static const char cut[] = "Authentication-Results: ours; dkim=pass header.d=school.test";
	a = check(cut, sizeof cut - 1, SCHOOL);
	ok(a.authenticated, "a message that ends inside the header");
	a = check(cut, 40, SCHOOL);
	ok(a.trusted && !a.authenticated, "cut inside the resinfo");
}

static void
hostile(void)
{
	size_t n = 200000, i;
	char *s = malloc(n + 64);
	struct authres a;
	unsigned seed = 1;
	int bad = 0;

	memset(s, '(', n);
	strcpy(s + n, "; dkim=pass");
	ok(parse(s, ID, "school.test", NULL).trusted == 0, "200000 '(' before the id");
	memcpy(s, "ours; dkim=pass header.d=school.test ", 37);
	ok(!auth(s, "school.test"), "then 200000 '(' after a pass");
	memset(s + 37, '(', (n - 37) / 2);
	memset(s + 37 + (n - 37) / 2, ')', (n - 37) / 2);
	s[37 + (n - 37) / 2 * 2] = '\0';
	ok(auth(s, "school.test"), "deeply nested but closed comments");
	memset(s, 'a', n);
	s[n] = '\0';
	ok(parse(s, "aaa", "a.test", NULL).trusted == 0, "a 200000-byte id");
	memcpy(s, "ours; dkim=pass header.d=", 25);
	ok(!auth(s, "school.test"), "a 200000-byte header.d");
	memcpy(s + n - 13, ".school.test", 13);
	ok(!auth(s, "school.test"), "... even ending .school.test (too long: \"\")");
	memcpy(s, "ours; dkim=pass header.i=\"", 26);
	memset(s + 26, 'x', 243);
	strcpy(s + 26 + 243, "@school.test\"@evil.test");
	ok(!auth(s, "school.test"), "a header.i too long is \"\", not cut to its first 255 bytes");
	memset(s, '"', n);
	memcpy(s, "ours; spf=none reason=", 22);
	s[n] = '\0';
	ok(parse(s, ID, "school.test", NULL).trusted, "200000 quotes");
	memcpy(s, "ours", 4);
	for (i = 4; i + 32 < n; i += 31)
		memcpy(s + i, "; dkim=pass header.d=evil.test ", 31);
	s[i] = '\0';
	a = parse(s, ID, "school.test", NULL);
	ok(a.dkim == AUTHRES_PASS && !a.authenticated, "6000 unaligned resinfos");

	/* random mixes of the characters that matter */
	static const char alpha[] = "ours;dkim=pass header.d=school.test()\"\\@ \t\r\n.;/1";
	for (int k = 0; k < 20000; k++) {
		size_t len = (seed = seed * 1103515245 + 12345) % 120;
		memcpy(s, "Authentication-Results: ", 24);
		for (i = 24; i < 24 + len; i++)
			s[i] = (seed = seed * 1103515245 + 12345) >> 16 & 1 ? alpha[(seed >> 17) %
			    (sizeof alpha - 1)] : (char)(seed >> 8);
		a = check(s, 24 + len, SCHOOL);
		if ((a.authenticated && (!a.trusted || a.dmarc == AUTHRES_FAIL)) ||
		    (!a.trusted && (a.dkim || a.spf || a.dmarc)))
			bad++;
	}
	ok(!bad, "20000 random headers: authenticated only when trusted and no dmarc fail (%d)", bad);
	free(s);
}

int
main(void)
{
	rfc_examples();
	ids();
	attacks();
	alignment();
	summaries();
	headers();
	hostile();
	return tap_done();
}
