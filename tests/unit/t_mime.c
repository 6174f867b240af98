/* Unit tests for mime: parsing, the libetpan crash guard, text helpers, building. */
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mime.h"
#include "tap.h"

/* Parse in a child: returns 1 if it exited normally and flagged malformed. */
static int
survives_and_flags(const char *raw)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct mime_msg *m = mime_parse(raw, strlen(raw));
		int flagged = m->malformed != NULL;
		mime_free(m);
		_exit(flagged ? 0 : 3);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
crash_guard(void)
{
	ok(survives_and_flags("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=\"\\\"\"\r\n\r\n--\"\r\n\r\nx\r\n"),
	    "top-level boundary=\"\\\"\" is refused, not parsed");
	ok(survives_and_flags("From: a@b.c\nContent-Type: multipart/mixed; boundary=o\n\n--o\n"
	    "Content-Type: multipart/alternative;\n\tBOUNDARY = \"\\\"x\"\n\n--\"x\n\ny\n--o--\n"),
	    "nested, folded, upper-case boundary with a leading quote is refused");
	ok(survives_and_flags("From: a@b.c\nContent-Type: multipart/mixed; boundary=\"\"\"\n\nz\n"),
	    "boundary=\"\"\" is refused");
	const char *plain = "Content-Type: multipart/mixed; boundary=\"abc\"\r\n";
	ok(mime_hazard(plain, strlen(plain)) == NULL,
	    "an ordinary quoted boundary is fine");
	ok(mime_hazard("boundary=\"\"", 11) == NULL, "an empty boundary is not the crash");
	const char *bad = "From: A <a@b.c>\r\nSubject: s\r\nContent-Type: multipart/mixed;"
	    " boundary=\"\\\"\"\r\n\r\nbody\r\n";
	struct mime_msg *m = mime_parse(bad, strlen(bad));
	is_str(m->from.addr, "a@b.c", "headers of a refused message are still read");
	is_str(m->subject, "s", "subject of a refused message");
	mime_free(m);
}

/* Heap in use after parsing and freeing raw 200 times, less before
 * (glibc's count, after 50 rounds to warm up; under ASan, LeakSanitizer
 * reports instead). */
static long
heap_growth(const char *raw)
{
	for (int i = 0; i < 50; i++)
		mime_free(mime_parse(raw, strlen(raw)));
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < 200; i++)
		mime_free(mime_parse(raw, strlen(raw)));
	return (long)(mallinfo2().uordblks - before);
}

static void
leak_guard(void)
{
	const char *open = "Return-Path:<boundary=\"\"\"\nFrom: a@b.c\n\nhello\n";
	const char *spaced = "return-path : <bob@example.org\r\nFrom: a@b.c\r\n"
	    "Content-Type: multipart/mixed; boundary=\"\\\"\"\r\n\r\nhi\r\n";
	const char *comment = "Return-Path:<\x01(>\rboundary=\"\"\"\nFrom: a@b.c\n\nhello\n";
	const char *good = "Return-Path: <a@b.c>\r\nFrom: a@b.c\r\n\r\nhello\r\n";
	const char *folded = "Return-Path:\r\n <a@b.c>\r\nFrom: a@b.c\r\n\r\nhello\r\n";

	ok(heap_growth(open) == 0, "Return-Path \"<addr\" without \">\": nothing leaks");
	ok(heap_growth(spaced) == 0, "the same in lower case, spaced: nothing leaks");
	ok(heap_growth(comment) == 0, "a comment and a lone CR in it: nothing leaks");
	struct mime_msg *m = mime_parse(open, strlen(open));
	is_str(m->from.addr, "a@b.c", "a message with a broken Return-Path is still read");
	is_str(m->text, "hello\n", "and its text is whole");
	mime_free(m);
	m = mime_parse(good, strlen(good));
	is_str(m->text, "hello\n", "a well-formed Return-Path changes nothing");
	mime_free(m);
	m = mime_parse(folded, strlen(folded));
	is_str(m->from.addr, "a@b.c", "nor does a folded one");
	mime_free(m);
}

