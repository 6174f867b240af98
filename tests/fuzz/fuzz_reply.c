/* libFuzzer target: reply extraction over arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "thread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *t;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	free(reply_extract(s, size));
	t = thread_topic(s);	/* subjects are C strings */
	free(t);
	free(s);
	return 0;
}
