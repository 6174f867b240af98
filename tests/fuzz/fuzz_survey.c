/* libFuzzer target: a survey answer, read as survey_reply reads it (the new
 * text of the reply) for 1 to 20 questions.  An answer it takes is a score
 * from 1 to 5 for every question, or one CHANGE of a question that exists. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "survey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nq, canary;
	char *text, *free_text, why[200];
	int scores[22], change;

	if (size < 1)
		return 0;
	nq = 1 + data[0] % 20;
	text = reply_extract((const char *)data + 1, size - 1);
	canary = nq < 2 ? 2 : nq;	/* past the last question (CHANGE fills two) */
	scores[canary] = -1;
	why[0] = 0;
	if (survey_parse(text, nq, scores, &free_text, &change, why, sizeof why) == MG_OK) {
		if (change && (scores[0] < 1 || (size_t)scores[0] > nq || scores[1] < 1 ||
		    scores[1] > 5))
			abort();
		for (size_t i = 0; !change && i < nq; i++)
			if (scores[i] < 1 || scores[i] > 5)
				abort();
	} else if (!why[0])
		abort();	/* a refusal says why */
	if (scores[canary] != -1)
		abort();
	free(free_text);
	free(text);
	return 0;
}
