/* Unit tests for smtp: line-end normalisation and envelope checks (libcurl
 * sends CR/LF inside addresses raw). */
#include <stdlib.h>

#include "smtp.h"
#include "tap.h"

int
main(void)
{
	size_t n;
	const char *in = "a\nb\r\nc\rd\n.\ne";
	char *s = smtp_crlf(in, strlen(in), &n);

	is_str(s, "a\r\nb\r\nc\r\nd\r\n.\r\ne\r\n", "LF, CRLF and CR all become CRLF, final CRLF added");
	ok(n == strlen(s), "length reported");
	free(s);
	ok(smtp_envelope_ok("a@b.c"), "plain address ok");
	ok(!smtp_envelope_ok("a@b.c>\r\nRCPT TO:<x@evil"), "CR/LF injection refused");
	ok(!smtp_envelope_ok("a@b.c\n"), "bare LF refused");
	ok(!smtp_envelope_ok(""), "empty refused");
	ok(!smtp_envelope_ok("<a@b.c>"), "angle brackets refused");

	/* smtp_send refuses before any connection is attempted */
	struct conf c = { .smtp_url = "smtp://127.0.0.1:1", .smtp_timeout = 5 };
	struct smtp *sm = smtp_new(&c);
	struct buf err = {0};
	int code = -1;
	ok(smtp_send(sm, "a@b.c", "x@y.z\r\nRCPT TO:<evil@e.test>", "hi\n", 3, &code, &err)
	    == MG_BADINPUT, "smtp_send refuses an injected recipient");
	ok(code == 0, "no server reply: nothing was sent");
	buf_free(&err);
	ok(smtp_send(sm, "a@b.c", "x@y.z", "hi\n", 3, &code, &err) == MG_CONNFAIL,
	    "a closed port is a connection failure, not a message failure");
	buf_free(&err);
	smtp_free(sm);
	return tap_done();
}