static void
parsing(void)
{
	const char *raw =
	    "Return-Path: <x@y.z>\r\nDelivered-To: relay+Tok123@mentoring.test\r\n"
	    "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@school.test>\r\nTo: a@b.c, \"B\" <b@c.d>\r\n"
	    "Cc: grp: c@d.e;\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\n"
	    "Message-ID: <id1@x>\r\nIn-Reply-To: <id0@x>\r\nReferences: <a@x> <id0@x>\r\n"
	    "Date: Tue, 1 Sep 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Smart =93quotes=94 =80=\r\n5\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n";
	struct mime_msg *m = mime_parse(raw, strlen(raw));

	ok(m->malformed == NULL, "well-formed message");
	is_str(m->from.addr, "zoe@school.test", "From address");
	is_str(m->from.name, "Zo\xc3\xab", "From display name decoded");
	is_str(m->subject, "caf\xc3\xa9", "Latin-1 encoded word subject");
	is_str(m->message_id, "id1@x", "Message-ID without brackets");
	ok(m->to.n == 2 && m->cc.n == 1, "To and Cc (group) addresses");
	ok(m->delivered_to.n == 1, "Delivered-To");
	ok(m->references.n == 2 && m->in_reply_to.n == 1, "References and In-Reply-To");
	is_str(m->date, "2026-09-01 10:00:00 +0100", "Date");
	is_str(m->text, "Smart \xe2\x80\x9cquotes\xe2\x80\x9d \xe2\x82\xac" "5\n", "windows-1252 QP plain part preferred (a text ends with a newline)");
	ok(!m->from_html, "not from HTML");
	mime_free(m);

	m = mime_parse("Subject: no from\n\nbody\n", 23);
	ok(m->malformed && strstr(m->malformed, "From"), "no From is malformed");
	mime_free(m);
	m = mime_parse("", 0);
	ok(m->malformed != NULL, "empty input is malformed, not a crash");
	mime_free(m);
	raw = "From: a@b.c\nContent-Type: text/plain; charset=x-no-such\n\n\xe9t\xe9\n";
	m = mime_parse(raw, strlen(raw));
	is_str(m->text, "\xc3\xa9t\xc3\xa9\n", "unknown charset falls back to windows-1252");
	mime_free(m);
}

static void
helpers(void)
{
	char *s = mime_utf8_clean("ok \xff\xc3\xa9 \xe2\x82", 9);
	is_str(s, "ok \xef\xbf\xbd\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd", "invalid UTF-8 replaced");
	free(s);
	const char *h = "Subject: one\r\n two\r\nX: y\r\n\r\nSubject: body";
	s = mime_header(h, strlen(h), "subject");
	is_str(s, "one two", "header unfolded, case-insensitive");
	free(s);
	h = "A: b\n\nSubject: in body\n";
	s = mime_header(h, strlen(h), "Subject");
	ok(s == NULL, "headers stop at the blank line");
	free(s);
	h = "<div>a<br>b</div><ol><li>x</li></ol><a href=\"mailto:q@r.s\">write</a>";
	s = mime_html_text(h, strlen(h));
	is_str(s, "a\nb\n\n1. x\n\nwrite <q@r.s>\n", "html: breaks, numbered lists, mailto links");
	free(s);
	h = "<script>alert(1)</script>&lt;tag&gt; &amp;&#x41;";
	s = mime_html_text(h, strlen(h));
	is_str(s, "<tag> &A\n", "html: script dropped, entities decoded");
	free(s);
}

static void
building(void)
{
	struct mime_out o = {
		.from_name = "Zo\xc3\xab (mentee) via P", .from_addr = "relay+t@m.test",
		.to_name = "Sam \"S\"", .to_addr = "s@n.test", .subject = "Hi\xc3\xa9",
		.message_id = "abc@m.test", .in_reply_to = "x@y", .references = "w@y x@y",
		.body = "a\n.\nb\n", .date = 0,
	};
	char *out;
	size_t len;

	ok(mime_build(&o, &out, &len) == MG_OK, "build");
	ok(strstr(out, "From: =?UTF-8?B?") != NULL, "non-ASCII display name encoded");
	ok(strstr(out, "To: \"Sam \\\"S\\\"\" <s@n.test>\r\n") != NULL, "quotes escaped");
	ok(strstr(out, "References: <w@y>\r\n <x@y>\r\n") != NULL, "references folded");
	ok(strstr(out, "\r\n\r\na\r\n=2E\r\nb\r\n") != NULL, "a lone dot is encoded");
	ok(strstr(out, "\n\n") == NULL, "no bare LF anywhere");
	free(out);
	o.subject = "evil\r\nBcc: x@y";
	ok(mime_build(&o, &out, &len) == MG_BADINPUT, "CR/LF in a header value refused");
	o.subject = "fine";
	o.to_addr = "a@b>\r\nX: y";
	ok(mime_build(&o, &out, &len) == MG_BADINPUT, "CR/LF in an address refused");
}

