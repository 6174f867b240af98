/* libFuzzer target: reply extraction, topics and survey answers over any text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "survey.h"
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
	{	/* survey answers are read from the same kind of text */
		int scores[20], change;
		char *free_text, why[200];
		survey_parse(s, 1 + size % 20, scores, &free_text, &change, why, sizeof why);
		free(free_text);
	}
	free(s);
	return 0;
}
