/* vis: escape what a terminal would act on (escape sequences, C1
 * controls, bidi overrides) so a coordinator reading participants' text
 * sees it instead of being fooled by it.  Pure. */
#include <stdint.h>

#include "vis.h"

/* Length of the UTF-8 sequence starting at s (at most n bytes): the code
 * point in *c; -1 for an invalid byte; 0 when n ends inside a sequence
 * that is valid so far. */
static int
utf8(const unsigned char *s, size_t n, uint32_t *c)
{
	int len;
	uint32_t min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, *c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, *c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, *c = s[0] & 0x07, min = 0x10000;
	else
		return -1;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		*c = *c << 6 | (s[i] & 0x3f);
		/* an overlong or surrogate start is wrong already here */
		if (i == 1 && ((len == 3 && *c < 0x20) || (len == 3 && *c >= 0x360 && *c < 0x380) ||
		    (len == 4 && *c < 0x10) || (len == 4 && *c >= 0x110)))
			return -1;
	}
	return *c < min ? -1 : len;
}

static int
hidden(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x61c || c == 0x200e || c == 0x200f ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t
vis_escape(struct buf *out, const char *s, size_t n, int more)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t c;
	int len;

	while (i < n) {
		if (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f)) {
			buf_addc(out, (char)p[i++]);
			continue;
		}
		if (p[i] == '\r') {
			if (i + 1 == n && more)
				break;
			if (i + 1 < n && p[i + 1] == '\n')
				buf_addc(out, '\r');
			else
				buf_adds(out, "\\r");
			i++;
			continue;
		}
		if (p[i] == 0x1b) {
			buf_adds(out, "\\e");
			i++;
			continue;
		}
		if (p[i] < 0x80) {
			buf_printf(out, "\\x%02X", p[i++]);
			continue;
		}
		len = utf8(p + i, n - i, &c);
		if (len == 0 && more)
			break;
		if (len <= 0) {
			buf_printf(out, "\\x%02X", p[i++]);
			continue;
		}
		if (hidden(c))
			buf_printf(out, "\\u%04X", (unsigned)c);
		else
			buf_add(out, p + i, (size_t)len);
		i += (size_t)len;
	}
	return i;
}
