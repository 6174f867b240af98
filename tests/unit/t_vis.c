/* Unit tests for vis: what a terminal would act on is shown escaped; the
 * rest, UTF-8 letters included, is kept; a split sequence waits. */
#include <stdlib.h>

#include "tap.h"
#include "vis.h"

static void
esc(const char *in, const char *want, const char *what)
{
	struct buf b = {0};
	size_t used = vis_escape(&b, in, strlen(in), 0);

	is_str(b.s ? b.s : "", want, "%s", what);
	ok(used == strlen(in), "%s: every byte used", what);
	buf_free(&b);
}

int
main(void)
{
	esc("Hello Sam,\n\tsee you\r\n", "Hello Sam,\n\tsee you\r\n", "text, tab, CRLF kept");
	esc("Jos\xc3\xa9 \xe6\x9d\x8e \xf0\x9f\x99\x82", "Jos\xc3\xa9 \xe6\x9d\x8e \xf0\x9f\x99\x82",
	    "UTF-8 letters and emoji kept");
	esc("ok \x1b[8mhidden\x1b[0m", "ok \\e[8mhidden\\e[0m", "ESC as \\e");
	esc("bell\x07 nul-less\x7f", "bell\\x07 nul-less\\x7F", "BEL and DEL as \\xNN");
	esc("over\rwrite", "over\\rwrite", "a bare CR as \\r");
	esc("csi \xc2\x9b" "8m", "csi \\u009B8m", "C1 CSI (UTF-8) as \\u009B");
	esc("raw \x9b" "8m", "raw \\x9B8m", "a raw 8-bit CSI byte as \\x9B");
	esc("abc\xe2\x80\xae" "fdp.exe", "abc\\u202Efdp.exe", "RLO as \\u202E");
	esc("\xe2\x81\xa6x\xe2\x81\xa9 \xe2\x80\x8f \xd8\x9c", "\\u2066x\\u2069 \\u200F \\u061C",
	    "isolates, RLM and ALM");
	esc("\xe2\x80\x8b", "\xe2\x80\x8b", "a zero-width space is not a control: kept");
	esc("\xed\xa0\x80", "\\xED\\xA0\\x80", "a surrogate as bytes");
	esc("\xe0\x80\xaf", "\\xE0\\x80\\xAF", "an overlong as bytes");
	esc("\xee\x80\x80", "\xee\x80\x80", "U+E000 (private use) kept");
	esc("C:\\Users", "C:\\Users", "a backslash is not doubled");
	esc("end \xe2\x80", "end \\xE2\\x80", "a truncated sequence at the very end as bytes");

	/* a stream: a sequence split between two writes waits for the rest */
	struct buf b = {0};
	const char *s = "a\xe2\x80";
	size_t used = vis_escape(&b, s, strlen(s), 1);
	ok(used == 1 && b.len == 1, "split U+202E: the start is left for the next call");
	used = vis_escape(&b, "\xe2\x80\xae" "b\r", 5, 1);
	is_str(b.s, "a\\u202Eb", "then escaped whole; a final CR waits");
	ok(used == 4, "the CR is left over");
	vis_escape(&b, "\r\n", 2, 0);
	is_str(b.s, "a\\u202Eb\r\n", "a CR then LF in the next write is a line end");
	buf_free(&b);
	return tap_done();
}
