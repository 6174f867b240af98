/* libFuzzer target: delivery reports (RFC 3464 and the informal kinds).
 * What they name is what the gateway pauses: every recipient must be a
 * lower-case address on one line, and named once. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct classify c;

	classify_message((const char *)data, size, &c);
	if (c.nrcpts && c.kind != CLASS_BOUNCE)
		abort();
	for (size_t i = 0; i < c.nrcpts; i++) {
		const char *r = c.rcpts[i];
		if (!strchr(r, '@') || strchr(r, '\n'))
			abort();
		for (const char *p = r; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r, c.rcpts[j]))
				abort();
	}
	free(classify_line(&c));
	classify_clear(&c);
	return 0;
}