/* An entity we do not know used to stall the renderer for ever. */
static void
html_entities(void)
{
	const char *html = "<p>&bdquo;Hallo&ldquo; &unknownentity; &amp; &#x263a; &#99999999999;</p>";
	char *t = mime_html_text(html, strlen(html));

	is_str(t, "\xe2\x80\x9eHallo\xe2\x80\x9c &unknownentity; & \xe2\x98\xba \xef\xbf\xbd\n",
	    "named, unknown, hex and out-of-range entities");
	free(t);
	t = mime_html_text("a &", 3);
	is_str(t, "a &\n", "a lone & at the end");
	free(t);
	html = "<ol><li>first</li><li>second<ul><li>inner</li></ul></li></ol><p>after</p>";
	t = mime_html_text(html, strlen(html));
	is_str(t, "1. first\n2. second\n  - inner\n\nafter\n", "numbered and nested lists");
	free(t);
}

/* RFC 3676 and the charsets clients get wrong. */
static void
flowed_and_charsets(void)
{
	const char *raw = "From: a@b.test\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
	    "A long line \r\nwrapped.\r\n> q1 \r\n> q2\r\n>> d \r\n>>  e\r\n \r\n-- \r\nSig\r\n";
	struct mime_msg *m = mime_parse(raw, strlen(raw));

	is_str(m->text, "A long line wrapped.\n> q1 q2\n>> d  e\n\n-- \nSig\n",
	    "format=flowed: soft breaks joined per quote depth, space-stuffing undone");
	mime_free(m);
	raw = "From: a@b.test\r\nContent-Type: text/plain; format=flowed; delsp=yes\r\n\r\n"
	    "Lang \r\nwort\r\n";
	m = mime_parse(raw, strlen(raw));
	is_str(m->text, "Langwort\n", "delsp=yes drops the soft-break space");
	mime_free(m);
	raw = "From: a@b.test\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\ncaf\xe9 \x93ok\x94\r\n";
	m = mime_parse(raw, strlen(raw));
	is_str(m->text, "caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d\n", "8-bit text labelled ASCII read as windows-1252");
	mime_free(m);
	raw = "From: a@b.test\r\n\r\ncaf\xc3\xa9\r\n";
	m = mime_parse(raw, strlen(raw));
	is_str(m->text, "caf\xc3\xa9\n", "unlabelled valid UTF-8 stays UTF-8");
	mime_free(m);
	raw = "From: a@b.test\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n\x80\r\n";
	m = mime_parse(raw, strlen(raw));
	is_str(m->text, "\xe2\x82\xac\n", "an unknown charset falls back to windows-1252");
	mime_free(m);
}

/* Apple Mail's text, image, text; RFC 2231 names; non-body text parts. */
static void
parts_and_names(void)
{
	const char *raw = "From: a@b.test\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
	    "--m\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
	    "--a\r\nContent-Type: text/plain\r\n\r\nPlain one\r\n"
	    "--a\r\nContent-Type: text/plain\r\n\r\nsecond alternative\r\n"
	    "--a\r\nContent-Type: text/html\r\n\r\n<p>Html one</p>\r\n--a--\r\n"
	    "--m\r\nContent-Type: image/jpeg\r\n"
	    "Content-Disposition: inline; filename*0*=UTF-8''%E2%82%AC; filename*1=\"uro.jpg\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nAAAAAAAA\r\n"
	    "--m\r\nContent-Type: text/plain\r\n\r\nAfter the image\r\n"
	    "--m\r\nContent-Type: text/calendar; name=invite.ics\r\n\r\nBEGIN:VCALENDAR\r\n"
	    "--m\r\nContent-Type: application/pdf; name=\"=?UTF-8?Q?Caf=C3=A9_notes.pdf?=\"\r\n"
	    "Content-Disposition: attachment\r\n\r\n%PDF\r\n"
	    "--m\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment; filename*=iso-8859-1'en'r%E9sum%E9.txt\r\n\r\nx\r\n--m--\r\n";
	struct mime_msg *m = mime_parse(raw, strlen(raw));

	is_str(m->text, "Plain one\nAfter the image\n", "every inline plain part, one per alternative");
	ok(m->natt == 4, "four attachments (got %zu)", m->natt);
	if (m->natt == 4) {
		is_str(m->att[0].filename, "\xe2\x82\xacuro.jpg", "RFC 2231 continuation with a charset");
		is_str(m->att[0].type, "image/jpeg", "its type");
		ok(m->att[0].size == 6, "base64 size decoded (got %zu)", m->att[0].size);
		is_str(m->att[1].filename, "invite.ics", "a text/calendar part is an attachment");
		is_str(m->att[2].filename, "Caf\xc3\xa9 notes.pdf", "RFC 2047 words in a name");
		is_str(m->att[3].filename, "r\xc3\xa9sum\xc3\xa9.txt", "RFC 2231 Latin-1 value");
	}
	mime_free(m);
}

/* Saved mail starts with an mbox "From " line. */
static void
mbox_from(void)
{
	const char *raw = "From MAILER-DAEMON Tue Oct  3 18:16:48 2000\nFrom: a@b.test\n"
	    "Subject: hi\n\nbody\n";
	struct mime_msg *m = mime_parse(raw, strlen(raw));

	is_str(m->subject, "hi", "headers after an mbox From_ line are read");
	is_str(m->text, "body\n", "and so is the body");
	ok(m->body_offset == strlen(raw) - 5, "body offset counts the From_ line");
	mime_free(m);
	ok(mime_is_message(raw, strlen(raw)), "a From_ line starts a message");
	ok(!mime_is_message("Hi Jo,\nthanks\n", 14), "bare text is not a message");
	ok(!mime_is_message("Note: bring pens\n\nok\n", 22), "a colon line of prose is not a header block");
}

/* Quoted-printable, property: random texts (long words, '=', a dot or
 * "From " at a line's start, blanks at a line's end, UTF-8) come back
 * unchanged through mime_build and mime_parse, in lines of at most 76
 * characters with no bare LF. */
static void
qp_round_trip(void)
{
	static const char *const bits[] = { "a", "word ", "=", ".", "From ", " ", "\t", "\n",
		"\xc3\xa9", "\xe2\x82\xac", "x=3D", "  \n", "\t\n", "\n.\n", "Z" };
	struct mime_out o = {
		.from_name = "A", .from_addr = "relay+t@m.test", .to_name = "B",
		.to_addr = "b@n.test", .subject = "qp", .message_id = "q@m.test", .date = 0,
	};
	int bad = 0, long_line = 0;
	unsigned seed = 7;

	for (int i = 0; i < 400; i++) {
		struct buf t = {0};
		int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 300;
		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			buf_adds(&t, bits[(seed >> 16) % (sizeof bits / sizeof *bits)]);
		}
		if (t.s[t.len - 1] != '\n')
			buf_addc(&t, '\n');
		char *out;
		size_t len;
		o.body = t.s;
		if (mime_build(&o, &out, &len) != MG_OK) {
			bad++;
			buf_free(&t);
			continue;
		}
		for (const char *l = out, *e; *l; l = e + 1) {
			if (!(e = strchr(l, '\n')))
				break;
			if (e == l || e[-1] != '\r' || e - l - 1 > 76)
				long_line++;
		}
		struct mime_msg *m = mime_parse(out, len);
		if (!m->text || strcmp(m->text, t.s)) {
			if (!bad)
				printf("#   body: [%s]\n#   came back: [%s]\n", t.s,
				    m->text ? m->text : "(none)");
			bad++;
		}
		mime_free(m);
		free(out);
		buf_free(&t);
	}
	ok(bad == 0, "quoted-printable: 400 random texts come back unchanged (%d did not)", bad);
	ok(long_line == 0, "quoted-printable: CRLF lines of at most 76 characters (%d not)",
	    long_line);
}

int
main(void)
{
	crash_guard();
	leak_guard();
	parsing();
	helpers();
	building();
	qp_round_trip();
	html_entities();
	mbox_from();
	flowed_and_charsets();
	parts_and_names();
	return tap_done();
}
